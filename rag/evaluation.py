"""Measuring retrieval against a Q&A test set: recall@k, MRR@10 and nDCG@10, by slice."""

from __future__ import annotations

import json
import math
import statistics
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RagError

KS = (1, 3, 5, 10)
QA_KEYS = {"id", "lang", "question", "doc", "evidence", "answers", "type"}


@dataclass(frozen=True)
class QAItem:
    """One test question; `evidence` is None for questions the reports cannot answer."""

    id: str
    lang: str
    question: str
    doc: str | None
    evidence: str | None
    answers: tuple[str, ...]
    type: str

    @property
    def answerable(self) -> bool:
        return self.evidence is not None


def load_qa(path: Path) -> list[QAItem]:
    """Read a Q&A JSONL file of the documented schema."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read the Q&A file {path} ({exc}); give a UTF-8 JSONL file") \
            from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{path}:{number} is not valid JSON ({exc.msg})") from exc
        missing = QA_KEYS - set(row) if isinstance(row, dict) else QA_KEYS
        if missing:
            raise RagError(f"{path}:{number} lacks the field(s) {', '.join(sorted(missing))}")
        if not (isinstance(row["question"], str) and isinstance(row["answers"], list)
                and all(isinstance(row[k], str | None) for k in ("doc", "evidence"))):
            raise RagError(f"{path}:{number}: question must be a string, answers a list, "
                           "doc and evidence strings or null")
        items.append(QAItem(row["id"], row["lang"], row["question"], row["doc"],
                            row["evidence"], tuple(row["answers"]), row["type"]))
    if not items:
        raise RagError(f"the Q&A file {path} holds no questions")
    return items


def normalize(text: str) -> str:
    """NFKC with all whitespace runs collapsed to one space: how evidence is matched."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def relevance(texts: Sequence[str], evidence: str) -> list[bool]:
    """Which of `texts` contain the evidence phrase."""
    needle = normalize(evidence)
    return [needle in normalize(t) for t in texts]


def rank_metrics(relevant: Sequence[bool], n_relevant: int, ks: Iterable[int] = KS
                 ) -> dict[str, float]:
    """Recall@k (any relevant passage in the top k), MRR@10 and nDCG@10 for one query.

    `relevant` flags the returned passages in rank order; `n_relevant` is how many
    passages of the whole index are relevant (the ideal ranking for nDCG).
    """
    first = next((i for i, r in enumerate(relevant) if r), None)
    out = {f"recall@{k}": float(first is not None and first < k) for k in ks}
    out["mrr@10"] = 1.0 / (first + 1) if first is not None and first < 10 else 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(relevant[:10]) if r)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_relevant, 10)))
    out["ndcg@10"] = dcg / ideal if ideal else 0.0
    return out


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]}


def evaluate_retrieval(items: Sequence[QAItem], all_texts: Sequence[str],
                       search: Callable[[str], Sequence[str]], label: str
                       ) -> dict[str, Any]:
    """Metrics of one retrieval configuration over the answerable items.

    `search(question)` returns the top-10 passage texts; `all_texts` are every chunk
    of the index, to count the relevant ones for nDCG.
    """
    per_query = []
    latencies = []
    for item in items:
        if not item.answerable:
            continue
        t0 = time.perf_counter()
        texts = list(search(item.question))
        latencies.append((time.perf_counter() - t0) * 1000)
        n_relevant = sum(relevance(all_texts, item.evidence))
        metrics = rank_metrics(relevance(texts, item.evidence), n_relevant)
        per_query.append({"id": item.id, "lang": item.lang, "type": item.type, **metrics})
    return summarize(per_query, latencies, label)


def summarize(per_query: list[dict[str, Any]], latencies: list[float], label: str
              ) -> dict[str, Any]:
    metric_keys = [k for k in per_query[0] if k not in ("id", "lang", "type")] if per_query else []
    by: dict[str, dict[str, list[dict[str, float]]]] = {"lang": defaultdict(list),
                                                        "type": defaultdict(list)}
    for row in per_query:
        numbers = {k: row[k] for k in metric_keys}
        by["lang"][row["lang"]].append(numbers)
        by["type"][row["type"]].append(numbers)
    return {
        "label": label,
        "n": len(per_query),
        "overall": mean_metrics([{k: r[k] for k in metric_keys} for r in per_query]),
        "by_lang": {k: {"n": len(v), **mean_metrics(v)} for k, v in sorted(by["lang"].items())},
        "by_type": {k: {"n": len(v), **mean_metrics(v)} for k, v in sorted(by["type"].items())},
        "latency_ms": latency_summary(latencies),
        "per_query": per_query,
    }


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    if not latencies:
        return {}
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2),
            "n": len(ordered)}
