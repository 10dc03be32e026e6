"""Footnotes: marks found on the text they follow, notes matched to them by number."""

from rag.chunking import Sentence
from rag.footnotes import Footnote, citing_text, find_footnotes

# Shaped like the KLID article: marks after a sentence and after a heading, notes on their
# own line, and a mark followed on the same line by an earlier note ("…된다.10) 9) …").
TEXT = ("시장은 2,400억 달러에 이를 전망이다.1) 특히 AIGC가 꼽힌다.\n"
        "1) Coherent Solutions(2025). Trends\n"
        "Phase 2: 종합 로드맵 구축(2017–2020)2)\n"
        "규제를 최초 도입했다.3) 또한 허브를 조성했다.\n"
        "성장률을 기록할 것으로 예상된다.4) 3) Shanghai rolls out regulation\n"
        "4) 상하이시 인민정부 공식 홈페이지 (2024).\n"
        "2) New Generation AI Development Plan(2017)\n")


def notes_of(text):
    return {n.number: text[n.start:n.end] for n in find_footnotes(text)}


def test_each_note_is_matched_to_the_mark_before_it():
    assert notes_of(TEXT) == {
        1: "1) Coherent Solutions(2025). Trends",
        2: "2) New Generation AI Development Plan(2017)",
        3: "3) Shanghai rolls out regulation",
        4: "4) 상하이시 인민정부 공식 홈페이지 (2024).",
    }


def test_marks_are_where_the_citing_text_ends():
    marks = {n.number: TEXT[n.mark - 4:n.mark + 2] for n in find_footnotes(TEXT)}
    assert marks == {1: "망이다.1)", 2: "020)2)", 3: "입했다.3)", 4: "상된다.4)"}


def test_notes_are_in_reading_order():
    starts = [n.start for n in find_footnotes(TEXT)]
    assert starts == sorted(starts)


def test_a_numbered_list_without_marks_has_no_notes():
    text = "추진 과제는 다음과 같다.\n1) 인재 양성\n2) 인프라 확충\n"
    assert find_footnotes(text) == ()


def test_a_note_without_its_mark_is_not_taken():
    # "(2) 목표" is an enumeration in parentheses, not a mark.
    assert notes_of("목표는 다음과 같다 (2) 목표.\n2) 어떤 문서\n") == {}


def test_citing_text_is_the_sentence_holding_the_mark():
    text = "첫 문장이다. 둘째 문장이다.1) 셋째 문장이다.\n1) 출처\n"
    note = find_footnotes(text)[0]
    second = text.index("둘째")
    end = text.index(" 셋째")
    sentences = [Sentence("d", 0, 7, "첫 문장이다."), Sentence("d", second, end, text[second:end])]
    assert citing_text(text, note, sentences) == "둘째 문장이다.1)"


def test_citing_text_falls_back_to_the_line_before_the_mark():
    text = "Phase 2: 로드맵(2017–2020)2)\n2) 계획 문서\n"
    note = find_footnotes(text)[0]
    assert note == Footnote(2, text.index("2)\n"), text.index("2) 계획"), len(text) - 1)
    assert citing_text(text, note, []) == "Phase 2: 로드맵(2017–2020)"


def test_a_quoted_claim_loses_its_footnote_marks_only() -> None:
    from rag.footnotes import without_marks

    text = ("서론.\n금리는 3.5%로 동결되었다.4) 물가는 2.1%였다(2024)7)\n"
            "4) 한국은행, 통화정책 보고서.\n7) 통계청, 소비자물가 동향.\n")
    notes = find_footnotes(text)
    assert [n.number for n in notes] == [4, 7]
    start = text.index("금리")
    sentence = text[start:text.index("\n", start)]
    assert without_marks(sentence, start, list(notes)) == \
        "금리는 3.5%로 동결되었다. 물가는 2.1%였다(2024)"
    # A figure that merely looks like a mark stays: no note of that number lies in it.
    assert without_marks("1) 목표 2) 예산", 0, list(notes)) == "1) 목표 2) 예산"
