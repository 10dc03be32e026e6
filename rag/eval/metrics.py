"""Retrieval metrics from trec_eval (pytrec_eval), budgeted recall, and answer metrics.

Retrieval: ``recall@k`` is trec_eval's ``success_k`` (a relevant unit in the top k, the
project's long-standing Recall@k); ``trec_recall@k`` is trec_eval's ``recall_k`` (the share
of relevant units found, which overlapping chunks make smaller); ``mrr@10`` is
``recip_rank`` over a run cut at 10; ``ndcg@10`` is ``ndcg_cut_10``. Budgeted recall,
which no IR library has, asks whether the evidence ends within the first N characters of
the passages read in rank order: what a reader (or an LLM prompt) of that size would see.

Answers: ``answer_contains`` (an acceptable answer inside the answer), SQuAD's exact match
and F1 with KorQuAD's normalisation (character F1, the official KorQuAD measure), and F1
over Kiwi morphemes.
"""

from __future__ import annotations

import math
import re
import statistics
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from .relevance import Qrels, Run

KS = (1, 3, 5, 10)
BUDGETS = (500, 1000, 2000)
DEPTH = 10
_MARKERS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def score_runs(qrels: Qrels, run: Run, ks: Sequence[int] = KS) -> dict[str, dict[str, float]]:
    """Per-query metrics of `run` against `qrels`, computed by trec_eval.

    Every query of `run` gets a row; one without any relevant unit in the index (the
    evidence lies across a chunk boundary, say) scores 0, where trec_eval would skip it.
    """
    import pytrec_eval

    cut = ",".join(str(k) for k in ks)
    measures = {f"success.{cut}", f"recall.{cut}", "recip_rank", "ndcg_cut.10"}
    judged = {q: rel for q, rel in qrels.items() if any(g > 0 for g in rel.values())}
    top = {q: dict(sorted(units.items(), key=lambda kv: -kv[1])[:DEPTH])
           for q, units in run.items()}
    scored = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(
        {q: units for q, units in top.items() if q in judged}) if judged else {}
    out = {}
    for q in run:
        m = scored.get(q, {})
        row = {f"recall@{k}": m.get(f"success_{k}", 0.0) for k in ks}
        row["mrr@10"] = m.get("recip_rank", 0.0)
        row["ndcg@10"] = m.get("ndcg_cut_10", 0.0)
        row.update({f"trec_recall@{k}": m.get(f"recall_{k}", 0.0) for k in ks})
        out[q] = row
    return out


def budget_recall(ends: Sequence[int | None], lengths: Sequence[int],
                  budgets: Sequence[int] = BUDGETS) -> dict[str, float]:
    """Whether the evidence ends within the first N characters read.

    `ends[i]` is where the evidence ends inside passage i (None: not there), `lengths[i]`
    its length; passages are read in rank order.
    """
    read = 0
    first = math.inf
    for end, length in zip(ends, lengths):
        if end is not None:
            first = read + end
            break
        read += length
    return {f"recall@{n}ch": float(first <= n) for n in budgets}


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]}


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
    """How answers are compared for `answer_contains`: NFKC, lower case, no spaces or
    thousands separators, and a span of years as "2017-2020"."""
    text = _YEAR_RANGE.sub(r"\1-\2", unicodedata.normalize("NFKC", text))
    return re.sub(r"[\s,]", "", text).lower()


def answer_contains(text: str, answers: Sequence[str]) -> bool:
    """Whether any acceptable answer occurs in `text`."""
    normal = normalize_answer(text)
    return any(normalize_answer(a) and normalize_answer(a) in normal for a in answers)


def strip_markers(text: str) -> str:
    """The answer without its citation markers, which are no words of it."""
    return _MARKERS.sub(" ", text).strip()


# KorQuAD's evaluation blanks these before dropping ASCII punctuation.
_KORQUAD_BLANKED = re.compile(r"['\"《》<>〈〉()‘’]")
_PUNCTUATION = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """KorQuAD 1.0's answer normalisation: quotes and brackets blanked, ASCII
    punctuation dropped, lower case, whitespace runs collapsed."""
    text = _KORQUAD_BLANKED.sub(" ", text.lower())
    return " ".join("".join(ch for ch in text if ch not in _PUNCTUATION).split())


def exact_match(text: str, answers: Sequence[str]) -> float:
    """SQuAD exact match: 1 when the normalised answer equals a normalised gold answer."""
    predicted = squad_normalize(strip_markers(text))
    return float(any(predicted == squad_normalize(a) for a in answers if a.strip()))


def char_f1(text: str, answers: Sequence[str]) -> float:
    """KorQuAD's F1: over the characters of the normalised words (spaces not counted), the
    best over the gold answers."""
    predicted = list(squad_normalize(strip_markers(text)).replace(" ", ""))
    return max((_f1(predicted, list(squad_normalize(a).replace(" ", ""))) for a in answers),
               default=0.0)


def token_f1(text: str, answers: Sequence[str]) -> float:
    """Best F1 of `text` against the acceptable answers, on Kiwi morphemes."""
    from ..bm25 import tokenize_korean

    predicted = tokenize_korean(strip_markers(text))
    return max((_f1(predicted, tokenize_korean(a)) for a in answers), default=0.0)


def _f1(predicted: list[str], gold: list[str]) -> float:
    common = sum((Counter(predicted) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def share(values: Iterable[object]) -> float | None:
    values = [float(v) for v in values]  # type: ignore[arg-type]
    return round(statistics.fmean(values), 4) if values else None
