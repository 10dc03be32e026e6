"""The tables of the PostgreSQL store, created and migrated by numbered steps.

Every step runs once, in order, in its own transaction, and is recorded in
rag_migrations; a database written by a newer version of this package is refused rather
than misread. Rows carry the store version that added them (`added_in`) and the one that
removed them (`removed_in`), so a reader searching at version v sees exactly the index
of version v while a writer commits v + 1 (see store.py).
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import IndexMismatchError

log = logging.getLogger(__name__)

# One transaction per step; never edit a released step, append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: documents, chunks, sentences, the manifest row.
    """
    CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE rag_index (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        version bigint NOT NULL,
        manifest jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE rag_documents (
        doc_id text NOT NULL,
        added_in bigint NOT NULL,
        removed_in bigint,
        removed_at timestamptz,
        position integer NOT NULL,
        sha256 text NOT NULL,
        body jsonb NOT NULL
    );
    CREATE UNIQUE INDEX rag_documents_live ON rag_documents (doc_id) WHERE removed_in IS NULL;
    CREATE TABLE rag_chunks (
        id bigserial PRIMARY KEY,
        doc_id text NOT NULL,
        added_in bigint NOT NULL,
        removed_in bigint,
        ord integer NOT NULL,
        chunk_id text NOT NULL,
        body jsonb NOT NULL,
        tokens text[] NOT NULL,
        embedding vector NOT NULL
    );
    CREATE INDEX rag_chunks_doc ON rag_chunks (doc_id, added_in);
    CREATE TABLE rag_sentences (
        id bigserial PRIMARY KEY,
        doc_id text NOT NULL,
        added_in bigint NOT NULL,
        removed_in bigint,
        ord integer NOT NULL,
        body jsonb NOT NULL,
        embedding vector NOT NULL
    );
    CREATE INDEX rag_sentences_doc ON rag_sentences (doc_id, added_in);
    """,
)

_CREATE_LOG = """
CREATE TABLE IF NOT EXISTS rag_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
# Two processes migrating at once: the second waits for the first, then finds it done.
_MIGRATION_LOCK = 7_424_610_001


def live(alias: str = "") -> str:
    """The SQL condition that a row (of table `alias`) belongs to version %(v)s."""
    t = f"{alias}." if alias else ""
    return f"{t}added_in <= %(v)s AND ({t}removed_in IS NULL OR {t}removed_in > %(v)s)"


def schema_version(conn: Any) -> int:
    """The newest migration applied to the database of `conn` (0 for a bare database)."""
    row = conn.execute(
        "SELECT to_regclass('rag_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM rag_migrations"
                            ).fetchone()[0])


def migrate(conn: Any, target: int | None = None) -> int:
    """Apply the migrations the database lacks, up to `target` (all by default); the
    version reached. IndexMismatchError for a database newer than this package."""
    target = len(MIGRATIONS) if target is None else target
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(_CREATE_LOG)
        current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise IndexMismatchError(
            f"the database's schema is at version {current}, newer than this package "
            f"knows ({len(MIGRATIONS)}); upgrade korean-report-rag")
    for number in range(current + 1, target + 1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if schema_version(conn) >= number:
                continue  # another process applied it while this one waited
            conn.execute(MIGRATIONS[number - 1])
            conn.execute("INSERT INTO rag_migrations (version) VALUES (%s)", (number,))
        log.info("database schema migrated to version %d", number)
    return max(current, target)
