"""Evaluation: hand-computed rank metrics, evidence matching, latency, the Q&A file."""

import json
import math

import pytest

from rag.errors import RagError
from rag.evaluation import (
    QAItem,
    evaluate_retrieval,
    latency_summary,
    load_qa,
    mean_metrics,
    normalize,
    rank_metrics,
    relevance,
)

F, T = False, True


def test_rank_metrics_two_relevant_chunks():
    # Relevant passages at ranks 2 and 4; the index holds exactly these two relevant ones.
    #   recall@1 = 0, recall@3 = recall@5 = recall@10 = 1, MRR@10 = 1/2
    #   DCG  = 1/log2(2+1) + 1/log2(4+1) = 0.63093 + 0.43068 = 1.06161
    #   IDCG = 1/log2(1+1) + 1/log2(2+1) = 1 + 0.63093       = 1.63093
    #   nDCG@10 = 1.06161 / 1.63093 = 0.65092
    metrics = rank_metrics([F, T, F, T, F, F, F, F, F, F], n_relevant=2)
    assert metrics == {
        "recall@1": 0.0, "recall@3": 1.0, "recall@5": 1.0, "recall@10": 1.0,
        "mrr@10": 0.5,
        "ndcg@10": pytest.approx(0.6509209298),
    }
    assert metrics["ndcg@10"] == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))


def test_rank_metrics_no_relevant_chunk():
    metrics = rank_metrics([F] * 10, n_relevant=0)
    assert metrics == {"recall@1": 0.0, "recall@3": 0.0, "recall@5": 0.0, "recall@10": 0.0,
                       "mrr@10": 0.0, "ndcg@10": 0.0}


def test_rank_metrics_perfect_ranking():
    assert rank_metrics([T, T, F], n_relevant=2) == {
        "recall@1": 1.0, "recall@3": 1.0, "recall@5": 1.0, "recall@10": 1.0,
        "mrr@10": 1.0, "ndcg@10": 1.0}


def test_rank_metrics_late_hit():
    # First relevant passage at rank 7: in the top 10 but not the top 5; MRR 1/7.
    # One of three relevant passages found: nDCG = (1/log2(8)) / (1 + 1/log2(3) + 1/log2(4))
    metrics = rank_metrics([F] * 6 + [T] + [F] * 3, n_relevant=3)
    assert (metrics["recall@5"], metrics["recall@10"]) == (0.0, 1.0)
    assert metrics["mrr@10"] == pytest.approx(1 / 7)
    assert metrics["ndcg@10"] == pytest.approx((1 / 3) / (1 + 1 / math.log2(3) + 0.5))


def test_rank_metrics_ignore_hits_past_rank_ten():
    metrics = rank_metrics([F] * 10 + [T], n_relevant=1)
    assert metrics["recall@10"] == metrics["mrr@10"] == metrics["ndcg@10"] == 0.0


def test_rank_metrics_custom_ks():
    assert set(rank_metrics([T], 1, ks=(2,))) == {"recall@2", "mrr@10", "ndcg@10"}


def test_mean_metrics_of_the_two_queries():
    rows = [rank_metrics([F, T, F, T] + [F] * 6, 2), rank_metrics([F] * 10, 0)]
    assert mean_metrics(rows) == {"recall@1": 0.0, "recall@3": 0.5, "recall@5": 0.5,
                                  "recall@10": 0.5, "mrr@10": 0.25, "ndcg@10": 0.3255}
    assert mean_metrics([]) == {}


def test_normalize_nfkc_and_whitespace():
    assert normalize("  ３８，０００건\n으로\t 집계 ") == "38,000건 으로 집계"
    assert normalize("Ａ\u3000Ｂ") == "A B"


@pytest.mark.parametrize(("text", "evidence", "expected"), [
    ("중국의 특허 출원 수는 총 ３８，０００건으로", "총 38,000건", True),  # full-width digits
    ("생성형 AI\n특허   출원 수는", "생성형 AI 특허 출원", True),  # line break in the text
    ("생성형 AI 특허 출원 수는", "생성형 AI\n특허 출원", True),  # line break in the evidence
    ("총 38000건", "총 38,000건", False),  # commas are content
    ("특허 출원", "특허출원", False),  # spaces are collapsed, not removed
])
def test_relevance(text, evidence, expected):
    assert relevance([text], evidence) == [expected]


def test_relevance_flags_each_text():
    texts = ["총 38,000건", "다른 문장", "38,000건 이상"]
    assert relevance(texts, "38,000건") == [True, False, True]


def test_latency_summary_ten():
    # median of 10..100 is (50 + 60) / 2; p95 is the ceil(0.95 * 10) = 10th value.
    assert latency_summary([70, 10, 100, 40, 20, 90, 30, 60, 50, 80]) == {
        "p50": 55.0, "p95": 100.0, "n": 10}


def test_latency_summary_twenty():
    # p95 is the ceil(0.95 * 20) = 19th smallest value.
    values = [float(v) for v in range(20, 0, -1)]
    assert latency_summary(values) == {"p50": 10.5, "p95": 19.0, "n": 20}


def test_latency_summary_rounds_and_handles_edges():
    assert latency_summary([1.23456]) == {"p50": 1.23, "p95": 1.23, "n": 1}
    assert latency_summary([]) == {}


def row(**changes):
    base = {"id": "ko-001", "lang": "ko", "question": "특허 출원 수는?", "doc": "beta",
            "evidence": "38,000건", "answers": ["38,000건"], "type": "number"}
    return {**base, **changes}


def write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_qa(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [
        json.dumps(row(), ensure_ascii=False),
        "",
        json.dumps(row(id="un-001", doc=None, evidence=None, answers=[], type="unanswerable"),
                   ensure_ascii=False),
    ])
    items = load_qa(path)
    assert items == [
        QAItem("ko-001", "ko", "특허 출원 수는?", "beta", "38,000건", ("38,000건",), "number"),
        QAItem("un-001", "ko", "특허 출원 수는?", None, None, (), "unanswerable"),
    ]
    assert [i.answerable for i in items] == [True, False]


def test_load_qa_bad_json_names_the_line(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [json.dumps(row()), "{oops"])
    with pytest.raises(RagError, match=r"qa\.jsonl:2 is not valid JSON"):
        load_qa(path)


def test_load_qa_missing_fields(tmp_path):
    bad = row()
    del bad["answers"], bad["type"]
    path = write_jsonl(tmp_path / "qa.jsonl", [json.dumps(bad)])
    with pytest.raises(RagError, match=r"qa\.jsonl:1 lacks the field\(s\) answers, type"):
        load_qa(path)


def test_load_qa_line_that_is_not_an_object(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", ["[1, 2]"])
    with pytest.raises(RagError, match="lacks the field"):
        load_qa(path)


def test_load_qa_empty_file(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", ["", "  "])
    with pytest.raises(RagError, match="holds no questions"):
        load_qa(path)


def test_load_qa_unreadable_file(tmp_path):
    with pytest.raises(RagError, match="cannot read"):
        load_qa(tmp_path / "missing.jsonl")
    path = tmp_path / "cp949.jsonl"
    path.write_bytes(json.dumps(row(), ensure_ascii=False).encode("cp949"))
    with pytest.raises(RagError, match="UTF-8"):
        load_qa(path)


def test_load_qa_wrong_field_type(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [json.dumps(row(answers=None))])
    with pytest.raises(RagError, match="answers"):
        load_qa(path)


def test_evaluate_retrieval_on_a_fake_search():
    items = [
        QAItem("ko-1", "ko", "특허 출원 수는?", "beta", "38,000건", (), "number"),
        QAItem("en-1", "en", "What rose by 3%?", "beta", "물 가격 3%", (), "fact"),
        QAItem("un-1", "ko", "일본 예산은?", None, None, (), "unanswerable"),
    ]
    all_texts = ["총 38,000건", "다른 문장", "38,000건 이상", "물 가격 3% 상승"]
    ranked = {
        # relevant at ranks 2 and 4, of two relevant in the index (the golden case above)
        "특허 출원 수는?": ["다른 문장", "총 38,000건", "물 가격 3% 상승", "38,000건 이상"],
        # the one relevant passage is never returned
        "What rose by 3%?": ["다른 문장", "총 38,000건"],
    }
    asked = []

    def search(question):
        asked.append(question)
        return ranked[question]

    result = evaluate_retrieval(items, all_texts, search, label="fake")
    assert asked == ["특허 출원 수는?", "What rose by 3%?"]  # unanswerable ones are skipped
    assert result["label"] == "fake"
    assert result["n"] == 2
    assert result["overall"] == {"recall@1": 0.0, "recall@3": 0.5, "recall@5": 0.5,
                                 "recall@10": 0.5, "mrr@10": 0.25, "ndcg@10": 0.3255}
    assert result["by_lang"]["ko"] == {"n": 1, "recall@1": 0.0, "recall@3": 1.0,
                                       "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 0.5,
                                       "ndcg@10": 0.6509}
    assert result["by_lang"]["en"]["recall@10"] == 0.0
    assert set(result["by_type"]) == {"fact", "number"}
    assert [q["id"] for q in result["per_query"]] == ["ko-1", "en-1"]
    assert result["latency_ms"]["n"] == 2
    json.dumps(result)  # JSON-ready


def test_evaluate_retrieval_with_nothing_answerable():
    items = [QAItem("un-1", "ko", "일본 예산은?", None, None, (), "unanswerable")]
    result = evaluate_retrieval(items, ["문장"], lambda q: ["문장"], label="none")
    assert (result["n"], result["overall"], result["latency_ms"]) == (0, {}, {})
