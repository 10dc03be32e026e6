"""`rag eval`: answer metrics computed by hand, and a whole run on the fixture index checked
against an independent recomputation."""

import json
import unicodedata

import pytest

from rag.config import Config
from rag.errors import QueryError
from rag.eval.dataset import QAItem
from rag.eval.metrics import answer_contains, token_f1
from rag.eval.runner import (
    ablations,
    citation_correct,
    evaluate_answers,
    run_evaluation,
)
from rag.retrieval import Retriever

# --- answer metrics -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "answers", "expected"), [
    ("딥시크는 약 560 만 달러를 투자", ["560만 달러"], True),   # spaces do not matter
    ("총 38000건", ["38,000건"], True),                         # nor thousands separators
    ("총 ３８,０００건", ["38000건"], True),                    # full-width digits are NFKC'd
    ("총 38,000건", ["6276건", "38000"], True),                 # any acceptable answer
    ("수율 40 %", ["40%"], True),
    ("DEEPSEEK spent it", ["DeepSeek"], True),                  # case-insensitive
    # A span of years written out is the same range.
    ("spans from 2017 to 2020. [1]", ["2017–2020"], True),
    ("기간은 2025년부터 2035년까지. [1]", ["2025-2035"], True),
    ("2015~2017년", ["2015–2017"], True),
    ("from 2017 to 2021", ["2017–2020"], False),
    ("총 3,800건", ["38,000건"], False),
    ("총 38,000건", [], False),
    ("", ["38,000건"], False),
    ("총 38,000건", ["", " "], False),                           # an empty answer never matches
])
def test_answer_contains(text, answers, expected):
    assert answer_contains(text, answers) is expected


@pytest.mark.parametrize(("text", "answers", "expected"), [
    # predicted 560 만 달러 투자 (4), gold 560 만 달러 (3): P 3/4, R 1, F1 = 6/7
    ("약 560만 달러를 투자했다", ["560만 달러"], 6 / 7),
    # predicted 38000 건 세계 1 위 (5), gold 38000 건 (2): P 2/5, R 1, F1 = 4/7
    ("총 38,000건으로 세계 1위", ["38,000건"], 4 / 7),
    # the best of the acceptable answers counts
    ("560만 달러", ["40%", "560만 달러"], 1.0),
    # predicted 달러 x3, gold 560 만 달러: one shared token, P 1/3, R 1/3, F1 = 1/3
    ("달러 달러 달러", ["560만 달러"], 1 / 3),
    ("화웨이 수율", ["560만 달러"], 0.0),
    ("560만 달러", [], 0.0),
])
def test_token_f1(text, answers, expected):
    assert token_f1(text, answers) == pytest.approx(expected)


YIELD_ITEM = QAItem("y", "ko", "수율은?", "beta", "수율을 40%까지", ("40%",), "number")


@pytest.mark.parametrize(("passage", "item", "expected"), [
    ("화웨이는 어센드 910C 칩의\n수율을   40%까지 높였음", YIELD_ITEM, True),  # evidence
    ("수율 40 % 달성", YIELD_ITEM, True),                                     # an answer
    ("수율을 45%까지 높였음", YIELD_ITEM, False),
    ("수율을 40%까지", QAItem("u", "ko", "q", None, None, (), "unanswerable"), False),
])
def test_citation_correct(passage, item, expected):
    assert citation_correct(passage, item) is expected


SCRIPTED = [
    QAItem("a1", "ko", "딥시크 V3 투자액은?", "d", "560만 달러를 투자", ("560만 달러",), "number"),
    QAItem("a2", "ko", "910C 수율은?", "d", "수율을 40%까지", ("40%",), "number"),
    QAItem("u1", "ko", "일본의 AI 예산은?", None, None, (), "unanswerable"),
    QAItem("u2", "en", "What is Japan's AI budget?", None, None, (), "unanswerable"),
]


def scripted_answer(item: QAItem) -> dict:
    """Answers as Answer.to_dict() would give them: a1 right, a2 and u1 abstain, u2 wrong."""
    def cite(chunk_id, text):
        return {"chunk_id": chunk_id, "text": text}

    base = {"timings": {"retrieval": 1.0, "answer": 3.0}, "closest": [],
            "search": {"timings_ms": {}}}
    if item.id == "a1":
        # An LLM answer also says how many prompt tokens its model read for it.
        return {**base, "abstained": False, "answer": "딥시크는 560만 달러를 투자했다",
                "final": "llm",
                "timings": {**base["timings"], "prompt_tokens": 300,
                            "prompt_tokens_per_s": 80.0},
                "citations": [cite("c1", "V3 모델을 개발하는데 약 560만 달러를 투자하여"),
                              cite("c2", "화웨이는 수율을 40%까지 높였다"),
                              cite("c3", "비용은 560만 달러였다")]}
    if item.id == "u2":
        return {**base, "abstained": False, "answer": "Japan spends 1 trillion yen [1]",
                "citations": [cite("c9", "일본")],
                "search": {"timings_ms": {"translation": 5.0}}}
    return {**base, "abstained": True, "answer": "보고서에서 근거를 찾지 못했습니다.",
            "final": "abstained", "citations": [], "closest": [{"chunk_id": "c4"}]}


def test_calibration_reads_the_fitted_confidence_where_answers_carry_one():
    def answer(item: QAItem) -> dict:
        given = scripted_answer(item)
        coverage = {"a1": 0.9, "a2": 0.2, "u1": 0.3, "u2": 0.8}[item.id]
        confidence = {"a1": 0.95, "a2": 0.6, "u1": 0.1, "u2": None}[item.id]
        return {**given, "confidence": confidence,
                "search": {**given["search"], "evidence": {"coverage": coverage}}}

    cal = evaluate_answers(SCRIPTED, answer, "fitted")["calibration"]
    # u2 (English) has no fitted confidence: three questions, ranked perfectly.
    assert cal["of"] == "confidence" and cal["n"] == 3 and cal["auroc"] == 1.0
    coverage_only = evaluate_answers(
        SCRIPTED, lambda item: {**answer(item), "confidence": None}, "rules")["calibration"]
    assert coverage_only["of"] == "coverage" and coverage_only["n"] == 4
    assert coverage_only["auroc"] == 0.5  # a1 above both, a2 below both


def test_evaluate_answers_aggregates_by_hand():
    result = evaluate_answers(SCRIPTED, scripted_answer, "scripted")
    assert result["label"] == "scripted"
    assert result["by_lang"]["ko"] == {
        "n_answerable": 2,
        "answer_contains": 0.5,        # a1 yes, a2 abstained
        "exact_match": 0.0,            # a1's answer is a sentence, not the span
        # a1 by characters, spaces dropped: 딥시크는560만달러를투자했다 (15) against
        # 560만달러 (6): P 6/15, R 1, F1 4/7; a2 abstained: 0. Mean 2/7.
        "char_f1": 0.2857,
        # a1: predicted 딥시크 560 만 달러 투자 (5) vs 560 만 달러 (3): P 3/5, R 1, F1 0.75;
        # a2 abstained: 0. Mean 0.375.
        "token_f1": 0.375,
        # a1's three citations: c1 holds the evidence, c2 nothing, c3 the answer: 2/3.
        "citation_precision": 0.6667,
        "citations": 3,
        "false_abstention": 0.5,       # a2 of a1, a2
        "n_unanswerable": 1,
        "abstention_recall": 1.0,      # u1 abstained
        "abstention_precision": 0.5,   # of the abstentions a2, u1 only u1 was right
        "n_holdout": 0, "holdout_abstention": None,
        "unsure": 0.0, "confident_wrong": 0.0,  # a1, the one answer, sure and right
    }
    assert result["by_lang"]["en"] == {
        "n_answerable": 0, "answer_contains": None, "exact_match": None, "char_f1": None,
        "token_f1": None, "citation_precision": None, "citations": 0,
        "false_abstention": None, "n_unanswerable": 1,
        "abstention_recall": 0.0,      # u2 answered
        "abstention_precision": None,  # no English abstention
        "n_holdout": 0, "holdout_abstention": None,
        "unsure": 0.0, "confident_wrong": 1.0,  # u2 answered as if sure
    }
    # The scripted answers report no evidence coverage: nothing to calibrate.
    assert result["calibration"] is None
    rows = {r["id"]: r for r in result["per_query"]}
    assert rows["a1"]["citations_correct"] == [True, False, True]
    assert rows["a1"]["cited"] == ["c1", "c2", "c3"]
    assert rows["a2"] == {"id": "a2", "lang": "ko", "type": "number", "answerable": True,
                          "abstained": True, "final": "abstained",
                          "correct_abstention": False,
                          "answer": "보고서에서 근거를 찾지 못했습니다.",
                          "docs": ["d"], "cited": [], "closest": ["c4"], "coverage": None,
                          "confidence": None, "unsure": False, "evidence": {}, "contains": False,
                          "f1": 0.0, "char_f1": 0.0, "exact_match": 0.0,
                          "citations_correct": []}
    assert rows["u1"]["correct_abstention"] is True
    assert rows["u2"]["correct_abstention"] is False
    assert "contains" not in rows["u2"]
    latency = result["latency_ms"]
    assert list(latency) == ["answer", "retrieval", "total", "translation"]
    assert latency["retrieval"] == {"p50": 1.0, "p95": 1.0, "n": 4}
    assert latency["translation"] == {"p50": 5.0, "p95": 5.0, "n": 1}
    assert result["llm_prompt"] == {"prompt_tokens": {"p50": 300, "p95": 300, "n": 1},
                                    "prompt_tokens_per_s": {"p50": 80.0, "p95": 80.0, "n": 1}}
    assert rows["a1"]["final"] == "llm"
    assert result["peak_rss_mb"] > 0


def test_citation_markers_do_not_count_in_token_f1():
    item = QAItem("a", "ko", "q", "d", "560만 달러", ("560만 달러",), "number")
    result = evaluate_answers([item], lambda _: {
        "abstained": False, "answer": "560만 달러 [1]",
        "citations": [{"chunk_id": "c", "text": "560만 달러"}]}, "x")
    assert result["per_query"][0]["f1"] == 1.0


# --- a run on the fixture index -------------------------------------------------------

QA = [
    {"id": "ko-1", "lang": "ko", "question": "중국의 생성형 AI 특허 출원 수는?", "doc": "beta",
     "evidence": "38,000건으로 세계 1위", "answers": ["38,000건"], "type": "number"},
    {"id": "ko-2", "lang": "ko", "question": "화웨이 어센드 910C 칩의 수율은?", "doc": "beta",
     "evidence": "수율을 40%까지", "answers": ["40%"], "type": "number"},
    {"id": "ko-3", "lang": "ko", "question": "2025년 생성형 AI 사용자 수는?", "doc": "alpha",
     "evidence": "2.5억 명", "answers": ["2.5억 명"], "type": "number"},
    {"id": "ko-4", "lang": "ko", "question": "칭화대와 베이징대가 운영하는 것은?", "doc": "beta",
     "evidence": "AI 학부를 운영", "answers": ["AI 학부"], "type": "fact"},
    {"id": "en-1", "lang": "en", "question": "How many generative AI patents did China file?",
     "doc": "beta", "evidence": "38,000건", "answers": ["38,000"], "type": "number"},
    {"id": "en-2", "lang": "en", "question": "Which universities run AI departments?",
     "doc": "beta", "evidence": "칭화대와 베이징대", "answers": ["칭화대"], "type": "fact"},
    {"id": "un-ko-1", "lang": "ko", "question": "일본의 AI 예산은 얼마인가?", "doc": None,
     "evidence": None, "answers": [], "type": "unanswerable"},
]
LABELS = ["dense", "bm25", "hybrid", "+sentences", "+scope", "+glossary", "+lexicon",
          "default", "default −sentences", "default −scope", "default −glossary",
          "default −lexicon"]


def write_qa(path, rows=QA):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def config(shared_index):
    return shared_index.replace(translate="off")


@pytest.fixture(scope="module")
def qa_path(tmp_path_factory):
    return write_qa(tmp_path_factory.mktemp("qa") / "qa.jsonl")


@pytest.fixture(scope="module")
def retrieval_run(config, qa_path):
    return run_evaluation(config, qa_path, "retrieval")


@pytest.fixture(scope="module")
def extractive_run(config, qa_path):
    return run_evaluation(config, qa_path, "extractive")


def test_ablations_compare_each_retriever_then_the_levers(retrieval_run):
    assert [r["label"] for r in retrieval_run["retrieval"]] == LABELS
    assert retrieval_run["translation"] is False
    assert retrieval_run["answers"] is None
    assert retrieval_run["mode"] == "retrieval" and retrieval_run["language"] == "all"
    assert retrieval_run["model"] == "hash"
    for run in retrieval_run["retrieval"]:
        assert run["n"] == 6  # the answerable questions
        assert set(run["by_lang"]) == {"en", "ko"}
        assert run["by_lang"]["ko"]["n"] == 4 and run["by_lang"]["en"]["n"] == 2
        assert run["latency_ms"]["n"] == 6
    assert json.loads(json.dumps(retrieval_run)) == retrieval_run


def test_ablation_settings():
    config = Config(sentence_weight=0.4)
    by_label = {a.label: a for a in ablations(config, translation=True)}
    assert list(by_label) == ["dense", "bm25", "hybrid", "+sentences", "+scope", "+glossary",
                              "+lexicon", "+translation", "default", "default −sentences",
                              "default −scope", "default −glossary", "default −lexicon",
                              "default −translation"]
    assert by_label["hybrid"].overrides == {
        "sentence_weight": 0.0, "scope_by_name": False, "glossary": False,
        "english_bm25_weight": 1.0, "lexicon": "off", "translate": "off"}
    # Levers build up, with the values of the settings in use.
    assert by_label["+sentences"].overrides["sentence_weight"] == 0.4
    assert by_label["+sentences"].overrides["glossary"] is False
    assert by_label["+glossary"].overrides["glossary"] is True
    assert by_label["+glossary"].overrides["english_bm25_weight"] == 0.5
    assert by_label["+lexicon"].overrides["lexicon"] == "auto"
    assert by_label["+lexicon"].overrides["translate"] == "off"
    assert by_label["+translation"].overrides["translate"] == "on"
    assert by_label["default"].overrides == {}
    assert by_label["default −lexicon"].overrides == {"lexicon": "off"}
    assert "+translation" not in [a.label for a in ablations(config, False)]


def normal(text):
    return " ".join(unicodedata.normalize("NFKC", text).split())


def test_default_recall_at_5_matches_an_independent_count(config, retrieval_run):
    retriever = Retriever(config)
    found = {}
    for row in QA:
        if row["evidence"] is None:
            continue
        texts = [h.text for h in retriever.search(row["question"], k=10).hits]
        ranks = [i for i, t in enumerate(texts, 1) if normal(row["evidence"]) in normal(t)]
        found[row["id"]] = ranks[0] if ranks else None
    default = next(r for r in retrieval_run["retrieval"] if r["label"] == "default")
    recall5 = {q: float(r is not None and r <= 5) for q, r in found.items()}
    mrr = {q: 1 / r if r else 0.0 for q, r in found.items()}
    per_query = {r["id"]: r for r in default["per_query"]}
    assert {q: per_query[q]["recall@5"] for q in found} == recall5
    assert {q: per_query[q]["mrr@10"] for q in found} == pytest.approx(mrr)
    assert default["overall"]["recall@5"] == pytest.approx(
        sum(recall5.values()) / len(recall5), abs=1e-4)
    ko = [recall5[q] for q in recall5 if q.startswith("ko")]
    assert default["by_lang"]["ko"]["recall@5"] == pytest.approx(sum(ko) / len(ko), abs=1e-4)
    # The fixture's Korean questions name their evidence: the hash model finds them.
    assert sum(ko) == len(ko)


def test_extractive_run_adds_answer_metrics(extractive_run):
    answers = extractive_run["answers"]
    assert answers["label"] == "extractive"
    ko = answers["by_lang"]["ko"]
    assert ko["n_answerable"] == 4 and ko["n_unanswerable"] == 1
    assert ko["abstention_recall"] == 1.0  # 일본 is in no report
    assert answers["by_lang"]["en"]["n_answerable"] == 2
    rows = {r["id"]: r for r in answers["per_query"]}
    assert set(rows) == {row["id"] for row in QA}
    assert rows["ko-2"]["contains"] is True
    assert rows["ko-2"]["citations_correct"] and all(rows["ko-2"]["citations_correct"])
    assert {"retrieval", "evidence", "answer", "total"} <= set(answers["latency_ms"])
    assert [r["label"] for r in extractive_run["retrieval"]] == LABELS


def test_language_filter_and_no_ablations(config, qa_path):
    result = run_evaluation(config, qa_path, "retrieval", lang="en", with_ablations=False)
    assert [r["label"] for r in result["retrieval"]] == ["default"]
    assert result["retrieval"][0]["n"] == 2
    assert result["language"] == "en"
    assert list(result["retrieval"][0]["by_lang"]) == ["en"]


def test_bad_mode_or_language_is_a_query_error(config, qa_path):
    with pytest.raises(QueryError, match="unknown eval mode"):
        run_evaluation(config, qa_path, "poem")
    with pytest.raises(QueryError, match="no question"):
        run_evaluation(config, qa_path, "retrieval", lang="fr")


TRANSLATIONS = {
    "How many generative AI patents did China file?": "중국의 생성형 AI 특허 출원 수는?",
    "Which universities run AI departments?": "AI 학부를 운영하는 대학은?",
}


class DictionaryLLM:
    """Translates the fixture's English questions from a table; records what it was asked."""

    name = "dictionary"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def stream(self, messages, max_tokens, temperature=0.0):
        question = messages[-1]["content"]
        self.asked.append(question)
        yield TRANSLATIONS.get(question, "모름")


def test_run_with_an_llm_adds_the_translation_ablation(config, qa_path, tmp_path, monkeypatch):
    import rag.eval.runner
    import rag.llm

    fake = DictionaryLLM()
    monkeypatch.setattr(rag.eval.runner, "llm_available", lambda c: (True, "fake"))
    monkeypatch.setattr(rag.llm, "llm_available", lambda c: (True, "fake"))
    monkeypatch.setattr(rag.llm, "load_generator", lambda c, role="answer": fake)
    result = run_evaluation(config.replace(translate="auto", cache_dir=tmp_path / "cache"),
                            qa_path, "retrieval")
    assert result["translation"] is True
    labels = [r["label"] for r in result["retrieval"]]
    assert labels == [*LABELS[:7], "+translation", *LABELS[7:], "default −translation"]
    # Both English questions were translated, once each: the cache serves the rest.
    assert set(TRANSLATIONS) <= set(fake.asked)
    assert all(fake.asked.count(q) == 1 for q in TRANSLATIONS)
    assert not any(q.startswith(("중국", "화웨이", "2025", "칭화", "일본")) for q in fake.asked)
    by_label = {r["label"]: r for r in result["retrieval"]}
    en = {r["id"]: r for r in by_label["+translation"]["per_query"]}
    # Searched in Korean too, the patent question finds its evidence first.
    assert en["en-1"]["mrr@10"] == 1.0
    # The default settings are every lever on: the same rankings as the last ablation.
    assert by_label["default"]["per_query"] == by_label["+translation"]["per_query"]
