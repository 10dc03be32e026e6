"""Extractive answers and abstention: cited sentences, event order, the JSON shape."""

import json
import re
from dataclasses import replace

import pytest

from rag.answer import (
    NOT_FOUND,
    Answer,
    Done,
    Evidence,
    Retrieved,
    Token,
    abstain,
    answer_question,
    assess_evidence,
    kind_given,
    kind_near,
    score_sentences,
    stream_answer,
)
from rag.errors import QueryError
from rag.retrieval import Retriever

ANSWER_KEYS = {"question", "answer", "abstained", "confidence", "unsure", "mode", "language",
               "citations", "closest", "flags", "timings", "search", "final", "draft",
               "rejected"}
ANSWERABLE = [
    ("중국의 생성형 AI 특허 출원 수는?", "38,000건"),
    ("화웨이 어센드 910C 칩의 수율은?", "40%"),
    ("2025년 생성형 AI 사용자 수는?", "2.5억 명"),
    ("물 가격 상승", "3%"),
]
UNANSWERABLE_KO = ["일본의 AI 예산은 얼마인가?", "딥시크 창업자의 고향은 항저우인가?"]


@pytest.fixture(scope="module")
def retriever(shared_index) -> Retriever:
    return Retriever(shared_index.replace(translate="off"))


def events_of(retriever, question, **kwargs):
    return list(stream_answer(retriever, question, **kwargs))


def sentences_with_markers(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences, each with the markers that follow it."""
    parts = re.split(r"((?:\s*\[\d+\])+)", text)
    return [(parts[i].strip(), [int(m) for m in re.findall(r"\d+", parts[i + 1])])
            for i in range(0, len(parts) - 1, 2)]


@pytest.mark.parametrize(("question", "figure"), ANSWERABLE)
def test_extractive_answer_quotes_and_cites_retrieved_passages(retriever, question, figure):
    events = events_of(retriever, question)
    retrieved = {h.chunk_id for h in events[0].hits}
    answer = events[-1].answer
    assert not answer.abstained
    assert figure in answer.answer
    assert answer.citations
    assert {c.chunk_id for c in answer.citations} <= retrieved
    # Every marker in the text has its citation, and every citation is used.
    used = {int(m) for m in re.findall(r"\[(\d+)\]", answer.answer)}
    assert used == {c.marker for c in answer.citations}
    assert [c.marker for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    documents = retriever.index.documents
    by_marker = {c.marker: c for c in answer.citations}
    for sentence, marks in sentences_with_markers(answer.answer):
        assert len(marks) == 1
        c = by_marker[marks[0]]
        assert documents[c.doc_id].text[c.start:c.end] == c.text
        assert c.start <= c.quote_start < c.quote_end <= c.end
        quoted = documents[c.doc_id].text[c.quote_start:c.quote_end]
        # The answer quotes the sentence as written, minus bullets and line breaks.
        assert " ".join(quoted.split()).lstrip("-•○□ ") == sentence


def test_events_come_in_order(retriever):
    events = events_of(retriever, ANSWERABLE[0][0])
    assert isinstance(events[0], Retrieved)
    assert isinstance(events[-1], Done)
    assert len(events) >= 3
    assert all(isinstance(e, Token) for e in events[1:-1])
    assert "".join(e.text for e in events[1:-1]) == events[-1].answer.answer
    assert events[0].hits and [h.rank for h in events[0].hits] == list(
        range(1, len(events[0].hits) + 1))


def test_answer_question_returns_the_streamed_answer(retriever):
    streamed = events_of(retriever, ANSWERABLE[1][0])[-1].answer
    answer = answer_question(retriever, ANSWERABLE[1][0])
    assert (answer.answer, answer.citations) == (streamed.answer, streamed.citations)
    assert answer.mode == "extractive" and answer.language == "ko"
    assert set(answer.timings) == {"retrieval", "evidence", "answer"}


@pytest.mark.parametrize("question", UNANSWERABLE_KO)
def test_unanswerable_korean_question_abstains_in_korean(retriever, question):
    events = events_of(retriever, question)
    answer = events[-1].answer
    assert answer.abstained
    assert answer.answer == "보고서에서 근거를 찾지 못했습니다."
    assert answer.citations == ()
    assert "[" not in answer.answer
    # The closest passages are the top retrieved ones, for the reader to inspect.
    assert answer.closest == events[0].hits[:3]
    assert len(answer.closest) == 3


def test_unanswerable_english_question_abstains_in_english(retriever):
    answer = answer_question(retriever, "What did the reports say about the Mars colony budget?")
    assert answer.abstained
    assert answer.answer == "The reports do not contain this."
    assert answer.language == "en"
    assert answer.citations == ()
    assert answer.closest


def test_question_about_a_term_the_reports_never_use_has_no_coverage(retriever):
    result = retriever.search(UNANSWERABLE_KO[1], k=5)
    evidence = assess_evidence(retriever, result, score_sentences(retriever, result))
    assert evidence.coverage < retriever.config.abstain_min_coverage
    answerable = retriever.search(ANSWERABLE[0][0], k=5)
    good = assess_evidence(retriever, answerable, score_sentences(retriever, answerable))
    assert good.coverage >= retriever.config.abstain_min_coverage
    assert good.supported(retriever.config.abstain_min_coverage,
                          retriever.config.abstain_min_sentence)


def test_a_question_naming_what_no_passage_names_abstains(retriever):
    # No sentence-similarity floor for English: the hashing embedder cannot match English
    # to Korean, and this is about names alone.
    lenient = Retriever(retriever.config.replace(abstain_min_sentence_english=0.0),
                        index=retriever.index, embedder=retriever.embedder)
    named = answer_question(lenient, "What yield has Huawei achieved on the Ascend 910C?")
    assert not named.abstained  # 화웨이 and 어센드, found by sound
    assert named.search["evidence"]["missing_names"] == []
    answer = answer_question(lenient, "What yield has Xiaomi achieved on the Ascend 910C?")
    assert answer.abstained and answer.answer == NOT_FOUND["en"]
    assert answer.search["evidence"]["missing_names"] == ["Xiaomi"]
    assert answer.flags == ("no passage names Xiaomi",)
    off = Retriever(lenient.config.replace(abstain_on_missing_names=False),
                    index=retriever.index, embedder=retriever.embedder)
    assert not answer_question(off, "What yield has Xiaomi achieved on the Ascend 910C?").abstained


def test_a_question_asking_for_a_figure_no_sentence_gives_beside_its_names_abstains(retriever):
    # Coverage is off, to test the kind check alone: 칭화대 is named, but its sentence
    # ("칭화대와 베이징대는 AI 학부를 운영하고 있음") gives no number.
    lenient = Retriever(retriever.config.replace(abstain_min_coverage=0.0),
                        index=retriever.index, embedder=retriever.embedder)
    question = "칭화대의 AI 학부 학생 수는 몇 명인가?"
    answer = answer_question(lenient, question)
    assert answer.abstained
    assert answer.search["evidence"]["kind"] == "number"
    assert answer.search["evidence"]["kind_given"] is False
    assert answer.flags == (
        "no passage gives the number of 학생 asked for beside the question's names",)
    off = Retriever(lenient.config.replace(abstain_on_missing_kind=False),
                    index=retriever.index, embedder=retriever.embedder)
    assert not answer_question(off, question).abstained
    # The same kind beside the names: 화웨이's sentence gives 40%.
    given = answer_question(lenient, "화웨이는 어센드 910C 칩의 수율을 몇 %까지 높였는가?")
    assert not given.abstained and "40%" in given.answer
    assert given.search["evidence"]["kind_given"] is True


def test_a_figure_must_stand_beside_what_it_is_asked_of(retriever):
    # 가격 has its figure (물 가격 3% 상승); no sentence gives one of 요금.
    lenient = Retriever(retriever.config.replace(abstain_min_coverage=0.0),
                        index=retriever.index, embedder=retriever.embedder)
    asked_of_price = answer_question(lenient, "냉각에 영향을 주는 물 가격은 몇 % 상승했는가?")
    assert not asked_of_price.abstained and "3%" in asked_of_price.answer
    assert asked_of_price.search["evidence"]["focus"] == ["가격"]
    asked_of_fees = answer_question(lenient, "데이터센터 전력 요금은 몇 % 상승했는가?")
    assert asked_of_fees.abstained
    assert asked_of_fees.flags[-1] == (
        "no passage gives the share of 요금 asked for beside the question's names")


def test_an_english_focus_word_is_found_as_written_at_a_word_start(retriever):
    # An English question's focus word the lexicon does not know is looked for as written:
    # "R&D" stands in the table row that gives 7%, "employee" nowhere.
    scored = score_sentences(retriever, retriever.search("R&D 예산은 매년 몇 % 증액되는가?"))
    assert kind_given(retriever, [], scored, ("예산",))
    assert kind_given(retriever, [], scored, ("r&d",))
    assert not kind_given(retriever, [], scored, ("employee",))


def test_an_english_question_may_quote_more_sentences(retriever):
    # Every sentence fits the margin, so each answer quotes as many as its language allows.
    config = retriever.config.replace(
        sentence_margin=10.0, answer_sentences=1, answer_sentences_english=3,
        abstain_min_coverage=0.0, abstain_min_sentence_english=0.0,
        abstain_on_missing_names=False, abstain_on_missing_kind=False)
    wide = Retriever(config, index=retriever.index, embedder=retriever.embedder)
    korean = answer_question(wide, "화웨이 어센드 칩의 수율")
    english = answer_question(wide, "Huawei Ascend chip yield")
    assert len(sentences_with_markers(korean.answer)) == 1
    assert len(sentences_with_markers(english.answer)) == 3


def test_a_sentence_giving_the_kind_asked_for_scores_higher(retriever):
    question = "중국 정부가 인터넷 플러스 전략을 발표한 것은 언제인가?"
    result = retriever.search(question, k=5)
    plain = Retriever(retriever.config.replace(sentence_kind_weight=0.0),
                      index=retriever.index, embedder=retriever.embedder)
    with_bonus = {(s.hit.chunk_id, s.start): s for s in score_sentences(retriever, result)}
    without = {(s.hit.chunk_id, s.start): s for s in score_sentences(plain, result)}
    assert any(s.gives_kind for s in with_bonus.values())
    assert any(not s.gives_kind for s in with_bonus.values())
    for key, s in with_bonus.items():
        bonus = retriever.config.sentence_kind_weight if s.gives_kind else 0.0
        assert s.score == pytest.approx(without[key].score + bonus)


def test_a_title_line_is_quoted_only_when_the_title_is_asked_for(retriever):
    title_line = "중국 인공지능 개발 정책과 사례:"
    topic = answer_question(retriever, "중국 인공지능 개발 정책과 사례의 방향은?")
    assert not topic.abstained and title_line not in topic.answer
    asked = answer_question(retriever, "중국 인공지능 개발 정책과 사례 글의 제목은?")
    assert asked.answer.startswith(title_line)


def test_evidence_threshold_is_inclusive():
    assert Evidence(0.45, 0.3, 0.3).supported(0.45, 0.3)
    assert not Evidence(0.9, 0.9, 0.9, ("Moonshot AI",)).supported(0.45, 0.3)
    assert Evidence(0.9, 0.9, 0.9, ("Moonshot AI",)).supported(0.45, 0.3, names_required=False)
    assert not Evidence(0.9, 0.9, 0.9, (), "date", False).supported(0.45, 0.3)
    assert Evidence(0.9, 0.9, 0.9, (), "date", False).supported(0.45, 0.3, kind_required=False)
    assert not Evidence(0.44, 0.9, 0.9).supported(0.45, 0.3)
    assert not Evidence(0.9, 0.29, 0.9).supported(0.45, 0.3)


@pytest.mark.parametrize(("language", "message"), sorted(NOT_FOUND.items()))
def test_abstain_speaks_the_reply_language(retriever, language, message):
    result = retriever.search(ANSWERABLE[0][0], k=5)
    answer = abstain(result, language, "llm", Evidence(0.0, 0.0, 0.0))
    assert (answer.answer, answer.abstained, answer.mode, answer.language) == (
        message, True, "llm", language)
    assert answer.citations == ()
    assert answer.closest == result.hits[:3]
    assert answer.search["evidence"] == {"coverage": 0.0, "best_sentence": 0.0,
                                         "top_passage": 0.0, "missing_names": [],
                                         "kind": None, "kind_given": True, "focus": [],
                                         "best_overlap": 0.0, "names": 0,
                                         "kind_near": True}


@pytest.mark.parametrize("question", [ANSWERABLE[0][0], UNANSWERABLE_KO[0]])
def test_to_dict_has_exactly_the_documented_keys_and_is_json(retriever, question):
    answer = answer_question(retriever, question)
    data = answer.to_dict()
    assert set(data) == ANSWER_KEYS
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    for c in data["citations"]:
        assert {"marker", "chunk_id", "doc_id", "start", "end", "text", "quote_start",
                "quote_end"} <= set(c)
    for h in data["closest"]:
        assert {"rank", "chunk_id", "doc_id", "text"} <= set(h)
    assert data["search"]["variants"][0]["kind"] == "original"


def test_unknown_mode_is_a_query_error(retriever):
    with pytest.raises(QueryError, match="unknown answer mode 'poem'"):
        answer_question(retriever, ANSWERABLE[0][0], mode="poem")
    with pytest.raises(QueryError):
        next(stream_answer(retriever, ANSWERABLE[0][0], mode="poem"))


def test_empty_question_is_a_query_error(retriever):
    with pytest.raises(QueryError, match="empty"):
        answer_question(retriever, "   ")


def test_document_filter_is_respected(retriever):
    # The chip yield is in beta; asked of alpha alone, nothing may come from beta.
    events = events_of(retriever, "화웨이 어센드 910C 칩의 수율은?", doc_ids=["alpha"])
    assert {h.doc_id for h in events[0].hits} == {"alpha"}
    answer = events[-1].answer
    assert {c.doc_id for c in answer.citations} <= {"alpha"}
    assert {h.doc_id for h in answer.closest} <= {"alpha"}
    assert "910C" not in answer.answer


def test_unknown_document_is_a_query_error(retriever):
    with pytest.raises(QueryError, match="unknown document id"):
        answer_question(retriever, ANSWERABLE[0][0], doc_ids=["gamma"])


def test_k_limits_the_passages_read(retriever):
    events = events_of(retriever, ANSWERABLE[0][0], k=2)
    assert len(events[0].hits) == 2
    assert isinstance(events[-1].answer, Answer)


def test_mixed_question_is_answered_in_english(retriever):
    answer = answer_question(retriever, "화웨이 어센드 910C yield is what?")
    assert answer.language == "en"
    if answer.abstained:
        assert answer.answer == NOT_FOUND["en"]


def test_a_sentence_repeated_in_a_report_is_quoted_once(tmp_path):
    from conftest import make_config, write_corpus

    from rag.indexing import build_index

    line = "글로벌 AI 패권 경쟁이 심화되고 있음"
    write_corpus(tmp_path / "corpus",
                 {"r.txt": f"감마 보고서\n\n{line}\n\n{line}\n\n1 개요\n- 딴 얘기임\n"})
    config = make_config(tmp_path, answer_sentences=2, sentence_margin=1.0)
    build_index(config)
    answer = answer_question(Retriever(config), "글로벌 AI 패권 경쟁이 심화되고 있음")
    # Both copies score the same and both fit the margin; the answer quotes one.
    assert answer.answer.count(line) == 1


BIBLIOGRAPHY_REPORT = (
    "감마 보고서\n"
    "Ⅰ. 동향\n"
    "딥시크 모델은 번역과 요약에 쓰인다.1)\n"
    "1) 딥시크 모델 번역 요약 보고서(2025)\n"
    "Ⅱ. 결론\n"
    "결론 문장이다.\n"
    "참고문헌\n"
    "• 딥시크 모델 번역 요약 보고서(2025)\n"
)


@pytest.fixture(scope="module")
def bibliography(tmp_path_factory):
    from conftest import make_config, write_corpus

    from rag.embedding import HashEmbedder
    from rag.indexing import build_index

    config = make_config(tmp_path_factory.mktemp("bibliography"))
    write_corpus(config.corpus_dir, {"gamma.txt": BIBLIOGRAPHY_REPORT})
    build_index(config, embedder=HashEmbedder())
    return Retriever(config, embedder=HashEmbedder())


def penalties(retriever, question):
    """Each scored sentence's text → the score less its cosine, overlap and rank parts."""
    scored = score_sentences(retriever, retriever.search(question, k=10))
    cfg = retriever.config
    return {s.text: round(s.score - s.cosine - cfg.sentence_overlap_weight * s.overlap
                          - cfg.sentence_rank_weight / s.hit.rank, 6) for s in scored}


def test_bibliography_and_footnotes_count_less_unless_a_source_is_asked_for(bibliography):
    penalty = bibliography.config.bibliography_penalty
    assert penalty > 0
    by_text = penalties(bibliography, "딥시크 모델은 어디에 쓰이나?")
    assert by_text["딥시크 모델은 번역과 요약에 쓰인다.1)"] == 0
    assert by_text["1) 딥시크 모델 번역 요약 보고서(2025)"] == -penalty
    assert by_text["• 딥시크 모델 번역 요약 보고서(2025)"] == -penalty
    for question in ("딥시크 모델 수치의 출처는?", "Which source does it cite for DeepSeek?"):
        assert set(penalties(bibliography, question).values()) == {0}
    # "open-source" names no source.
    assert -penalty in penalties(bibliography, "Is DeepSeek an open-source model?").values()


def test_a_bracketed_number_in_the_report_is_not_a_citation_marker(tmp_path) -> None:
    from conftest import make_config, write_corpus

    from rag.embedding import HashEmbedder
    from rag.indexing import build_index
    from rag.render import answer_html

    config = make_config(tmp_path)
    write_corpus(config.corpus_dir, {"부산항 물동량.txt": (
        "항만 물동량 보고서\n\n부산항의 컨테이너 물동량은 2,400만 TEU로 집계되었다[1].\n"
        "[1] 해양수산부 통계 참조.\n")})
    build_index(config, embedder=HashEmbedder())
    answer = answer_question(Retriever(config, embedder=HashEmbedder()),
                             "부산항의 컨테이너 물동량은 얼마인가?")
    assert not answer.abstained and "2,400만 TEU" in answer.answer
    assert "［1］" in answer.answer  # the report's own mark, as text
    assert re.findall(r"\[(\d+)\]", answer.answer) == [str(c.marker) for c in answer.citations]
    html = answer_html(answer.answer, [c.marker for c in answer.citations], 1)
    assert html.count('class="cite"') == len(answer.citations)


def test_the_rules_decide_for_an_embedder_the_confidence_was_not_fitted_on(retriever):
    # The hashing embedder's similarities are on another scale than the fitted model's.
    asked = Retriever(retriever.config.replace(abstention="fitted"), index=retriever.index,
                      embedder=retriever.embedder)
    answer = answer_question(asked, ANSWERABLE[1][0])
    assert answer.confidence is None and answer.to_dict()["confidence"] is None


def test_the_fitted_confidence_decides_for_its_own_embedder(retriever):
    from rag.abstention import load_model

    fitted = Retriever(retriever.config.replace(model=load_model().embedder,
                                                abstention="fitted"),
                       index=retriever.index, embedder=retriever.embedder)
    threshold = fitted.config.abstain_min_confidence
    for question in [q for q, _ in ANSWERABLE] + UNANSWERABLE_KO:
        answer = answer_question(fitted, question)
        assert 0.0 <= answer.confidence <= 1.0
        assert answer.abstained == (answer.confidence < threshold)
    # Under the rules the same confidence is shown, but the rules decide.
    rules = Retriever(fitted.config.replace(abstention="rules"), index=retriever.index,
                      embedder=retriever.embedder)
    for question in [q for q, _ in ANSWERABLE] + UNANSWERABLE_KO:
        shown, decided = answer_question(rules, question), answer_question(fitted, question)
        assert shown.confidence == decided.confidence
        assert shown.abstained == answer_question(retriever, question).abstained
    # English questions were not fitted on (one small English set): the rules decide.
    assert answer_question(fitted, "Huawei Ascend 910C yield?").confidence is None


def test_a_figure_counts_as_near_when_its_passage_names_the_question_s_names(retriever):
    # The loose form of the kind check, an abstention feature: the names may stand in
    # another sentence of the passage that gives the figure.
    question = "화웨이 어센드 910C 칩의 수율은 몇 %인가?"
    scored = score_sentences(retriever, retriever.search(question))
    assert kind_near(retriever, ["화웨이"], scored)
    assert not kind_near(retriever, ["샤오미"], scored)
    assert not kind_near(retriever, ["화웨이"], [replace(s, gives_kind=False) for s in scored])


def test_the_noun_for_what_is_asked_is_not_looked_for_in_the_passages(retriever):
    # 정도 names what is asked (the answer is "40%"); the passage need not use the word.
    result = retriever.search("화웨이가 어센드 910C 칩의 수율을 높인 정도는?", k=5)
    evidence = assess_evidence(retriever, result, score_sentences(retriever, result))
    assert evidence.coverage == 1.0


def test_a_question_may_word_its_verb_otherwise_than_the_passage(retriever):
    # 뛰다 is how the asker words 상승; what the question is about is all there.
    result = retriever.search("냉각에 영향을 주는 물 가격이 뛴 비율은?", k=5)
    evidence = assess_evidence(retriever, result, score_sentences(retriever, result))
    assert evidence.coverage == 1.0
    # A noun the passages do not hold still counts against the question.
    other = retriever.search("냉각에 영향을 주는 전기 가격이 뛴 비율은?", k=5)
    assert assess_evidence(retriever, other,
                           score_sentences(retriever, other)).coverage < 1.0


def test_an_english_question_searched_by_its_words_alone_is_unsure() -> None:
    from rag.answer import unsure_reason
    from rag.query import Query, read_query
    from rag.retrieval import SearchResult

    def result(language: str, *variants: dict) -> SearchResult:
        return SearchResult(Query("q", language=language), "hybrid", (),
                            ({"kind": "original", "retrievers": ["dense", "bm25"]},
                             *variants), {})

    glossary = {"kind": "glossary", "retrievers": ["bm25"]}
    assert "English words alone" in unsure_reason(result("en", glossary))
    # A lexicon or a translation carries the words over: nothing speaks against the quote.
    assert unsure_reason(result("en", {"kind": "lexicon", "retrievers": ["bm25"]})) == ""
    assert unsure_reason(result("en", {"kind": "translation", "retrievers": ["dense"]})) == ""
    # Looked up but searched by nothing (dense-only mode, say): still unsure.
    assert unsure_reason(result("en", {"kind": "lexicon", "retrievers": []}))
    assert unsure_reason(result("ko")) == ""
    # Mixed: unsure when the grammar is English, not when it is Korean.
    mixed = SearchResult(read_query("Which center is 주경원 from?"), "hybrid", (), (glossary,))
    assert mixed.language == "mixed" and unsure_reason(mixed)
    korean = SearchResult(read_query("blues in the night을 부른 가수는?"), "hybrid", (),
                          (glossary,))
    assert korean.language == "mixed" and unsure_reason(korean) == ""


# Each fact lies passages away from the title line (chunks are 64 tokens here).
_FILLER = ("개요\n출시 당시 여러 매체가 이를 다루었고 평가는 대체로 엇갈렸다. 이후 여러 차례 "
           "개정과 보완이 이루어졌으며 관련 논의는 지금도 이어지고 있다. 초기 반응은 "
           "조심스러웠으나 시간이 지나며 널리 알려졌고 여러 분야에서 언급되었다.\n\n")
ARTICLES = {
    "한빛 스마트폰 X9.txt": "한빛 스마트폰 X9\n\n" + _FILLER * 3
    + "사양\n배터리 용량은 내장형 3,000 mAh이다. 화면은 6.2인치이다.\n",
    "김소월.txt": "김소월\n\n" + _FILLER * 3
    + "생애\n그는 평안북도에서 태어났다. 1925년 첫 시집을 펴냈다.\n",
    "부산항 물동량.txt": "부산항 물동량\n\n" + _FILLER * 3
    + "현황\n컨테이너 물동량은 2,400만 TEU였다.\n",
}


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> Retriever:
    """Three short articles whose sentences do not repeat the subject their title names."""
    from rag.embedding import HashEmbedder
    from rag.indexing import build_index
    from tests.conftest import make_config, write_corpus

    root = tmp_path_factory.mktemp("articles")
    write_corpus(root / "corpus", ARTICLES)
    config = make_config(root)
    build_index(config, embedder=HashEmbedder())
    return Retriever(config, embedder=HashEmbedder())


@pytest.mark.parametrize(("question", "figure"), [
    ("한빛 스마트폰 X9의 배터리 용량은?", "3,000 mAh"),
    ("김소월이 첫 시집을 펴낸 해는?", "1925년"),
])
def test_a_document_s_title_names_what_its_sentences_leave_out(articles, question, figure):
    result = articles.search(question, k=2)
    evidence = assess_evidence(articles, result, score_sentences(articles, result))
    assert evidence.coverage == 1.0 and not evidence.missing_names and evidence.kind_given
    answer = answer_question(articles, question)
    assert not answer.abstained and figure in answer.answer
    # Another article's subject is not named by this one's title.
    other = articles.search(question.replace("한빛", "두리").replace("김소월", "윤동주"), k=2)
    assert assess_evidence(articles, other, score_sentences(articles, other)).missing_names


def test_a_korean_term_counts_where_a_passage_spells_it_though_tokenized_otherwise():
    from rag.answer import _spelled_in

    flat = "에스퍼타입포켓몬에게강한타입은악타입이다"
    assert _spelled_in("에스퍼", flat) and _spelled_in("포켓몬", flat)
    # One letter is too little to tell, and Latin words are left to the tokenizer.
    assert not _spelled_in("퍼", flat) and not _spelled_in("ai", "said")
    assert not _spelled_in("고스트", flat)
