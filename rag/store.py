"""The index on disk: plain files beside a manifest, written atomically, checked on load.

Layout of an index folder::

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
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .bm25 import BM25Index
from .chunking import Chunk, Sentence
from .config import Config
from .dense import DenseIndex
from .errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from .ingest import Document

FORMAT_VERSION = 6
# Bump when tokenize_korean changes, so old BM25 files are not silently mixed with new terms.
BM25_TOKENIZER = "kiwipiepy-morphemes-v1"
MANIFEST = "manifest.json"
_REBUILD = "rebuild it with: rag index --rebuild"


@dataclass(frozen=True)
class Index:
    """Everything a search needs, loaded from one index folder."""

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
    """Write a complete index into a temporary folder, then move it into place."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexCorruptError(
            f"{index_dir} is a file, not an index folder: refusing to move it aside; "
            "choose another --index path or remove the file")
    if index_dir.is_dir() and any(index_dir.iterdir()) and not (index_dir / MANIFEST).is_file():
        raise IndexCorruptError(
            f"{index_dir} is not empty and holds no {MANIFEST}: refusing to replace a folder "
            "that is not an index; choose another --index folder"
        )
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
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
            **settings,
            "package_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(build_seconds, 3),
            "dense_index": dense.kind,
            "counts": {"documents": len(documents), "chunks": len(chunks),
                       "sentences": len(sentences)},
            "documents": {
                d.doc_id: {
                    "title": d.title, "source": d.source, "sha256": d.sha256,
                    "encoding": d.encoding, "format": d.format, "pages": len(d.pages),
                    "chunks": sum(1 for c in chunks if c.doc_id == d.doc_id),
                }
                for d in documents
            },
            "files": {
                str(p.relative_to(tmp)): _sha256(p)
                for p in sorted(tmp.rglob("*")) if p.is_file()
            },
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        _swap_into_place(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Index(index_dir, manifest, {d.doc_id: d for d in documents}, chunks,
                 embeddings, tokens, dense, bm25, sentences, sentence_vectors)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = Path(index_dir) / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(
            f"no index at {index_dir} (missing {MANIFEST}); build one with: rag index"
        )
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
    """Load and verify an index built with the `expected` settings."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    check_settings(manifest, expected, index_dir)
    _verify_files(index_dir, manifest)
    try:
        documents = [Document(**row) for row in _read_jsonl(index_dir / "documents.jsonl")]
        chunks = [Chunk(**row) for row in _read_jsonl(index_dir / "chunks.jsonl")]
        tokens = [list(row) for row in _read_jsonl(index_dir / "bm25_tokens.jsonl")]
        embeddings = np.load(index_dir / "embeddings.npy", allow_pickle=False)
        sentences = [Sentence(**row) for row in _read_jsonl(index_dir / "sentences.jsonl")]
        sentence_vectors = np.load(index_dir / "sentence_embeddings.npy", allow_pickle=False)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(
            f"the index at {index_dir} cannot be read ({exc}); {_REBUILD}"
        ) from exc
    dense = DenseIndex.load(index_dir, ef_search)
    bm25 = BM25Index.load(index_dir)
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
                 embeddings, tokens, dense, bm25, sentences, sentence_vectors)


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


def _swap_into_place(tmp: Path, index_dir: Path) -> None:
    # Two renames: the old folder steps aside, the new one takes its name. Readers see
    # either the old complete index or the new complete one, never a half-written mix.
    old = None
    if index_dir.exists():
        old = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(index_dir, old)
    try:
        os.replace(tmp, index_dir)
    except OSError:
        if old is not None:
            os.replace(old, index_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
