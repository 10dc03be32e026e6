"""The exceptions the library raises; the CLI and UI turn them into one-line messages."""

from __future__ import annotations

from .language import HANGUL_SYLLABLE


class RagError(Exception):
    """Base class: every message says what went wrong, where, and what to do."""


class ConfigError(RagError):
    """A setting has an invalid value."""


class CorpusError(RagError):
    """The corpus is missing, empty, or holds a file that cannot be read."""


class QueryError(RagError):
    """A question is empty, too long, or otherwise unusable."""


class IndexNotFoundError(RagError):
    """No index exists where one was expected."""


class IndexMismatchError(RagError):
    """The index on disk was built with other settings or another model."""


class IndexLockedError(RagError):
    """Another process is updating the index; only one writer at a time."""


class IndexCancelledError(RagError):
    """An index update was cancelled before it was published; the index is unchanged."""


class IndexWriteError(RagError):
    """The index cannot be written (no permission, disk full); the old one is unchanged."""


class IndexCorruptError(RagError):
    """A file of the index is missing, truncated, or inconsistent with the manifest."""


class ModelUnavailableError(RagError):
    """A model cannot be loaded or built offline."""


class StoreError(RagError):
    """The database store cannot be reached or used (connection, server, permissions)."""


# What each kind of problem is, in Korean, for the UI's bilingual messages (the
# messages themselves are English, as in the CLI).
_KOREAN = {
    ConfigError: "설정 값이 잘못되었습니다",
    CorpusError: "보고서 파일을 처리할 수 없습니다",
    QueryError: "질문을 처리할 수 없습니다",
    IndexNotFoundError: "색인이 없습니다",
    IndexMismatchError: "색인이 다른 설정으로 만들어졌습니다",
    IndexLockedError: "다른 색인 작업이 진행 중입니다",
    IndexCancelledError: "색인이 취소되었습니다",
    IndexWriteError: "색인을 저장할 수 없습니다",
    IndexCorruptError: "색인이 손상되었습니다",
    ModelUnavailableError: "모델을 사용할 수 없습니다",
    StoreError: "데이터베이스를 사용할 수 없습니다",
}


def bilingual(exc: RagError) -> str:
    """`exc`'s message behind a Korean line saying what kind of problem it is; a message
    that already begins in Korean (one written in both languages) is kept as it is."""
    text = str(exc)
    if HANGUL_SYLLABLE.match(text):
        return text
    summary = next((_KOREAN[c] for c in type(exc).__mro__ if c in _KOREAN), "오류")
    return f"{summary} · {text}"
