"""The exceptions the library raises; the CLI and UI turn them into one-line messages."""

from __future__ import annotations


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
