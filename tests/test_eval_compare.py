"""`rag eval --compare`: the paired randomization test and the questions that flipped,
against values worked out by hand."""

import json

import numpy as np
import pytest

from rag.errors import QueryError
from rag.eval.compare import bootstrap_interval, compare_runs, load_run, paired_p_value


def run_of(values: dict[str, tuple[float, float]], answers: dict[str, bool] | None = None,
           name: str = "run.json") -> dict:
    """A minimal `rag eval` result: the default run's per-query recall@5 and mrr@10."""
    return {"qa": name, "retrieval": [
        {"label": "bm25", "per_query": [{"id": "q1", "recall@5": 0.0, "mrr@10": 0.0}]},
        {"label": "default", "per_query": [
            {"id": q, "recall@5": r, "mrr@10": m} for q, (r, m) in values.items()]}],
        "answers": None if answers is None else {"per_query": [
            {"id": q, "contains": ok} for q, ok in answers.items()]}}


A = run_of({"q1": (1, 1.0), "q2": (0, 0.0), "q3": (1, 0.5), "q4": (0, 0.0)}, name="a")
B = run_of({"q1": (1, 1.0), "q2": (1, 0.5), "q3": (1, 0.5), "q4": (1, 1.0)}, name="b")


def test_identical_runs_give_p_one_and_no_flips():
    result = compare_runs(A, A)
    assert result["metrics"]
    for m in result["metrics"]:
        assert m["p_value"] == 1.0 and m["difference"] == 0.0
        assert m["ci95"] == [0.0, 0.0]
        assert m.get("gained", []) == [] and m.get("lost", []) == []
    assert result["unpaired_questions"] == []


def test_p_value_and_flips_by_hand():
    # recall@5 differs on q2 and q4 (0 → 1). Under the null each pair's labels swap: the
    # two differing pairs give mean differences +0.5, 0, 0, −0.5 with equal chance, so
    # P(|T| ≥ 0.5) = 2/4. The test is exact here (2^4 relabellings < resamples).
    result = compare_runs(A, B)
    recall = next(m for m in result["metrics"] if m["metric"] == "recall@5")
    assert (recall["n"], recall["a"], recall["b"], recall["difference"]) == (4, 0.5, 1.0, 0.5)
    assert recall["p_value"] == pytest.approx(0.5)
    assert recall["gained"] == ["q2", "q4"] and recall["lost"] == []
    mrr = next(m for m in result["metrics"] if m["metric"] == "mrr@10")
    assert "gained" not in mrr  # not a 0/1 metric: no flips to list
    assert mrr["difference"] == pytest.approx(0.375)
    low, high = recall["ci95"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    # The other direction: the same p-value, the flips lost.
    back = next(m for m in compare_runs(B, A)["metrics"] if m["metric"] == "recall@5")
    assert back["p_value"] == pytest.approx(0.5) and back["lost"] == ["q2", "q4"]


def test_a_large_consistent_gain_is_significant():
    x = np.zeros(40)
    y = np.ones(40)
    assert paired_p_value(x, y, resamples=2000) < 0.001
    assert bootstrap_interval(y - x, resamples=1200) == (1.0, 1.0)


def test_answer_metrics_and_unpaired_questions_are_reported():
    a = run_of({"q1": (1, 1.0), "q2": (0, 0.0)}, answers={"q1": True, "q2": False})
    b = run_of({"q1": (1, 1.0), "q3": (1, 1.0)}, answers={"q1": False, "q2": False})
    result = compare_runs(a, b)
    contains = next(m for m in result["metrics"] if m["metric"] == "contains")
    assert contains["lost"] == ["q1"] and contains["n"] == 2
    # q2 has no retrieval row in B but was answered in both: only q3 is in one run alone.
    assert result["unpaired_questions"] == ["q3"]
    recall = next(m for m in result["metrics"] if m["metric"] == "recall@5")
    assert recall["n"] == 1  # only q1 was retrieved in both runs


def test_load_run_reads_a_report_folder_or_a_file(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(A), encoding="utf-8")
    assert load_run(tmp_path) == A == load_run(tmp_path / "metrics.json")
    (tmp_path / "other.json").write_text('{"answers": []}', encoding="utf-8")
    with pytest.raises(QueryError, match="not the output of `rag eval`"):
        load_run(tmp_path / "other.json")
    with pytest.raises(QueryError, match="cannot read the evaluation run"):
        load_run(tmp_path / "missing.json")
