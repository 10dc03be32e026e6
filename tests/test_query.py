"""The question read once into a Query: made-up questions from several domains."""

from __future__ import annotations

import pytest

from rag.answer_kind import DATE, NUMBER
from rag.query import Query, read_query


@pytest.mark.parametrize(("text", "language", "reply"), [
    ("서울시가 교통 예산을 늘린 해는 언제인가?", "ko", "ko"),
    ("Who founded Moderna?", "en", "en"),
    ("Which clinic is 김민수 from?", "mixed", "en"),
    ("blues in the night을 부른 가수는?", "mixed", "ko"),
])
def test_the_language_and_the_language_to_answer_in(text, language, reply) -> None:
    query = read_query(text)
    assert (query.language, query.reply_language) == (language, reply)
    assert query.korean == (language == "ko")


def test_a_korean_question_is_read_for_its_kind_slot_focus_and_verbs() -> None:
    query = read_query("서울시가 교통 예산을 늘린 해는 언제인가?")
    assert query.kind == DATE and query.slot == "해"
    assert query.names == ("서울시",)
    assert query.predicates == frozenset({"늘리"})
    assert "예산" in query.terms and query.searched == query.text
    figure = read_query("모더나의 2023년 백신 매출은 얼마인가?")
    assert figure.kind == NUMBER and figure.focus == ("매출",)


def test_an_english_question_needs_a_lexicon_for_its_focus() -> None:
    query = read_query("How many employees does Pfizer have?")
    assert query.kind == NUMBER and query.names == ("Pfizer",)
    assert query.focus == () and query.slot is None and not query.predicates


@pytest.mark.parametrize(("text", "sources", "title"), [
    ("이 보고서가 인용한 자료는?", True, False),
    ("What is the title of the 2024 climate report?", False, True),
    ("감귤 수확량은 얼마나 늘었나?", False, False),
])
def test_what_the_question_asks_about_the_reports_themselves(text, sources, title) -> None:
    query = read_query(text)
    assert (query.asks_sources, query.asks_title) == (sources, title)


def test_a_follow_up_keeps_what_was_typed() -> None:
    query = read_query("화이자의 2023년 백신 매출은?", asked="그럼 화이자는?", rewrite="entity")
    assert query.text == "화이자의 2023년 백신 매출은?" and query.asked == "그럼 화이자는?"
    assert query.rewrite == "entity"
    assert read_query("감귤 수확량은?").asked == "감귤 수확량은?"


def test_a_query_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Query("q").text = "other"  # type: ignore[misc]
