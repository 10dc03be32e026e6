"""Evaluation metrics: trec_eval against a hand computation, budgets, answers, latency."""

import json
import math

import pytest

from rag.chunking import Chunk
from rag.errors import RagError
from rag.eval.dataset import QAItem, load_qa
from rag.eval.metrics import (
    budget_recall,
    char_f1,
    exact_match,
    latency_summary,
    mean_metrics,
    score_runs,
)
from rag.eval.relevance import Judge, normalize
from rag.eval.runner import evaluate_retrieval

# A golden fixture computed by hand. Run order is rank order (scores fall with rank).
#   q1: relevant a, b at ranks 2 and 4.  recall@1 0, recall@3 1, MRR 1/2,
#       DCG = 1/log2(3) + 1/log2(5) = 1.06161, IDCG = 1 + 1/log2(3) = 1.63093, nDCG 0.65092;
#       trec recall@3 = 1/2 (one of two relevant found in the top 3).
#   q2: relevant c, never returned: every metric 0.
#   q3: relevant d (rank 1) and e (not returned). recall@1 1, MRR 1,
#       nDCG = 1 / (1 + 1/log2(3)) = 0.61315; trec recall@1 = 1/2.
#   q4: no unit of the index is relevant: scored 0 (trec_eval would drop it).
QRELS = {"q1": {"a": 1, "b": 1, "z": 0}, "q2": {"c": 1}, "q3": {"d": 1, "e": 1}}
RUN = {"q1": {"x": 5.0, "a": 4.0, "y": 3.0, "b": 2.0, "w": 1.0},
       "q2": {"x": 2.0, "y": 1.0},
       "q3": {"d": 3.0, "x": 2.0, "y": 1.0},
       "q4": {"x": 1.0}}


def test_score_runs_matches_the_hand_computation():
    scored = score_runs(QRELS, RUN)
    assert scored["q1"]["recall@1"] == 0.0
    assert scored["q1"]["recall@3"] == scored["q1"]["recall@10"] == 1.0
    assert scored["q1"]["mrr@10"] == 0.5
    assert scored["q1"]["ndcg@10"] == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert scored["q1"]["ndcg@10"] == pytest.approx(0.6509209298)
    assert scored["q1"]["trec_recall@3"] == 0.5
    assert scored["q1"]["trec_recall@5"] == 1.0
    assert set(scored["q2"].values()) == {0.0}
    assert scored["q3"]["recall@1"] == scored["q3"]["mrr@10"] == 1.0
    assert scored["q3"]["ndcg@10"] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert scored["q3"]["trec_recall@1"] == 0.5
    assert set(scored["q4"].values()) == {0.0}
    means = mean_metrics([scored[q] for q in ("q1", "q2", "q3")])
    assert means["recall@1"] == 0.3333
    assert means["recall@3"] == 0.6667
    assert means["mrr@10"] == 0.5
    assert means["ndcg@10"] == pytest.approx((0.6509209 + 0.6131472) / 3, abs=1e-4)


def test_score_runs_equals_pytrec_eval_itself():
    import pytrec_eval

    direct = pytrec_eval.RelevanceEvaluator(
        QRELS, {"success.1,3,5,10", "recip_rank", "ndcg_cut.10"}).evaluate(
        {q: RUN[q] for q in QRELS})
    scored = score_runs(QRELS, RUN)
    for q, m in direct.items():
        assert scored[q]["recall@5"] == m["success_5"]
        assert scored[q]["mrr@10"] == m["recip_rank"]
        assert scored[q]["ndcg@10"] == m["ndcg_cut_10"]


def test_score_runs_cuts_the_run_at_ten():
    run = {"q": {f"x{i}": float(100 - i) for i in range(10)} | {"a": 1.0}}
    scored = score_runs({"q": {"a": 1}}, run)["q"]
    assert scored["recall@10"] == scored["mrr@10"] == scored["ndcg@10"] == 0.0


def test_budget_recall_counts_characters_read():
    # Passages of 400 characters; the evidence ends 50 characters into the third one:
    # read 400 + 400 + 50 = 850 characters.
    got = budget_recall([None, None, 50], [400, 400, 400])
    assert got == {"recall@500ch": 0.0, "recall@1000ch": 1.0, "recall@2000ch": 1.0}
    assert budget_recall([None], [400]) == {"recall@500ch": 0.0, "recall@1000ch": 0.0,
                                            "recall@2000ch": 0.0}
    assert budget_recall([500], [600])["recall@500ch"] == 1.0  # ends exactly at the budget


def test_mean_metrics_of_nothing():
    assert mean_metrics([]) == {}


@pytest.mark.parametrize(("text", "answers", "em", "f1"), [
    ("미국 육군 부참모 총장", ["미국 육군 부참모 총장"], 1.0, 1.0),
    # KorQuAD blanks quotes and brackets and drops punctuation before comparing.
    ("《파우스트》 [1]", ["파우스트"], 1.0, 1.0),
    ("\"1998년\".", ["1998년"], 1.0, 1.0),
    # characters: predicted 1998년에 (6), gold 1998년 (5): P 5/6, R 1, F1 10/11
    ("1998년에", ["1998년"], 0.0, 10 / 11),
    ("Seoul", ["seoul"], 1.0, 1.0),
    ("부산", ["서울"], 0.0, 0.0),
    ("부산", [], 0.0, 0.0),
])
def test_exact_match_and_character_f1(text, answers, em, f1):
    assert exact_match(text, answers) == em
    assert char_f1(text, answers) == pytest.approx(f1)


def test_normalize_nfkc_and_whitespace():
    assert normalize("  ３８，０００건\n으로\t 집계 ") == "38,000건 으로 집계"
    assert normalize("Ａ\u3000Ｂ") == "A B"


def evidence_judged(texts, evidence):
    """Which of `texts`, as chunks of one document, the judge finds `evidence` in."""
    item = QAItem("q", "ko", "질문?", "d", evidence, (), "fact")
    chunks = chunks_of(texts)
    judged = Judge(chunks).qrels([item])["q"]
    return [c.chunk_id in judged for c in chunks]


@pytest.mark.parametrize(("text", "evidence", "expected"), [
    ("중국의 특허 출원 수는 총 ３８，０００건으로", "총 38,000건", True),  # full-width digits
    ("생성형 AI\n특허   출원 수는", "생성형 AI 특허 출원", True),  # line break in the text
    ("생성형 AI 특허 출원 수는", "생성형 AI\n특허 출원", True),  # line break in the evidence
    ("총 38000건", "총 38,000건", False),  # commas are content
    ("특허 출원", "특허출원", False),  # spaces are collapsed, not removed
])
def test_evidence_is_matched_after_nfkc_and_whitespace(text, evidence, expected):
    assert evidence_judged([text], evidence) == [expected]


def test_every_chunk_holding_the_evidence_is_relevant():
    texts = ["총 38,000건", "다른 문장", "38,000건 이상"]
    assert evidence_judged(texts, "38,000건") == [True, False, True]


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
    with pytest.raises(RagError, match="cannot tell the format"):
        load_qa(path)


def test_load_qa_empty_file(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", ["", "  "])
    with pytest.raises(RagError, match="holds no questions"):
        load_qa(path)


def test_load_qa_unreadable_file(tmp_path):
    with pytest.raises(RagError, match="does not exist"):
        load_qa(tmp_path / "missing.jsonl")
    path = tmp_path / "cp949.jsonl"
    path.write_bytes(json.dumps(row(), ensure_ascii=False).encode("cp949"))
    with pytest.raises(RagError, match="UTF-8"):
        load_qa(path)


def test_load_qa_wrong_field_type(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [json.dumps(row(answers=None))])
    with pytest.raises(RagError, match="answers"):
        load_qa(path)


def chunks_of(texts):
    return [Chunk(f"d#{i:04d}", "d", "D", "", i * 100, i * 100 + len(t), t, 5)
            for i, t in enumerate(texts)]


def test_evaluate_retrieval_on_a_fake_search():
    items = [
        QAItem("ko-1", "ko", "특허 출원 수는?", "beta", "38,000건", (), "number"),
        QAItem("en-1", "en", "What rose by 3%?", "beta", "물 가격 3%", (), "fact"),
        QAItem("un-1", "ko", "일본 예산은?", None, None, (), "unanswerable"),
    ]
    chunks = chunks_of(["총 38,000건", "다른 문장", "38,000건 이상", "물 가격 3% 상승"])
    ranked = {
        # relevant at ranks 2 and 4, of two relevant in the index (q1 of the golden case)
        "특허 출원 수는?": [chunks[1], chunks[0], chunks[3], chunks[2]],
        # the one relevant passage is never returned
        "What rose by 3%?": [chunks[1], chunks[0]],
    }
    asked = []

    def search(question):
        asked.append(question)
        return ranked[question]

    result = evaluate_retrieval(items, Judge(chunks), search, label="fake")
    assert asked == ["특허 출원 수는?", "What rose by 3%?"]  # unanswerable ones are skipped
    assert result["label"] == "fake"
    assert result["n"] == 2
    overall = result["overall"]
    assert {k: overall[k] for k in ("recall@1", "recall@3", "recall@5", "recall@10",
                                    "mrr@10", "ndcg@10")} == {
        "recall@1": 0.0, "recall@3": 0.5, "recall@5": 0.5, "recall@10": 0.5, "mrr@10": 0.25,
        "ndcg@10": 0.3255}
    # "총 38,000건" (8 chars) read first from "다른 문장" (5): evidence ends at 5 + 8.
    assert overall["recall@500ch"] == 0.5
    assert result["by_lang"]["ko"]["ndcg@10"] == 0.6509
    assert result["by_lang"]["en"]["recall@10"] == 0.0
    assert set(result["by_type"]) == {"fact", "number"}
    assert [q["id"] for q in result["per_query"]] == ["ko-1", "en-1"]
    assert result["per_query"][0]["retrieved"] == ["d#0001", "d#0000", "d#0003", "d#0002"]
    assert result["run"]["ko-1"] == {"d#0001": 4.0, "d#0000": 3.0, "d#0003": 2.0,
                                     "d#0002": 1.0}
    assert result["latency_ms"]["n"] == 2
    json.dumps(result)  # JSON-ready


def test_span_relevance_needs_the_span_inside_the_chunk():
    from rag.eval.dataset import Span

    chunks = [Chunk("d#0000", "d", "D", "", 0, 120, "x" * 120, 5),
              Chunk("d#0001", "d", "D", "", 80, 200, "x" * 120, 5),
              Chunk("e#0000", "e", "E", "", 0, 200, "x" * 200, 5)]
    item = QAItem("q", "ko", "?", "d", None, ("정답",), "span", spans=(Span("d", 100, 110),))
    # Both d chunks hold characters 100–110; e holds the same offsets of another document.
    assert Judge(chunks).qrels([item]) == {"q": {"d#0000": 1, "d#0001": 1}}
    edge = QAItem("q", "ko", "?", "d", None, ("정답",), "span", spans=(Span("d", 115, 125),))
    assert Judge(chunks).qrels([edge]) == {"q": {"d#0001": 1}}


def test_evaluate_retrieval_with_nothing_answerable():
    items = [QAItem("un-1", "ko", "일본 예산은?", None, None, (), "unanswerable")]
    chunks = chunks_of(["문장"])
    result = evaluate_retrieval(items, Judge(chunks), lambda q: chunks, label="none")
    assert (result["n"], result["overall"], result["latency_ms"]) == (0, {}, {})
