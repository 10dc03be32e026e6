"""The index on disk: plain files beside a manifest, written atomically, checked on load.

Each index is one generation folder inside the index folder (rag/generations.py: the
writer lock, the atomic publish, recovery after a crash). Layout of a generation::

    manifest.json        format version, how it was built, documents, counts, file hashes
    documents.jsonl      the stored text of every document (chunk offsets point into it)
    chunks.jsonl         one chunk per line
    embeddings.npy       float32 rows, one per chunk (kept to re-use on incremental builds)
    dense.faiss          the FAISS index over those rows
    bm25_tokens.jsonl    the BM25 terms of each chunk (kept to re-use as well)
    bm25/                the bm25s index
    sentences.jsonl      every sentence of every document (what extractive answers cite)
    sentence_embeddings.npy  float32 rows, one per sentence
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .bm25 import BM25Index
from .chunking import Chunk, Sentence
from .config import Config
from .dense import DenseIndex
from .errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, IndexWriteError
from .generations import (
    MANIFEST,
    check_replaceable,
    current_dir,
    discard,
    new_folder,
    publish,
    writer_lock,
)
from .ingest import Document

log = logging.getLogger(__name__)

FORMAT_VERSION = 6
# Bump when tokenize_korean or what a chunk's terms are read from (indexing.index_terms)
# changes, so old BM25 files are not silently mixed with new terms.
BM25_TOKENIZER = "kiwipiepy-morphemes-v1+title-names"
# How often a reader tries again when the generation it opened is removed under it.
_LOAD_ATTEMPTS = 3
_REBUILD = "rebuild it with: rag index --rebuild"


@dataclass(frozen=True)
class Index:
    """Everything a search needs, loaded from one index folder.

    `path` is the index folder the user named; `generation` the folder inside it that
    was read (the same for an index written by an earlier version).
    """

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    embeddings: np.ndarray
    tokens: list[list[str]]
    dense: DenseIndex
    bm25: BM25Index
    sentences: list[Sentence]
    sentence_vectors: np.ndarray
    generation: Path | None = None
    # The PostgreSQL store's sentence search and the store version this index is of
    # (rag/pg); the file index searches sentence vectors in memory.
    sentence_search: Any = None
    store_version: int | None = None

    @property
    def vectors_in_store(self) -> bool:
        """True when the vectors stay in the database (read by row, not held)."""
        return bool(getattr(self.embeddings, "in_store", False))


def index_precision(index: Index) -> str:
    """The arithmetic `index`'s vectors were embedded in (RAG_EMBED_PRECISION, resolved;
    fp32 for an index from before the setting); questions are embedded alike."""
    return str(index.manifest.get("embed_precision", "fp32"))


def build_settings(config: Config, model_name: str, dim: int) -> dict[str, Any]:
    """The settings an index depends on; any difference means it must be rebuilt."""
    return {
        "format_version": FORMAT_VERSION,
        "model": model_name,
        "dim": dim,
        "embed_backend": config.embed_backend,
        "embed_context": config.embed_context,
        "footnote_context": config.footnote_context,
        "chunk_tokens": config.chunk_tokens,
        "chunk_overlap_tokens": config.chunk_overlap_tokens,
        "token_encoding": config.token_encoding,
        "bm25_tokenizer": BM25_TOKENIZER,
        "bm25_k1": config.bm25_k1,
        "bm25_b": config.bm25_b,
    }


def save_index(index_dir: Path, settings: dict[str, Any], documents: list[Document],
               chunks: list[Chunk], embeddings: np.ndarray, tokens: list[list[str]],
               sentences: list[Sentence], sentence_vectors: np.ndarray,
               config: Config, build_seconds: float) -> Index:
    """Write a complete index as the next generation of `index_dir`.

    The caller holds `generations.writer_lock(index_dir)`.
    """
    index_dir = Path(index_dir)
    check_replaceable(index_dir)
    tmp = new_folder(index_dir)
    try:
        dense = DenseIndex.build(embeddings, config.flat_max_chunks, config.hnsw_m,
                                 config.hnsw_ef_search)
        bm25 = BM25Index.build(tokens, config.bm25_k1, config.bm25_b)
        _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in documents))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in chunks))
        _write_jsonl(tmp / "bm25_tokens.jsonl", tokens)
        _write_jsonl(tmp / "sentences.jsonl", (asdict(x) for x in sentences))
        np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
        np.save(tmp / "sentence_embeddings.npy",
                np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        dense.save(tmp)
        bm25.save(tmp)
        manifest = {
            **describe(settings, documents, chunks, sentences, build_seconds),
            "dense_index": dense.kind,
            "files": {
                str(p.relative_to(tmp)): _sha256(p)
                for p in sorted(tmp.rglob("*")) if p.is_file()
            },
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        generation = publish(index_dir, tmp)
    except OSError as exc:
        discard(tmp)  # nothing once published: the folder has its generation's name
        raise IndexWriteError(
            f"cannot write the index at {index_dir} ({exc.strerror or exc}); the previous "
            "index is unchanged; free disk space or fix the folder's permissions") from exc
    except BaseException:
        discard(tmp)
        raise
    return Index(index_dir, manifest, {d.doc_id: d for d in documents}, chunks,
                 embeddings, tokens, dense, bm25, sentences, sentence_vectors, generation)


def describe(settings: dict[str, Any], documents: list[Document], chunks: list[Chunk],
             sentences: list[Sentence], build_seconds: float) -> dict[str, Any]:
    """The manifest every store keeps: settings, counts, and each document's facts."""
    per_doc = Counter(c.doc_id for c in chunks)  # one pass, not one per document
    return {
        **settings,
        "package_version": __version__,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(build_seconds, 3),
        "counts": {"documents": len(documents), "chunks": len(chunks),
                   "sentences": len(sentences)},
        "documents": {
            d.doc_id: {
                "title": d.title, "source": d.source, "sha256": d.sha256,
                "encoding": d.encoding, "format": d.format, "pages": len(d.pages),
                "chunks": per_doc[d.doc_id],
            }
            for d in documents
        },
    }


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the current index in `index_dir`."""
    return _read_manifest(_current(index_dir))


def _current(index_dir: Path) -> Path:
    folder = current_dir(index_dir)
    if folder is None:
        raise IndexNotFoundError(
            f"no index at {index_dir} (no {MANIFEST}); build one with: rag index"
        )
    return folder


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} cannot be read ({exc}); {_REBUILD}") from exc
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexCorruptError(f"{path} is not an index manifest; {_REBUILD}")
    return manifest


def check_settings(manifest: dict[str, Any], expected: dict[str, Any], index_dir: Path) -> None:
    """Raise IndexMismatchError naming every setting that differs."""
    diffs = [
        f"{key}: index has {manifest.get(key)!r}, settings ask for {value!r}"
        for key, value in expected.items() if key != "dim" and manifest.get(key) != value
    ]
    if diffs:
        raise IndexMismatchError(
            f"the index at {index_dir} was built with other settings ({'; '.join(diffs)}); "
            f"{_REBUILD}, or change the settings back"
        )


def load_index(index_dir: Path, expected: dict[str, Any], ef_search: int = 128) -> Index:
    """Load and verify the current index of `index_dir`, built with `expected` settings.

    A writer may publish a newer generation and remove this one while it is read; then
    the newer one is read instead, so a reader never fails because of an update.
    """
    index_dir = Path(index_dir)
    for attempt in range(_LOAD_ATTEMPTS):
        folder = _current(index_dir)
        try:
            return _load_generation(index_dir, folder, expected, ef_search)
        except (IndexCorruptError, IndexNotFoundError):
            if attempt + 1 == _LOAD_ATTEMPTS or current_dir(index_dir) in (None, folder):
                raise
            log.info("the index generation %s was replaced while read; reading the new one",
                     folder.name)
    raise AssertionError("unreachable")


def _load_generation(index_dir: Path, folder: Path, expected: dict[str, Any],
                     ef_search: int) -> Index:
    manifest = _read_manifest(folder)
    check_settings(manifest, expected, index_dir)
    _verify_files(folder, manifest)
    try:
        documents = [Document(**row) for row in _read_jsonl(folder / "documents.jsonl")]
        chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
        tokens = [list(row) for row in _read_jsonl(folder / "bm25_tokens.jsonl")]
        embeddings = np.load(folder / "embeddings.npy", allow_pickle=False)
        sentences = [Sentence(**row) for row in _read_jsonl(folder / "sentences.jsonl")]
        sentence_vectors = np.load(folder / "sentence_embeddings.npy", allow_pickle=False)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(
            f"the index at {index_dir} cannot be read ({exc}); {_REBUILD}"
        ) from exc
    dense = DenseIndex.load(folder, ef_search)
    bm25 = BM25Index.load(folder)
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not isinstance(counts.get("chunks"), int):
        raise IndexCorruptError(f"the manifest at {index_dir} has no chunk count; {_REBUILD}")
    sizes = {len(chunks), len(tokens), len(embeddings), dense.size, bm25.size, counts["chunks"]}
    if len(sizes) != 1 or len(sentences) != len(sentence_vectors):
        raise IndexCorruptError(
            f"the index files at {index_dir} disagree on the number of chunks ({sorted(sizes)}); "
            f"{_REBUILD}"
        )
    return Index(index_dir, manifest, {d.doc_id: d for d in documents}, chunks,
                 embeddings, tokens, dense, bm25, sentences, sentence_vectors, folder)


def check_dimension(index: Index, dim: int) -> None:
    """Raise IndexMismatchError when the model's vectors do not fit the index."""
    if index.dense.dim != dim:
        raise IndexMismatchError(
            f"the index at {index.path} holds {index.dense.dim}-dimensional vectors but the "
            f"model {index.manifest.get('model')!r} gives {dim}; {_REBUILD}"
        )


def _verify_files(index_dir: Path, manifest: dict[str, Any]) -> None:
    for name, digest in manifest.get("files", {}).items():
        path = index_dir / name
        if not path.is_file():
            raise IndexCorruptError(f"index file {path} is missing; {_REBUILD}")
        if _sha256(path) != digest:
            raise IndexCorruptError(
                f"index file {path} does not match its checksum in the manifest "
                f"(changed or truncated); {_REBUILD}"
            )


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The two stores behind one set of calls: the file index at config.index_dir (the
# default), or PostgreSQL when config.store is a postgresql:// URL (rag/pg).

def in_database(config: Config) -> bool:
    """True when the index lives in PostgreSQL (setting store)."""
    return bool(config.store)


def where(config: Config) -> str:
    """The index's location as shown to users (a database URL without its password)."""
    if in_database(config):
        from .pg.store import shown_url

        return shown_url(config.store)
    return str(config.index_dir)


def open_index(config: Config, expected: dict[str, Any]) -> Index:
    """The current index, its settings checked against `expected`."""
    if not in_database(config):
        return load_index(config.index_dir, expected, config.hnsw_ef_search)
    from .pg import store as pg

    return pg.load(config.store, config,
                   lambda manifest: check_settings(manifest, expected, Path(where(config))))


def current_manifest(config: Config) -> dict[str, Any]:
    """The manifest of the current index."""
    if not in_database(config):
        return read_manifest(config.index_dir)
    from .pg import store as pg

    return pg.read_manifest(config.store)


def writing(config: Config) -> AbstractContextManager[None]:
    """The writer lock: one process updates an index at a time."""
    if not in_database(config):
        return writer_lock(config.index_dir)
    from .pg import store as pg

    return pg.writer_lock(config.store)


def write_index(config: Config, settings: dict[str, Any], documents: list[Document],
                chunks: list[Chunk], embeddings: np.ndarray, tokens: list[list[str]],
                sentences: list[Sentence], sentence_vectors: np.ndarray,
                build_seconds: float, kept: frozenset[str] = frozenset()) -> None:
    """Publish a complete index (the caller holds `writing(config)`). `kept` documents
    are unchanged since the current index; the database keeps their rows."""
    if not in_database(config):
        save_index(config.index_dir, settings, documents, chunks, embeddings, tokens,
                   sentences, sentence_vectors, config, build_seconds)
        return
    from .pg import store as pg

    pg.save(config.store, describe(settings, documents, chunks, sentences, build_seconds),
            documents, chunks, embeddings, tokens, sentences, sentence_vectors, config, kept)


def newer_index(config: Config, index: Index) -> bool:
    """True when a newer index than `index` has been published (a long-running reader,
    such as the UI, then loads it)."""
    if index.store_version is not None:
        latest = index.dense.latest_version()
        return latest is not None and latest != index.store_version
    on_disk = current_dir(config.index_dir)
    return on_disk is not None and on_disk != index.generation
