"""Did a change help, or is it noise? A paired test per metric between two evaluation runs.

Both runs are the JSON that ``rag eval --json`` prints or ``--report DIR`` writes as
``metrics.json``. Per metric, the questions both runs answered are paired and the mean
difference (B − A) is tested by a paired randomization test (B's and A's values swapped
per question at random; scipy.stats.permutation_test, exact when the pairs are few),
with a bootstrap 95% interval of the difference. For 0/1 metrics the questions that
flipped are listed. Identical runs give p = 1 and no flips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import QueryError

# Answer metrics compared per question (rows of result["answers"]["per_query"]).
ANSWER_METRICS = ("contains", "exact_match", "char_f1", "f1", "correct_abstention")
_RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10",
                      "recall@1000ch")


def load_run(path: Path) -> dict[str, Any]:
    """A run's metrics: a JSON file, or a report folder holding metrics.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QueryError(f"cannot read the evaluation run {path} ({exc}); give the JSON of "
                         "`rag eval --json` or a `--report` folder") from exc
    if not isinstance(data, dict) or "retrieval" not in data:
        raise QueryError(f"{path} is not the output of `rag eval` (no 'retrieval' runs)")
    return data


def per_query(result: dict[str, Any], label: str = "default") -> dict[str, dict[str, float]]:
    """metric -> question id -> value, for the retrieval run `label` and the answers."""
    out: dict[str, dict[str, float]] = {}
    run = next((r for r in result["retrieval"] if r["label"] == label), None)
    if run is None and result["retrieval"]:
        run = result["retrieval"][0]
    for row in run["per_query"] if run else []:
        for metric in _RETRIEVAL_METRICS:
            if metric in row:
                out.setdefault(metric, {})[row["id"]] = float(row[metric])
    for row in (result.get("answers") or {}).get("per_query", []):
        for metric in ANSWER_METRICS:
            if row.get(metric) is not None:
                out.setdefault(metric, {})[row["id"]] = float(row[metric])
    return out


def compare_runs(a: dict[str, Any], b: dict[str, Any], resamples: int = 10000,
                 seed: int = 0, names: tuple[str, str] | None = None) -> dict[str, Any]:
    """Per metric: mean of A and B on the shared questions, the difference, its bootstrap
    interval, the randomization test's p-value, and the questions that flipped. `names`
    label the runs (their paths); by default each run's test set names it."""
    values_a, values_b = per_query(a), per_query(b)
    metrics = []
    for metric in [m for m in values_a if m in values_b]:
        ids = sorted(set(values_a[metric]) & set(values_b[metric]))
        if not ids:
            continue
        x = np.array([values_a[metric][i] for i in ids])
        y = np.array([values_b[metric][i] for i in ids])
        row: dict[str, Any] = {
            "metric": metric, "n": len(ids), "a": round(float(x.mean()), 4),
            "b": round(float(y.mean()), 4), "difference": round(float((y - x).mean()), 4),
            "p_value": round(paired_p_value(x, y, resamples, seed), 4),
            "ci95": [round(v, 4) for v in bootstrap_interval(y - x, resamples, seed)],
        }
        if set(np.unique(np.concatenate([x, y]))) <= {0.0, 1.0}:
            row["gained"] = [i for i, u, v in zip(ids, x, y) if v > u]
            row["lost"] = [i for i, u, v in zip(ids, x, y) if v < u]
        metrics.append(row)
    only = sorted(set().union(*values_a.values()) ^ set().union(*values_b.values())) \
        if values_a and values_b else []
    name_a, name_b = names or (a.get("qa"), b.get("qa"))
    return {"a": name_a, "b": name_b, "qa": [a.get("qa"), b.get("qa")],
            "resamples": resamples, "seed": seed,
            "metrics": metrics, "unpaired_questions": only}


def paired_p_value(x: np.ndarray, y: np.ndarray, resamples: int = 10000, seed: int = 0
                   ) -> float:
    """Two-sided p-value of mean(y − x) under the null that each pair's labels are
    exchangeable. No difference at all gives exactly 1."""
    from scipy.stats import permutation_test

    if np.array_equal(x, y):
        return 1.0
    test = permutation_test((x, y), lambda u, v: np.mean(v - u), permutation_type="samples",
                            n_resamples=resamples, alternative="two-sided",
                            random_state=np.random.default_rng(seed))
    return float(min(1.0, test.pvalue))


def bootstrap_interval(diff: np.ndarray, resamples: int = 10000, seed: int = 0
                       ) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean difference."""
    if len(diff) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    # In batches, so thousands of questions do not need resamples × n indices at once.
    means = np.concatenate([
        diff[rng.integers(0, len(diff), size=(min(500, resamples - i), len(diff)))].mean(axis=1)
        for i in range(0, resamples, 500)])
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)
