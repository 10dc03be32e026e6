"""How well a confidence score tells answerable questions from unanswerable ones.

Reliability (the reliability diagram's bins: mean confidence against the share of
answerable questions in each), expected calibration error, Brier score, and the area
under the ROC curve (how well the score ranks answerable above unanswerable, whatever
its scale). A score can rank well (high AUROC) and still be badly calibrated (high
ECE): a threshold on it works, but it should not be shown as a probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def calibration(confidence: Sequence[float], answerable: Sequence[bool], bins: int = 10
                ) -> dict[str, Any] | None:
    """Calibration of `confidence` (clipped to [0, 1]) as the probability of answerable;
    None unless both kinds of question are present."""
    p = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    y = np.asarray(answerable, dtype=float)
    if len(p) == 0 or y.min() == y.max():
        return None
    edges = np.linspace(0.0, 1.0, bins + 1)
    # A confidence of exactly 1.0 belongs to the last bin.
    which = np.minimum(np.searchsorted(edges, p, side="right") - 1, bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        mean_conf, frac = float(p[mask].mean()), float(y[mask].mean())
        ece += mask.sum() / len(p) * abs(mean_conf - frac)
        rows.append({"lo": round(float(edges[b]), 2), "hi": round(float(edges[b + 1]), 2),
                     "n": int(mask.sum()), "confidence": round(mean_conf, 4),
                     "answerable": round(frac, 4)})
    return {"n": len(p), "n_answerable": int(y.sum()), "ece": round(float(ece), 4),
            "brier": round(float(np.mean((p - y) ** 2)), 4),
            "auroc": round(auroc(p, y), 4), "bins": rows}


def auroc(scores: Sequence[float], labels: Sequence[float]) -> float:
    """The probability that a random positive scores above a random negative (ties: ½),
    from the ranks (Mann–Whitney U)."""
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
