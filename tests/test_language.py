"""Which language a question is in: Latin names inside Korean do not make it English."""

import pytest

from rag.language import detect_language, reply_language


@pytest.mark.parametrize("question", [
    "딥시크(DeepSeek)가 V3 개발에 쓴 비용은?",
    "QwQ-32B 모델은?",
    "화웨이 어센드 910C 칩의 수율은?",
    "HBM 수출 통제는 언제 시작되었나?",
    "딥시크 V3 cost는?",  # an English word glued to a Korean particle reads as Korean
    "베이징 ‘AI for All’ 정책이 발표된 시기는?",  # a quoted name
    '보고서의 "Made in China 2025" 언급은?',
])
def test_korean_with_latin_names_is_korean(question):
    assert detect_language(question) == "ko"


@pytest.mark.parametrize("question", [
    "How much did DeepSeek spend on V3?",
    "What is HBM?",
    "Which company makes the Ascend 910C?",
    "list the AI plans of China",
    "When was the 'AI for All' policy announced?",  # quotes alone do not make it Korean
])
def test_english_is_english(question):
    assert detect_language(question) == "en"


@pytest.mark.parametrize("question", [
    "DeepSeek V3 비용은 how much?",
    "what is 딥시크의 투자 금액?",
])
def test_korean_and_english_grammar_together_is_mixed(question):
    assert detect_language(question) == "mixed"


@pytest.mark.parametrize("question", [
    "높이뛰기에서 처음 2m 기록을 세운 나이는?",        # a unit glued to a figure
    "색차 신호가 n + 0.5의 곱으로 결정되는 이유는?",   # a variable in a formula
    "o1-mini 모델의 출시일은 언제인가?",               # a model id with a digit
    "배터리 용량이 5kWh인 차량은?",
])
def test_units_and_ids_in_korean_are_not_english_words(question):
    assert detect_language(question) == "ko"


def test_text_without_letters_counts_as_korean():
    # Nothing English in it: numbers alone do not make an English question.
    assert detect_language("2025") == "ko"


@pytest.mark.parametrize(("question", "reply"), [
    ("딥시크(DeepSeek)가 V3 개발에 쓴 비용은?", "ko"),
    ("How much did DeepSeek spend on V3?", "en"),
    ("DeepSeek V3 비용은 how much?", "en"),  # ends in English: answered in English
    ("what is 딥시크의 투자 금액?", "en"),     # opens with an English question word
    ("Who founded 삼성전자?", "en"),           # an English question ending on a Korean name
    # Korean grammar around English titles: the predicate comes last, in Korean.
    ("blues in the night 을 부른 가수가 누구인가요?", "ko"),
    ("2008년 When I Grow Up이 차트에서 차지한 등수는?", "ko"),
    ("전설적인 기타 테크닉으로 King of the Blues란 타이틀을 얻은 인물은?", "ko"),
])
def test_reply_language(question, reply):
    assert reply_language(question) == reply
