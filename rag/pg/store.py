"""An index in PostgreSQL: written as one transaction, read as one consistent version.

A write marks the rows of removed or changed documents as removed at the new version
and inserts the rows of new or changed ones; unchanged documents keep their rows, so
adding one report to a large collection sends only that report. Readers load the
documents, chunks, sentences and BM25 terms of one version (vectors stay in the
database, searched there with pgvector) and filter every query to that version; rows
removed more than `_KEEP_REMOVED` ago are deleted by the next write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..bm25 import BM25Index
from ..chunking import Chunk, Sentence
from ..config import Config
from ..errors import (
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    StoreError,
)
from ..ingest import Document
from .schema import MIGRATIONS, live, migrate, schema_version
from .search import Connection, StoredSearch, StoredVectors

log = logging.getLogger(__name__)

# A reader that loaded a version keeps finding its rows for this long after a writer
# removed them (it reloads at its next question, see Retriever.refresh).
_KEEP_REMOVED = "15 minutes"
_WRITER_LOCK = 742_461_002  # with the schema's hash: pg_try_advisory_lock(int4, int4)
_REBUILD = "rebuild it with: rag index --rebuild"
# As the file index builds its graph (rag/dense.py): at 1M chunks m = 16 and 128 reached
# recall@10 0.91 only (bench/pg_scale.py).
HNSW_EF_CONSTRUCTION = 200


def shown_url(url: str) -> str:
    """`url` without its password, for messages and manifests."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str) -> Any:
    """An autocommit connection to the store at `url`; StoreError saying why not."""
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError("the PostgreSQL store needs psycopg: pip install -e '.[postgres]'"
                         ) from exc
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"cannot connect to the PostgreSQL store at {shown_url(url)} ({reason}); check "
            "RAG_STORE and that the server is running and accepts this user") from exc


def _vector_types(conn: Any, url: str) -> None:
    from pgvector.psycopg import register_vector

    try:
        register_vector(conn)
    except Exception as exc:  # psycopg.ProgrammingError: the extension is missing
        raise StoreError(f"the database at {shown_url(url)} has no pgvector extension "
                         f"({exc}); install pgvector on the server") from exc


@contextmanager
def writer_lock(url: str) -> Iterator[None]:
    """Hold the store's writer lock (a session advisory lock: the server drops it when
    the holder's connection dies, kill -9 included); IndexLockedError if it is held."""
    conn = connect(url)
    try:
        migrate(conn)
        # Keyed by schema too: indexes in two schemas of one database are written apart.
        if not conn.execute("SELECT pg_try_advisory_lock(%s::int, hashtext(current_schema()))",
                            (_WRITER_LOCK,)).fetchone()[0]:
            raise IndexLockedError(
                f"another process is updating the index in {shown_url(url)}; try again "
                "when it has finished")
        yield
    finally:
        conn.close()


def read_manifest(url: str) -> dict[str, Any]:
    """The manifest of the store's current version."""
    conn = connect(url)
    try:
        return _manifest_row(conn, url)[1]
    finally:
        conn.close()


def _manifest_row(conn: Any, url: str) -> tuple[int, dict[str, Any]]:
    if schema_version(conn) == 0:
        raise IndexNotFoundError(f"no index in the database {shown_url(url)}; build it "
                                 "with: rag index")
    row = conn.execute("SELECT version, manifest FROM rag_index").fetchone()
    if row is None:
        raise IndexNotFoundError(f"no index in the database {shown_url(url)}; build it "
                                 "with: rag index")
    return int(row[0]), dict(row[1])


def save(url: str, manifest: dict[str, Any], documents: list[Document],
         chunks: list[Chunk], embeddings: np.ndarray, tokens: list[list[str]],
         sentences: list[Sentence], sentence_vectors: np.ndarray, config: Config,
         kept: frozenset[str]) -> int:
    """Write the index as the store's next version, in one transaction; that version.

    `kept` are documents whose rows the store already holds unchanged (their vectors in
    `embeddings` may be placeholders); they are not sent again when the stored rows were
    built with the same settings.
    """
    conn = connect(url)
    try:
        migrate(conn)
        _vector_types(conn, url)
        with conn.transaction():
            # Writers queue here (readers are not blocked: they take no lock on it).
            conn.execute("LOCK TABLE rag_index IN EXCLUSIVE MODE")
            row = conn.execute("SELECT version, manifest FROM rag_index").fetchone()
            version = (int(row[0]) if row else 0) + 1
            old = dict(row[1]) if row else {}
            same = bool(old) and all(old.get(k) == v for k, v in manifest.items()
                                     if k in _SETTING_KEYS)
            live = dict(conn.execute(
                "SELECT doc_id, sha256 FROM rag_documents WHERE removed_in IS NULL"
            ).fetchall())
            keep = {d.doc_id for d in documents
                    if same and d.doc_id in kept and live.get(d.doc_id) == d.sha256}
            drop = sorted(set(live) - keep)
            if old and old.get("dim") != manifest["dim"]:
                # Vectors of another length cannot share the HNSW index: drop at once.
                for table in ("rag_sentences", "rag_chunks", "rag_documents"):
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DROP INDEX IF EXISTS rag_chunks_hnsw")
                conn.execute("DROP INDEX IF EXISTS rag_sentences_hnsw")
            else:
                for table in ("rag_documents", "rag_chunks", "rag_sentences"):
                    conn.execute(
                        f"UPDATE {table} SET removed_in = %s"
                        + (", removed_at = now()" if table == "rag_documents" else "")
                        + " WHERE removed_in IS NULL AND doc_id = ANY(%s)", (version, drop))
            _insert(conn, version, documents, chunks, embeddings, tokens, sentences,
                    sentence_vectors, keep)
            order = [d.doc_id for d in documents]
            conn.execute(
                "UPDATE rag_documents d SET position = u.pos FROM unnest(%s::text[], "
                "%s::int[]) AS u(doc_id, pos) WHERE d.doc_id = u.doc_id AND "
                "d.removed_in IS NULL", (order, list(range(len(order)))))
            _collect_garbage(conn)
            kind = _ensure_ann(conn, len(chunks), manifest["dim"], config)
            manifest = {**manifest, "dense_index": kind, "store_version": version}
            from psycopg.types.json import Jsonb

            conn.execute(
                "INSERT INTO rag_index (id, version, manifest) VALUES (true, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, "
                "manifest = EXCLUDED.manifest, updated_at = now()",
                (version, Jsonb(manifest)))
        log.info("stored index version %d in %s (%d documents sent, %d kept)", version,
                 shown_url(url), len(documents) - len(keep), len(keep))
        return version
    finally:
        conn.close()


# Manifest keys that decide whether stored rows can be reused (build_settings and the
# precision); counts, times and hashes may differ.
_SETTING_KEYS = frozenset({
    "format_version", "model", "dim", "embed_backend", "embed_context", "footnote_context",
    "chunk_tokens", "chunk_overlap_tokens", "token_encoding", "bm25_tokenizer",
    "embed_precision",
})


def _insert(conn: Any, version: int, documents: list[Document], chunks: list[Chunk],
            embeddings: np.ndarray, tokens: list[list[str]], sentences: list[Sentence],
            sentence_vectors: np.ndarray, keep: set[str]) -> None:
    from psycopg.types.json import Jsonb

    with conn.cursor().copy(
            "COPY rag_documents (doc_id, added_in, position, sha256, body) FROM STDIN") as cp:
        for position, d in enumerate(documents):
            if d.doc_id not in keep:
                cp.write_row((d.doc_id, version, position, d.sha256, Jsonb(asdict(d))))
    ords: dict[str, int] = {}
    with conn.cursor().copy("COPY rag_chunks (doc_id, added_in, ord, chunk_id, body, "
                            "tokens, embedding) FROM STDIN") as cp:
        for c, terms, vector in zip(chunks, tokens, embeddings, strict=True):
            ord_ = ords[c.doc_id] = ords.get(c.doc_id, -1) + 1
            if c.doc_id not in keep:
                cp.write_row((c.doc_id, version, ord_, c.chunk_id, Jsonb(asdict(c)), terms,
                              np.asarray(vector, np.float32)))
    ords.clear()
    with conn.cursor().copy("COPY rag_sentences (doc_id, added_in, ord, body, embedding) "
                            "FROM STDIN") as cp:
        for x, vector in zip(sentences, sentence_vectors, strict=True):
            ord_ = ords[x.doc_id] = ords.get(x.doc_id, -1) + 1
            if x.doc_id not in keep:
                cp.write_row((x.doc_id, version, ord_, Jsonb(asdict(x)),
                              np.asarray(vector, np.float32)))


def _collect_garbage(conn: Any) -> None:
    """Delete rows removed long enough ago that no reader still searches them."""
    cutoff = conn.execute(
        f"SELECT max(removed_in) FROM rag_documents WHERE removed_at < now() - interval "
        f"'{_KEEP_REMOVED}'").fetchone()[0]
    if cutoff is None:
        return
    for table in ("rag_chunks", "rag_sentences", "rag_documents"):
        conn.execute(f"DELETE FROM {table} WHERE removed_in <= %s", (cutoff,))


def _ensure_ann(conn: Any, n_chunks: int, dim: int, config: Config) -> str:
    """HNSW indexes (cosine) once the collection outgrows exact search, as the file
    index does; "flat" (an exact scan) below that."""
    if n_chunks <= config.flat_max_chunks:
        conn.execute("DROP INDEX IF EXISTS rag_chunks_hnsw")
        conn.execute("DROP INDEX IF EXISTS rag_sentences_hnsw")
        return "flat"
    for table in ("rag_chunks", "rag_sentences"):
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw "
            f"((embedding::vector({dim})) vector_cosine_ops) "
            f"WITH (m = {config.hnsw_m}, ef_construction = {HNSW_EF_CONSTRUCTION})")
    return "hnsw"


def load(url: str, config: Config, check: Any) -> Any:
    """The store's current version as an Index (rag.store.Index), its settings checked
    by `check(manifest)`; vectors stay in the database."""
    from ..store import Index

    conn = connect(url)
    try:
        current = schema_version(conn)
        if current != len(MIGRATIONS):
            if current == 0:
                raise IndexNotFoundError(f"no index in the database {shown_url(url)}; "
                                         "build it with: rag index")
            raise IndexMismatchError(
                f"the database {shown_url(url)} has schema version {current} and this "
                f"package needs {len(MIGRATIONS)}; run rag index to migrate it")
        _vector_types(conn, url)
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            version, manifest = _manifest_row(conn, url)
            check(manifest)
            params = {"v": version}
            documents = [Document(**row[0]) for row in conn.execute(
                f"SELECT body FROM rag_documents d WHERE {live('d')} "
                "ORDER BY position", params)]
            order = ("JOIN rag_documents d ON d.doc_id = x.doc_id AND "
                     f"{live('d')} WHERE {live('x')} "
                     "ORDER BY d.position, x.ord")
            chunk_rows = conn.execute(
                f"SELECT x.id, x.body, x.tokens FROM rag_chunks x {order}", params).fetchall()
            sentence_rows = conn.execute(
                f"SELECT x.id, x.body FROM rag_sentences x {order}", params).fetchall()
    except BaseException:
        conn.close()
        raise
    chunks = [Chunk(**r[1]) for r in chunk_rows]
    tokens = [list(r[2]) for r in chunk_rows]
    sentences = [Sentence(**r[1]) for r in sentence_rows]
    counts = manifest.get("counts", {})
    if counts.get("chunks") != len(chunks) or counts.get("sentences") != len(sentences):
        conn.close()
        raise IndexMismatchError(
            f"the database {shown_url(url)} holds {len(chunks)} chunks and "
            f"{len(sentences)} sentences at version {version} but its manifest counts "
            f"{counts.get('chunks')} and {counts.get('sentences')}; {_REBUILD}")
    shared = Connection(conn)
    dim = int(manifest["dim"])
    chunk_ids = np.array([r[0] for r in chunk_rows], dtype=np.int64)
    sentence_ids = np.array([r[0] for r in sentence_rows], dtype=np.int64)
    kind = str(manifest.get("dense_index", "flat"))
    dense = StoredSearch(shared, "rag_chunks", version, dim, chunk_ids, kind,
                         config.hnsw_ef_search)
    sentence_search = StoredSearch(shared, "rag_sentences", version, dim, sentence_ids,
                                   kind, config.hnsw_ef_search)
    bm25 = BM25Index.build(tokens, config.bm25_k1, config.bm25_b)
    return Index(Path(shown_url(url)), manifest, {d.doc_id: d for d in documents}, chunks,
                 StoredVectors(shared, "rag_chunks", dim, chunk_ids), tokens, dense, bm25,
                 sentences, StoredVectors(shared, "rag_sentences", dim, sentence_ids),
                 None, sentence_search, version)


def copy_to_schema(url: str, schema: str) -> str:
    """A copy of the index at `url` in `schema` of the same database (replacing whatever
    that schema held); the URL that opens the copy. Evaluation builds its held-out index
    from it, as it copies an index folder."""
    from urllib.parse import parse_qsl, urlencode

    conn = connect(url)
    try:
        source = conn.execute("SELECT current_schema()").fetchone()[0]
        if source == schema:
            raise StoreError(f"cannot copy the index in schema {schema} onto itself")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
        query.append(("options", f"-csearch_path={schema},public"))
        copy_url = urlunsplit(parts._replace(query=urlencode(query)))
        target = connect(copy_url)
        try:
            migrate(target)
            with target.transaction():
                for table in ("rag_index", "rag_documents", "rag_chunks", "rag_sentences"):
                    target.execute(f'INSERT INTO "{schema}".{table} SELECT * FROM '
                                   f'"{source}".{table}')
                for table in ("rag_chunks", "rag_sentences"):
                    target.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{schema}\".{table}', 'id'), "
                        f'coalesce((SELECT max(id) FROM "{schema}".{table}), 0) + 1, false)')
        finally:
            target.close()
    finally:
        conn.close()
    return copy_url
