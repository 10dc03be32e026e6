"""Fit the abstention confidence (rag/abstention_model.json) on evaluation runs of
several corpora, and report it against the rules on questions it was not fitted on.

Each run is the JSON of `rag eval --mode extractive --no-ablations --holdout-docs N --json`:
its answer rows carry the evidence features, whether the question is answerable, and the
documents that answer it. Held-out-document questions ("@holdout") are unanswerable.

    .venv/bin/rag eval --qa /tmp/rag-squad-eval/korquad-dev.json --corpus-from-qa \\
        --corpus /tmp/rag-squad-eval/corpus --index /tmp/rag-squad-eval/index \\
        --mode extractive --no-ablations --holdout-docs 20 --seed 0 --json > korquad.json
    .venv/bin/rag eval --mode extractive --no-ablations --holdout-docs 1 --seed 0 \\
        --json > own.json
    .venv/bin/python bench/fit_abstention.py own=own.json korquad=korquad.json \\
        --write rag/abstention_model.json --out docs/abstention.json

Split: a question is in the fitting half or the reporting half by a hash of the document
that answers it (of its id where the set names no document, as in a two-report corpus), so
no document's questions are in both halves of a many-document corpus. Every group (corpus
× language × answerable, written unanswerable, held-out document) weighs the same in the
fit and in the choice of the threshold, so 5,300 Wikipedia questions do not drown 400 of
the project's. The threshold is the lowest at which every unanswerable group of the
fitting half is abstained on at least `--min-abstention` of the time (0.9, the goal the
project holds its unanswerable questions to), so as few answerable questions as that
allows are refused. `--languages` (default ko) names the question languages fitted and decided for;
the rules decide for the others.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.abstention import ConfidenceModel, features_of  # noqa: E402
from rag.eval.calibration import auroc  # noqa: E402

log = logging.getLogger("bench.fit_abstention")


def rows_of(corpus: str, path: Path, models: set[str]) -> list[dict[str, Any]]:
    """The answer rows of one run, each with its corpus, split and group."""
    result = json.loads(path.read_text(encoding="utf-8"))
    models.add(result["model"])
    rows = result["answers"]["per_query"]
    docs = {r["id"]: r.get("docs") or [] for r in rows}
    # A document split only means something when the corpus has many documents.
    by_document = len({d for v in docs.values() for d in v}) > 10
    out = []
    for r in rows:
        if not r.get("evidence"):
            continue
        base = r["id"].removesuffix("@holdout")
        docs_of = docs.get(base) or []
        key = docs_of[0] if docs_of and by_document else base
        half = "fit" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 \
            else "report"
        lang = "ko" if r["lang"] == "ko" else "en"
        kind = ("answerable" if r["answerable"] else
                "held-out" if r["id"].endswith("@holdout") else "unanswerable")
        group = f"{corpus}/{lang}/{kind}"
        out.append({**r, "corpus": corpus, "half": half, "group": group, "lang": lang})
    return out


def design(rows: list[dict[str, Any]], names: list[str]) -> np.ndarray:
    return np.array([[features_of(r["evidence"], r["lang"])[n] for n in names] for r in rows])


def group_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["group"]] += 1
    return dict(sorted(counts.items()))


def group_weights(rows: list[dict[str, Any]]) -> np.ndarray:
    counts = group_counts(rows)
    w = np.array([1.0 / counts[r["group"]] for r in rows])
    return w * len(rows) / w.sum()


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression (the bias is not penalised)."""
    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[1:] + theta[0]
        p = 1 / (1 + np.exp(-z))
        eps = 1e-12
        nll = -np.sum(w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
        g = w * (p - y)
        grad = np.concatenate([[g.sum()], x.T @ g + 2 * l2 * theta[1:]])
        return nll + l2 * float(theta[1:] @ theta[1:]), grad

    theta = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B").x
    return theta[1:], float(theta[0])


def decided_right(rows: list[dict[str, Any]], answered: list[bool]) -> dict[str, float]:
    by: dict[str, list[bool]] = defaultdict(list)
    for r, a in zip(rows, answered):
        by[r["group"]].append(a == r["answerable"])
    return {g: sum(v) / len(v) for g, v in sorted(by.items())}


def choose_threshold(rows: list[dict[str, Any]], conf: np.ndarray,
                     min_abstention: float | None = None) -> float:
    """The threshold the model abstains below, chosen on the fitting half.

    With `min_abstention`, the lowest one (the fewest answerable questions refused) at
    which every unanswerable group (written, held-out documents) is abstained on at least
    that often: a user is told "not in the reports" for a question they could have had
    answered as seldom as the unanswerable ones allow. Without it, or when no threshold
    reaches it, the one that maximises the mean over the groups of the share decided
    right.
    """
    grid = [round(float(t), 2) for t in np.linspace(0.02, 0.98, 97)]
    if min_abstention is not None:
        for t in grid:
            right = decided_right(rows, list(conf >= t))
            if all(v >= min_abstention for g, v in right.items()
                   if not g.endswith("/answerable")):
                return t
        log.warning("no threshold abstains on %.0f%% of every unanswerable group; "
                    "choosing by the mean share decided right", 100 * min_abstention)
    best, best_t = -1.0, 0.5
    for t in grid:
        score = float(np.mean(list(decided_right(rows, list(conf >= t)).values())))
        if score > best:
            best, best_t = score, t
    return best_t


def report(rows: list[dict[str, Any]], conf: np.ndarray, threshold: float) -> dict[str, Any]:
    fitted = decided_right(rows, list(conf >= threshold))
    rules = decided_right(rows, [not r["abstained"] for r in rows])
    y = np.array([r["answerable"] for r in rows], dtype=float)
    out: dict[str, Any] = {}
    counts = group_counts(rows)
    for g in fitted:
        n = counts[g]
        label = "answered" if g.endswith("/answerable") else "abstained"
        out[g] = {"n": n, f"fitted_{label}": round(fitted[g], 4),
                  f"rules_{label}": round(rules[g], 4)}
    for corpus in sorted({r["corpus"] for r in rows}):
        idx = np.array([r["corpus"] == corpus for r in rows])
        out[f"{corpus}/auroc"] = {"fitted": round(auroc(conf[idx], y[idx]), 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="NAME=PATH of a `rag eval --json` output")
    ap.add_argument("--l2", type=float, default=1.0, help="L2 penalty on the weights")
    ap.add_argument("--min-abstention", type=float, default=0.9,
                    help="the threshold is the lowest at which every unanswerable group of "
                         "the fitting half is abstained on this often (0 for the threshold "
                         "that maximises the mean share decided right)")
    ap.add_argument("--languages", default="ko",
                    help="question languages to fit and decide for, comma-separated (ko,en); "
                         "the rules decide for the others")
    ap.add_argument("--write", type=Path, help="write the fitted model here")
    ap.add_argument("--out", type=Path, help="write the report (JSON) here")
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    models: set[str] = set()
    for spec in args.runs:
        name, _, path = spec.partition("=")
        rows += rows_of(name, Path(path), models)
    languages = tuple(sorted(set(args.languages.split(","))))
    if set(languages) - {"ko", "en"}:
        raise SystemExit(f"--languages takes ko and en, not {args.languages}")
    rows = [r for r in rows if r["lang"] in languages]
    if len(models) != 1:
        raise SystemExit(f"the runs used different embedding models ({sorted(models)}); "
                         "fit on runs of one model")
    names = list(features_of({}, "ko"))
    fit_rows = [r for r in rows if r["half"] == "fit"]
    rep_rows = [r for r in rows if r["half"] == "report"]
    x = design(fit_rows, names)
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    y = np.array([r["answerable"] for r in fit_rows], dtype=float)
    weights, bias = fit((x - means) / scales, y, group_weights(fit_rows), args.l2)
    model = ConfidenceModel(tuple(names), tuple(round(float(v), 6) for v in weights),
                            round(bias, 6), tuple(round(float(v), 6) for v in means),
                            tuple(round(float(v), 6) for v in scales), 0.5, {},
                            languages)
    conf_fit = np.array([model.confidence(r["evidence"], r["lang"]) for r in fit_rows])
    threshold = choose_threshold(fit_rows, conf_fit, args.min_abstention or None)
    model = replace(model, threshold=threshold, fitted_on={
        "model": next(iter(models)), "runs": [s.partition("=")[0] for s in args.runs],
        "groups": group_counts(fit_rows), "l2": args.l2,
        "min_abstention": args.min_abstention,
        "split": "sha256 of the answering document (or id) mod 2 == 0",
        "script": "bench/fit_abstention.py"})
    conf_rep = np.array([model.confidence(r["evidence"], r["lang"]) for r in rep_rows])
    result = {"threshold": threshold, "languages": list(languages),
              "weights": dict(zip(names, model.weights)), "bias": model.bias,
              "fit": report(fit_rows, conf_fit, threshold),
              "report": report(rep_rows, conf_rep, threshold)}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.write:
        args.write.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
