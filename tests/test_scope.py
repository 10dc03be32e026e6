"""Questions that name their report: names mined from file names, scope and stripping."""

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
    assert find_scope("per the kistep brief", names).names == ("KISTEP",)


def test_no_scope_without_a_name_or_across_reports():
    names = document_names(DOCS)
    assert find_scope("중국의 AI 인재 정책은?", names) is None
    assert find_scope("KLIDS and KISTEPX are not names", names) is None
    assert find_scope("Do KISTEP and KLID agree on the fund size?", names) is None


def test_strip_names_keeps_the_rest_of_the_question():
    assert strip_names("By what year, per the KISTEP brief?", ["KISTEP"]) == \
        "By what year, per the brief?"
    assert strip_names("KLID's Table 2 lists how many cities?", ["KLID"]) == \
        "Table 2 lists how many cities?"
    assert strip_names("KLID 글에 따르면", ["KLID"]) == "글에 따르면"
