"""Questions that name their report: names mined from file names, scope and stripping."""

import pytest

from rag.scope import Scope, document_names, find_scope, strip_names

DOCS = [
    ("kistep-global-ai-china-2025", "KISTEP 글로벌R&D혁신센터\n중국 AI 정책 global"),
    ("klid-china-ai-policy-2025", "KLID & SMART\nISSUE 돋보기 중국 AI policy"),
    ("kistep-semiconductors-2026", "KISTEP 브리프: 반도체"),
]


def test_names_are_file_name_acronyms_the_document_writes_in_capitals():
    names = document_names(DOCS)
    assert names == {
        "KISTEP": frozenset({"kistep-global-ai-china-2025", "kistep-semiconductors-2026"}),
        "KLID": frozenset({"klid-china-ai-policy-2025"}),
    }
    # "global", "policy" and "china" are in the file names but not written in capitals;
    # "AI" is too short to be a name.


def test_a_name_every_document_shares_names_nothing():
    assert document_names([("kistep-a", "KISTEP a"), ("kistep-b", "KISTEP b")]) == {}


def test_one_document_cannot_be_narrowed():
    assert document_names([("klid-report", "KLID report")]) == {}


def test_find_scope_in_english_and_korean():
    names = document_names(DOCS)
    assert find_scope("Which university is the KLID article's author from?", names) == Scope(
        ("KLID",), frozenset({"klid-china-ai-policy-2025"}))
    assert find_scope("KLID 글의 필자는?", names).doc_ids == {"klid-china-ai-policy-2025"}
    assert find_scope("per the KISTEP brief", names).names == ("KISTEP",)


@pytest.mark.parametrize("question", [
    "KLID 글에 따르면 시장 규모는?",
    "KLID에 따르면 시장 규모는?",
    "KLID '중국 인공지능(AI) 개발 정책과 사례' 글의 필자는?",
    "이 KLID 보고서의 발간호는?",
    "KLID 자료 결론에서 든 배경은?",
    "What does the KLID article say about data centers?",
    "What period does KLID's Table 1 cover?",
    "According to KLID, how large is the market?",
    "Which consultancy does KLID cite?",
    "How are agents characterised in KLID's list of trends?",
])
def test_a_cited_name_scopes(question):
    assert find_scope(question, document_names(DOCS)).names == ("KLID",)


@pytest.mark.parametrize(("question", "why"), [
    ("저자의 KLID 내 소속은?", "an organisation, not its text"),
    ("Which KLID center is the author from?", "an organisation, not its text"),
    ("KLID가 설립된 해는?", "the subject of a question"),
    ("KLID 글로벌 센터의 위치는?", "글 inside 글로벌 is no document noun"),
    ("per the klid article", "not written as the document writes it"),
])
def test_a_name_without_a_citing_cue_does_not_scope(question, why):
    assert find_scope(question, document_names(DOCS)) is None, why


def test_a_capitalised_word_is_not_an_acronym():
    # A guideline file who-2024.txt writes WHO; "Who" in a question is not it.
    names = document_names([("who-2024", "WHO 지침 본문"), ("unicef-2024", "UNICEF 보고서")])
    assert "WHO" in names
    assert find_scope("Who wrote the report on vaccines?", names) is None
    assert find_scope("Who wrote the WHO report on vaccines?", names).names == ("WHO",)


def test_no_scope_without_a_name_or_across_reports():
    names = document_names(DOCS)
    assert find_scope("중국의 AI 인재 정책은?", names) is None
    assert find_scope("KLIDS and KISTEPX are not names", names) is None
    assert find_scope("Do the KISTEP and KLID reports agree on the fund size?", names) is None


def test_strip_names_keeps_the_rest_of_the_question():
    assert strip_names("By what year, per the KISTEP brief?", ["KISTEP"]) == \
        "By what year, per the brief?"
    assert strip_names("KLID's Table 2 lists how many cities?", ["KLID"]) == \
        "Table 2 lists how many cities?"
    assert strip_names("KLID 글에 따르면", ["KLID"]) == "글에 따르면"
