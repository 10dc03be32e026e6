"""Measuring retrieval and answers against a Q&A test set, by language and question type.

Retrieval: recall@k, MRR@10, nDCG@10 (a hit is a chunk containing the evidence phrase).
Answers: answer-contains, token F1, citation precision, abstention precision and recall.
"""

from __future__ import annotations

import json
import math
import re
import resource
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

    `search(question)` returns the top-10 hits (or bare passage texts); `all_texts` are
    every chunk of the index, to count the relevant ones for nDCG.
    """
    per_query = []
    latencies = []
    for item in items:
        if not item.answerable:
            continue
        t0 = time.perf_counter()
        found = list(search(item.question))
        latencies.append((time.perf_counter() - t0) * 1000)
        texts = [x if isinstance(x, str) else x.text for x in found]
        n_relevant = sum(relevance(all_texts, item.evidence))
        metrics = rank_metrics(relevance(texts, item.evidence), n_relevant)
        per_query.append({"id": item.id, "lang": item.lang, "type": item.type, **metrics,
                          "retrieved": [getattr(x, "chunk_id", "") for x in found]})
    return summarize(per_query, latencies, label)


def summarize(per_query: list[dict[str, Any]], latencies: list[float], label: str
              ) -> dict[str, Any]:
    metric_keys = [k for k in per_query[0] if k not in ("id", "lang", "type", "retrieved")
                   ] if per_query else []
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


# A span of years written out ("from 2017 to 2020", "2025년부터 2035년까지") states the same
# range as "2017–2020", and an LLM writes it out more often than not.
_YEAR_RANGE = re.compile(
    r"(?:from\s+)?((?:19|20)\d\d)\s*년?\s*(?:부터|to|until|through|[-–—~])\s*"
    r"((?:19|20)\d\d)\s*년?(?:\s*까지)?", re.IGNORECASE)


def normalize_answer(text: str) -> str:
    """How answers are compared: NFKC, lower case, no spaces or thousands separators, and
    a span of years as "2017-2020"."""
    text = _YEAR_RANGE.sub(r"\1-\2", unicodedata.normalize("NFKC", text))
    return re.sub(r"[\s,]", "", text).lower()


def answer_contains(text: str, answers: Sequence[str]) -> bool:
    """Whether any acceptable answer occurs in `text`."""
    normal = normalize_answer(text)
    return any(normalize_answer(a) and normalize_answer(a) in normal for a in answers)


def token_f1(text: str, answers: Sequence[str]) -> float:
    """Best token F1 of `text` against the acceptable answers, on Korean morphemes."""
    from .bm25 import tokenize_korean

    # Citation markers are not words of the answer.
    predicted = tokenize_korean(re.sub(r"\s*\[\d+(?:\s*,\s*\d+)*\]", " ", text))
    best = 0.0
    for answer in answers:
        gold = tokenize_korean(answer)
        common = sum(min(predicted.count(t), gold.count(t)) for t in set(gold))
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def citation_correct(passage: str, item: QAItem) -> bool:
    """A cited passage is right when it holds the evidence phrase or a stated answer."""
    if item.evidence and normalize(item.evidence) in normalize(passage):
        return True
    return answer_contains(passage, item.answers)


def evaluate_answers(items: Sequence[QAItem], answer: Callable[[QAItem], dict[str, Any]],
                     label: str) -> dict[str, Any]:
    """Answer metrics over `items`; `answer(item)` returns an Answer.to_dict()."""
    per_query = []
    stages: dict[str, list[float]] = defaultdict(list)
    for item in items:
        t0 = time.perf_counter()
        result = answer(item)
        total = (time.perf_counter() - t0) * 1000
        for stage, ms in {**result.get("timings", {}), "total": total}.items():
            stages[stage].append(ms)
        translation = result.get("search", {}).get("timings_ms", {}).get("translation")
        if translation is not None:
            stages["translation"].append(translation)
        citations = result.get("citations", [])
        row = {
            "id": item.id, "lang": item.lang, "type": item.type,
            "answerable": item.answerable, "abstained": result["abstained"],
            "answer": result["answer"],
            "cited": [c["chunk_id"] for c in citations],
            "closest": [h["chunk_id"] for h in result.get("closest", [])],
        }
        if item.answerable:
            row["contains"] = (not result["abstained"]
                               and answer_contains(result["answer"], item.answers))
            row["f1"] = 0.0 if result["abstained"] else token_f1(result["answer"], item.answers)
            row["citations_correct"] = [citation_correct(c["text"], item) for c in citations]
        per_query.append(row)
    return {"label": label, "by_lang": _answer_summary(per_query),
            "latency_ms": {k: latency_summary(v) for k, v in sorted(stages.items())},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "per_query": per_query}


def _answer_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in sorted({r["lang"] for r in rows}):
        answerable = [r for r in rows if r["lang"] == lang and r["answerable"]]
        unanswerable = [r for r in rows if r["lang"] == lang and not r["answerable"]]
        marks = [ok for r in answerable for ok in r["citations_correct"]]
        abstained = [r for r in rows if r["lang"] == lang and r["abstained"]]
        out[lang] = {
            "n_answerable": len(answerable),
            "answer_contains": _share(r["contains"] for r in answerable),
            "token_f1": _share(r["f1"] for r in answerable),
            "citation_precision": _share(marks),
            "citations": len(marks),
            "false_abstention": _share(r["abstained"] for r in answerable),
            "n_unanswerable": len(unanswerable),
            "abstention_recall": _share(r["abstained"] for r in unanswerable),
            "abstention_precision": _share(not r["answerable"] for r in abstained),
        }
    return out


def _share(values: Iterable[Any]) -> float | None:
    values = [float(v) for v in values]
    return round(statistics.fmean(values), 4) if values else None
