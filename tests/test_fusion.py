"""Fusion: reciprocal-rank and weighted min-max, with deterministic tie-breaking."""

import pytest

from rag.fusion import Ranking, fuse


def ranking(name, rows, scores=None, weight=1.0):
    scores = scores if scores is not None else [1.0 / (i + 1) for i in range(len(rows))]
    return Ranking(name, tuple(rows), tuple(scores), weight)


def test_rrf_golden_order_and_scores():
    dense = ranking("dense", [3, 1, 2])
    bm25 = ranking("bm25", [1, 4, 3])
    # k = 60:
    #   row 1: dense rank 2, bm25 rank 1 -> 1/62 + 1/61 = 0.0325224...
    #   row 3: dense rank 1, bm25 rank 3 -> 1/61 + 1/63 = 0.0322664...
    #   row 4: bm25 rank 2               -> 1/62        = 0.0161290...
    #   row 2: dense rank 3              -> 1/63        = 0.0158730...
    fused = fuse([dense, bm25], "rrf", rrf_k=60)
    assert [row for row, _ in fused] == [1, 3, 4, 2]
    assert [score for _, score in fused] == pytest.approx(
        [1 / 62 + 1 / 61, 1 / 61 + 1 / 63, 1 / 62, 1 / 63])


def test_rrf_ignores_score_values():
    a = fuse([ranking("d", [3, 1, 2], [0.9, 0.8, 0.1]), ranking("b", [1, 4, 3], [99, 2, 1])])
    b = fuse([ranking("d", [3, 1, 2], [0.5, 0.4, 0.3]), ranking("b", [1, 4, 3], [3, 2, 1])])
    assert a == b


def test_rrf_ties_go_to_best_single_rank_then_lower_row():
    # k = 1, so every contribution is an exact binary fraction:
    #   row 8: A rank 1          -> 1/2            = 0.5, best rank 1
    #   row 5: B rank 1          -> 1/2            = 0.5, best rank 1
    #   row 0: A rank 3, B rank 3 -> 1/4 + 1/4     = 0.5, best rank 3
    #   row 7: A rank 2          -> 1/3, best rank 2
    #   row 3: B rank 2          -> 1/3, best rank 2
    a = ranking("A", [8, 7, 0])
    b = ranking("B", [5, 3, 0])
    expected = [(5, 0.5), (8, 0.5), (0, 0.5), (3, 1 / 3), (7, 1 / 3)]
    assert fuse([a, b], "rrf", rrf_k=1) == expected
    assert fuse([b, a], "rrf", rrf_k=1) == expected  # input order does not matter


def test_rrf_weights_scale_contributions():
    fused = fuse([ranking("dense", [1, 2], weight=2.0), ranking("bm25", [2, 1], weight=1.0)],
                 "rrf", rrf_k=60)
    # row 1: 2/61 + 1/62; row 2: 2/62 + 1/61
    assert fused == [(1, pytest.approx(2 / 61 + 1 / 62)), (2, pytest.approx(2 / 62 + 1 / 61))]


def test_weighted_min_max_golden():
    dense = ranking("dense", [1, 2, 3], [4.0, 2.0, 0.0], weight=1.0)
    bm25 = ranking("bm25", [3, 1, 4], [12.0, 6.0, 3.0], weight=0.5)
    # min-max: dense -> 1, 0.5, 0; bm25 -> 1, 3/9, 0
    #   row 1: 1 + 0.5 * 1/3 = 1.1667
    #   row 3: 0 + 0.5 * 1   = 0.5, best rank 1 (bm25)
    #   row 2: 0.5           = 0.5, best rank 2 (dense)
    #   row 4: 0.5 * 0       = 0.0
    fused = fuse([dense, bm25], "weighted")
    assert fused == [(1, pytest.approx(1 + 0.5 / 3)), (3, 0.5), (2, 0.5), (4, 0.0)]


def test_weighted_equal_scores_normalise_to_one():
    fused = fuse([ranking("bm25", [2, 9], [3.0, 3.0])], "weighted")
    assert fused == [(2, 1.0), (9, 1.0)]


def test_empty_rankings():
    assert fuse([], "rrf") == []
    assert fuse([ranking("dense", []), ranking("bm25", [])], "weighted") == []


def test_single_ranking_keeps_its_order():
    fused = fuse([ranking("bm25", [4, 2, 9])], "rrf", rrf_k=60)
    assert [row for row, _ in fused] == [4, 2, 9]


def test_unknown_method_raises():
    with pytest.raises(ValueError, match="unknown fusion method 'max'"):
        fuse([ranking("dense", [1])], "max")
