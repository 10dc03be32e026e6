"""Follow-up questions resolved against the previous turn by rules."""

from __future__ import annotations

import pytest

from rag.conversation import is_followup, resolve_followup


@pytest.mark.parametrize(("question", "previous", "expected", "rule"), [
    # Korean: a cue word, a topic particle, the entity of the same kind replaced.
    ("그럼 상하이는?", "베이징의 AI 정책은?", "상하이의 AI 정책은?", "entity"),
    ("그러면 선전은?", "상하이시의 AI 산업 규제는?", "선전시의 AI 산업 규제는?", "entity"),
    ("상하이는 어때?", "베이징은 AI에 얼마를 투자했나?", "상하이는 AI에 얼마를 투자했나?",
     "entity"),
    ("그리고 2024년에는?", "2025년 중국의 AI 예산은?", "2024년 중국의 AI 예산은?", "entity"),
    ("910B는?", "화웨이 어센드 910C 칩의 생산 수율은?", "화웨이 어센드 910B 칩의 생산 수율은?",
     "entity"),
    ("그럼 바이두는?", "딥시크의 사용자 수는 얼마인가?", "바이두의 사용자 수는 얼마인가?",
     "entity"),
    ("그럼 캐나다는?", "미국의 AI 규제는?", "캐나다의 AI 규제는?", "entity"),
    # The particle after the replaced word follows the new word's last sound.
    ("그럼 상하이는?", "베이징은 어떤 정책을 냈나?", "상하이는 어떤 정책을 냈나?", "entity"),
    ("그럼 선전은?", "상하이가 만든 펀드는?", "선전이 만든 펀드는?", "entity"),
    # Not an entity: the thing asked about (the last noun) is replaced.
    ("예산은?", "베이징의 AI 정책은?", "베이징의 AI 예산은?", "attribute"),
    # No slot of that kind: the new phrase goes in front.
    ("그럼 딥시크는?", "생성형 AI 사용자 수는?", "딥시크 생성형 AI 사용자 수는?", "prefix"),
    # English.
    ("What about Shanghai?", "What is Beijing's AI policy?", "What is Shanghai's AI policy?",
     "entity"),
    ("And R1?", "How much did DeepSeek spend to train V3?",
     "How much did DeepSeek spend to train R1?", "entity"),
    ("How about Alibaba?", "How much did DeepSeek spend to train V3?",
     "How much did Alibaba spend to train V3?", "entity"),
    ("And the budget?", "What is Beijing's AI policy?", "What is Beijing's AI budget?",
     "attribute"),
    # Across languages: the name is written in the previous question's language.
    ("what about Shanghai?", "베이징의 AI 정책은?", "상하이의 AI 정책은?", "entity"),
])
def test_followups_become_standalone_questions(question, previous, expected, rule) -> None:
    resolution = resolve_followup(question, previous)
    assert resolution.question == expected
    assert resolution.rule == rule
    assert resolution.followup and resolution.changed
    assert resolution.original == question


@pytest.mark.parametrize(("question", "previous"), [
    ("중국의 생성형 AI 특허 출원 수는?", "베이징의 AI 정책은?"),
    ("화웨이 어센드 910C 칩의 생산 수율은?", "베이징의 AI 정책은?"),
    ("And how does China regulate AI?", "What is Beijing's AI policy?"),
    ("How much did DeepSeek spend to train V3?", "What is Beijing's AI policy?"),
    ("그리고 딥시크는 V3 모델 개발에 얼마를 투자했나?", "베이징의 AI 정책은?"),
    ("알려줘?", "베이징의 AI 정책은?"),
    ("상하이", "베이징의 AI 정책은?"),  # no question mark and no cue: a search term
])
def test_standalone_questions_are_left_alone(question, previous) -> None:
    resolution = resolve_followup(question, previous)
    assert resolution.question == question
    assert not resolution.followup and not resolution.changed and resolution.rule == ""


def test_no_previous_turn_means_no_rewrite() -> None:
    for previous in (None, "", "  "):
        assert resolve_followup("그럼 상하이는?", previous).question == "그럼 상하이는?"


def test_whitespace_is_trimmed_and_the_result_is_deterministic() -> None:
    first = resolve_followup("  그럼 상하이는?  ", " 베이징의 AI 정책은? ")
    assert first == resolve_followup("  그럼 상하이는?  ", " 베이징의 AI 정책은? ")
    assert first.question == "상하이의 AI 정책은?" and first.original == "그럼 상하이는?"


def test_chained_followups_resolve_against_the_resolved_question() -> None:
    second = resolve_followup("그럼 상하이는?", "베이징의 AI 정책은?").question
    third = resolve_followup("선전은?", second).question
    assert third == "선전의 AI 정책은?"


def test_is_followup() -> None:
    assert is_followup("그럼 상하이는?")
    assert is_followup("What about Shanghai?")
    assert not is_followup("베이징의 AI 정책은?")
    assert not is_followup("How much did DeepSeek spend to train V3?")
