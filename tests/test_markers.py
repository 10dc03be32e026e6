"""Citation markers and the report's own bracketed numbers."""

from rag.markers import MARKER, as_report_text


def test_a_marker_names_one_or_more_passages() -> None:
    found = [m.group(1) for m in MARKER.finditer("수율은 40%였다 [1]. 두 회사가 있다 [2, 3].")]
    assert found == ["1", "2, 3"]


def test_the_reports_own_bracketed_numbers_are_no_markers() -> None:
    text = as_report_text("The river floods each spring[12] and the dam [3, 4] holds.")
    assert text == "The river floods each spring［12］ and the dam ［3, 4］ holds."
    assert not MARKER.search(text)


def test_other_brackets_stay_as_they_are() -> None:
    text = "예산[단위: 억 원]은 [표 2]와 같다; 배열 a[i]"
    assert as_report_text(text) == text
