"""The error family's messages as the UI shows them: a Korean line, then the English."""

from __future__ import annotations

from rag.errors import (
    CorpusError,
    IndexCancelledError,
    IndexLockedError,
    RagError,
    StoreError,
    bilingual,
)


def test_each_kind_of_problem_is_named_in_korean_before_the_english_message() -> None:
    assert bilingual(IndexLockedError("an upload is still running; wait")) == (
        "다른 색인 작업이 진행 중입니다 · an upload is still running; wait")
    assert bilingual(IndexCancelledError("cancelled; the index is unchanged")).startswith(
        "색인이 취소되었습니다 · ")
    assert bilingual(StoreError("cannot reach postgresql://db")).startswith("데이터베이스")
    # A subclass nobody named takes its parent's line; the base class a general one.
    class DamagedFile(CorpusError):
        pass

    assert bilingual(DamagedFile("x.hwp is damaged")).startswith("보고서 파일을 처리할 수 없습니다")
    assert bilingual(RagError("something")) == "오류 · something"


def test_a_message_already_in_both_languages_is_kept() -> None:
    text = "고를 보고서가 없습니다 · pick the reports to remove first"
    assert bilingual(CorpusError(text)) == text
    # A Korean name inside an English message is not Korean prose.
    assert bilingual(CorpusError("no indexed report 보고서-1")).startswith("보고서 파일을")
