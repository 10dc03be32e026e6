"""Follow-up questions resolved against the previous turn by general rules.

The names come from several domains (medicine, cars, cities, history, phones, public
bodies) and none is in any list of the code: what a word names is read off the word.
"""

from __future__ import annotations

import pytest

from rag.conversation import is_followup, resolve_followup
from rag.glossary import Term


@pytest.mark.parametrize(("question", "previous", "expected", "rule"), [
    # Korean: a cue word, a topic particle, the name of the same form replaced.
    ("그럼 화이자는?", "모더나의 2023년 백신 매출은?", "화이자의 2023년 백신 매출은?", "entity"),
    # A name Kiwi does not know is a name too.
    ("그럼 리비안은?", "테슬라의 2024년 매출은?", "리비안의 2024년 매출은?", "entity"),
    ("그러면 부산은?", "서울시의 교통 예산은?", "부산의 교통 예산은?", "entity"),
    ("부산은 어때?", "서울은 교통에 얼마를 투자했나?", "부산은 교통에 얼마를 투자했나?", "entity"),
    ("그리고 2023년에는?", "2024년 국내 전기차 판매량은?", "2023년 국내 전기차 판매량은?",
     "entity"),
    ("S23은?", "갤럭시 S24의 출고가는?", "갤럭시 S23의 출고가는?", "entity"),
    ("그럼 기아는?", "현대자동차의 전기차 판매량은?", "기아의 전기차 판매량은?", "entity"),
    ("그럼 세종대왕은?", "이순신의 출생지는?", "세종대왕의 출생지는?", "entity"),
    ("그럼 SK하이닉스는?", "삼성전자의 HBM 점유율은?", "SK하이닉스의 HBM 점유율은?", "entity"),
    # An acronym stands in for an acronym; a Hangul name not for the topic acronym (AI).
    ("그럼 WHO는?", "CDC의 올해 예산은?", "WHO의 올해 예산은?", "entity"),
    ("그럼 프랑스는?", "독일의 AI 규제는?", "프랑스의 AI 규제는?", "entity"),
    # The particle after the replaced word follows the new word's last sound.
    ("그럼 부산은?", "서울은 어떤 정책을 냈나?", "부산은 어떤 정책을 냈나?", "entity"),
    ("그럼 광주는?", "인천이 만든 펀드는?", "광주가 만든 펀드는?", "entity"),
    # Not a name: the thing asked about (the last noun) is replaced.
    ("예산은?", "서울시의 교통 정책은?", "서울시의 교통 예산은?", "attribute"),
    # No slot of that kind: the new phrase goes in front.
    ("그럼 셀트리온은?", "바이오시밀러 시장 규모는?", "셀트리온 바이오시밀러 시장 규모는?",
     "prefix"),
    # English.
    ("What about Pfizer?", "What were Moderna's vaccine sales in 2023?",
     "What were Pfizer's vaccine sales in 2023?", "entity"),
    ("And Rivian?", "How many cars did Tesla sell in 2024?",
     "How many cars did Rivian sell in 2024?", "entity"),
    ("And 2023?", "How many cars did Tesla sell in 2024?",
     "How many cars did Tesla sell in 2023?", "entity"),
    ("How about New Zealand?", "What is Australia's carbon tax?",
     "What is New Zealand's carbon tax?", "entity"),
    ("And the budget?", "What is Seoul's transport policy?",
     "What is Seoul's transport budget?", "attribute"),
])
def test_followups_become_standalone_questions(question, previous, expected, rule) -> None:
    resolution = resolve_followup(question, previous)
    assert resolution.question == expected
    assert resolution.rule == rule
    assert resolution.followup and resolution.changed
    assert resolution.original == question


def test_the_issue_case_replaces_the_company_not_the_thing_asked_about() -> None:
    # The gazetteer version gave "모더나의 2023년 백신 화이자는?".
    resolution = resolve_followup("그럼 화이자는?", "모더나의 2023년 백신 매출은?")
    assert resolution.question == "화이자의 2023년 백신 매출은?"


GLOSSARY = [Term("Pfizer", "화이자", "pharma-report"), Term("Busan", "부산", "city-report")]


@pytest.mark.parametrize(("question", "previous", "expected"), [
    # Across languages, the corpus's own pairs write the name in the previous language.
    ("what about Pfizer?", "모더나의 2023년 백신 매출은?", "화이자의 2023년 백신 매출은?"),
    ("그럼 화이자는?", "What were Moderna's vaccine sales in 2023?",
     "What were Pfizer's vaccine sales in 2023?"),
    ("And Busan?", "서울의 교통 예산은?", "부산의 교통 예산은?"),
    # A name the corpus does not pair stays as written.
    ("What about Novavax?", "모더나의 2023년 백신 매출은?", "Novavax의 2023년 백신 매출은?"),
])
def test_a_name_is_written_in_the_previous_questions_language(question, previous,
                                                               expected) -> None:
    assert resolve_followup(question, previous, GLOSSARY).question == expected


@pytest.mark.parametrize(("question", "previous"), [
    ("국내 전기차 보조금 규모는?", "서울시의 교통 정책은?"),
    ("현대자동차의 전기차 판매량은?", "서울시의 교통 정책은?"),
    ("And how does Korea regulate drones?", "What is Seoul's transport policy?"),
    ("How much did Moderna spend on research in 2023?", "What is Seoul's transport policy?"),
    ("그리고 화이자는 백신 개발에 얼마를 투자했나?", "모더나의 2023년 백신 매출은?"),
    ("알려줘?", "서울시의 교통 정책은?"),
    ("부산", "서울시의 교통 정책은?"),  # no question mark and no cue: a search term
])
def test_standalone_questions_are_left_alone(question, previous) -> None:
    resolution = resolve_followup(question, previous)
    assert resolution.question == question
    assert not resolution.followup and not resolution.changed and resolution.rule == ""


def test_no_previous_turn_means_no_rewrite() -> None:
    for previous in (None, "", "  "):
        assert resolve_followup("그럼 부산은?", previous).question == "그럼 부산은?"


def test_whitespace_is_trimmed_and_the_result_is_deterministic() -> None:
    first = resolve_followup("  그럼 부산은?  ", " 서울의 교통 정책은? ")
    assert first == resolve_followup("  그럼 부산은?  ", " 서울의 교통 정책은? ")
    assert first.question == "부산의 교통 정책은?" and first.original == "그럼 부산은?"


def test_chained_followups_resolve_against_the_resolved_question() -> None:
    second = resolve_followup("그럼 화이자는?", "모더나의 2023년 백신 매출은?").question
    third = resolve_followup("2022년은?", second).question
    assert third == "화이자의 2022년 백신 매출은?"


def test_is_followup() -> None:
    assert is_followup("그럼 부산은?")
    assert is_followup("What about Pfizer?")
    assert not is_followup("서울시의 교통 정책은?")
    assert not is_followup("How much did Moderna spend on research in 2023?")
