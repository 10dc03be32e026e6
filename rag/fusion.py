"""Fusing several rankings of the same chunks into one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Ranking:
    """One retriever's result: chunk rows best first, with that retriever's scores."""

    name: str
    rows: tuple[int, ...]
    scores: tuple[float, ...]
    weight: float = 1.0


def fuse(rankings: Sequence[Ranking], method: str = "rrf", rrf_k: int = 60
         ) -> list[tuple[int, float]]:
    """Fused (row, score) pairs, best first.

    "rrf" (reciprocal-rank fusion) uses ranks only, which suits a cosine and a BM25
    score that live on unrelated scales; "weighted" min-max normalises each score
    list and adds them. Ties go to the row ranked best by any retriever, then to the
    lower row number, so results never depend on dictionary order.
    """
    totals: dict[int, float] = {}
    best_rank: dict[int, int] = {}
    for ranking in rankings:
        if method == "rrf":
            contributions = [ranking.weight / (rrf_k + rank)
                             for rank in range(1, len(ranking.rows) + 1)]
        elif method == "weighted":
            contributions = [ranking.weight * s for s in _min_max(ranking.scores)]
        else:
            raise ValueError(f"unknown fusion method {method!r}; use rrf or weighted")
        for rank, (row, value) in enumerate(zip(ranking.rows, contributions), start=1):
            totals[row] = totals.get(row, 0.0) + value
            best_rank[row] = min(best_rank.get(row, rank), rank)
    ordered = sorted(totals, key=lambda row: (-totals[row], best_rank[row], row))
    return [(row, totals[row]) for row in ordered]


def _min_max(scores: Sequence[float]) -> list[float]:
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if hi == lo:
        return [1.0 for _ in scores]
    return [(s - lo) / (hi - lo) for s in scores]
