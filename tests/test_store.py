"""The index on disk: manifest, round trip, settings check, corruption, atomic writes."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from rag import __version__
from rag.chunking import chunk_document, split_sentences
from rag.embedding import HashEmbedder
from rag.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
)
from rag.generations import current_dir
from rag.indexing import build_index
from rag.ingest import read_corpus
from rag.store import (
    BM25_TOKENIZER,
    FORMAT_VERSION,
    MANIFEST,
    build_settings,
    check_dimension,
    load_index,
    read_manifest,
    save_index,
)

FILES = {"documents.jsonl", "chunks.jsonl", "bm25_tokens.jsonl", "embeddings.npy",
         "dense.faiss"}


def settings(config):
    return build_settings(config, "hash", 256)


def load(config):
    return load_index(config.index_dir, settings(config))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def current(config):
    """The generation folder holding the current index."""
    return current_dir(config.index_dir)


def edit_manifest(config, change):
    path = current(config) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def leftovers(config):
    """Hidden siblings (earlier versions' swap folders) and unpublished generations."""
    beside = [p.name for p in config.index_dir.parent.iterdir()
              if p.name.startswith(f".{config.index_dir.name}.")]
    inside = ([p.name for p in config.index_dir.iterdir() if p.name.startswith("tmp-")]
              if config.index_dir.is_dir() else [])
    return sorted(beside + inside)


def test_build_settings_fields(config):
    assert build_settings(config, "hash", 256) == {
        "format_version": FORMAT_VERSION,
        "model": "hash",
        "dim": 256,
        "embed_backend": "torch",
        "embed_context": True,
        "footnote_context": True,
        "chunk_tokens": 64,
        "chunk_overlap_tokens": 16,
        "token_encoding": "cl100k_base",
        "bm25_tokenizer": BM25_TOKENIZER,
        "bm25_k1": 1.2,
        "bm25_b": 0.75,
    }


def test_manifest_records_how_the_index_was_built(built_config):
    config = built_config
    manifest = read_manifest(config.index_dir)
    docs = {d.doc_id: d for d in read_corpus(config.corpus_dir).documents}
    chunks = {doc_id: chunk_document(d, 64, 16) for doc_id, d in docs.items()}
    for key, value in settings(config).items():
        assert manifest[key] == value, key
    assert manifest["package_version"] == __version__
    assert manifest["dense_index"] == "flat"
    assert manifest["built_at"]
    assert manifest["build_seconds"] >= 0
    n_chunks = sum(len(c) for c in chunks.values())
    assert manifest["counts"]["documents"] == 2
    assert manifest["counts"]["chunks"] == n_chunks
    assert manifest["counts"]["sentences"] > n_chunks
    assert set(manifest["documents"]) == {"alpha", "beta"}
    for doc_id, entry in manifest["documents"].items():
        assert entry["sha256"] == docs[doc_id].sha256
        assert entry["title"] == docs[doc_id].title
        assert entry["source"] == docs[doc_id].source
        assert entry["encoding"] == "utf-8"
        assert entry["chunks"] == len(chunks[doc_id])
    files = manifest["files"]
    assert set(files) >= FILES
    assert any(name.startswith("bm25/") for name in files)
    for name, digest in files.items():
        assert sha256(current(config) / name) == digest, name


def test_round_trip(built_config):
    config = built_config
    index = load(config)
    docs = read_corpus(config.corpus_dir).documents
    assert index.documents == {d.doc_id: d for d in docs}
    expected_chunks = [c for d in docs for c in chunk_document(d, 64, 16)]
    assert index.chunks == expected_chunks
    assert index.embeddings.shape == (len(expected_chunks), 256)
    assert index.embeddings.dtype == np.float32
    assert len(index.tokens) == len(expected_chunks)
    assert index.dense.size == index.bm25.size == len(expected_chunks)
    assert index.path == config.index_dir
    texts = [c.embedding_text(True) for c in expected_chunks]
    assert np.allclose(index.embeddings, HashEmbedder().embed_passages(texts))


def test_save_index_directly(config):
    docs = read_corpus(config.corpus_dir).documents
    chunks = [c for d in docs for c in chunk_document(d, 64, 16)]
    vectors = HashEmbedder(dim=8).embed_passages([c.text for c in chunks])
    tokens = [["t"] for _ in chunks]
    sentences = [x for d in docs for x in split_sentences(d)]
    sentence_vectors = HashEmbedder(dim=8).embed_passages([x.text for x in sentences])
    saved = save_index(config.index_dir, build_settings(config, "hash", 8), docs, chunks,
                       vectors, tokens, sentences, sentence_vectors, config, build_seconds=1.5)
    loaded = load_index(config.index_dir, build_settings(config, "hash", 8))
    assert loaded.chunks == saved.chunks == chunks
    assert loaded.tokens == tokens
    assert loaded.sentences == sentences
    assert np.array_equal(loaded.sentence_vectors, sentence_vectors)
    assert np.array_equal(loaded.embeddings, vectors)
    assert loaded.manifest == saved.manifest
    assert loaded.manifest["build_seconds"] == 1.5


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFoundError) as info:
        load_index(tmp_path / "index", {})
    assert "rag index" in str(info.value)
    assert str(tmp_path / "index") in str(info.value)


@pytest.mark.parametrize(("change", "named"), [
    ({"chunk_tokens": 100}, "chunk_tokens"),
    ({"chunk_overlap_tokens": 10}, "chunk_overlap_tokens"),
    ({"embed_context": False}, "embed_context"),
    ({"footnote_context": False}, "footnote_context"),
    ({"embed_backend": "onnx-int8"}, "embed_backend"),
    ({"bm25_k1": 1.5}, "bm25_k1"),
])
def test_other_settings_raise_mismatch(built_config, change, named):
    other = built_config.replace(**change)
    with pytest.raises(IndexMismatchError) as info:
        load_index(other.index_dir, settings(other))
    message = str(info.value)
    assert named in message
    assert repr(getattr(built_config, named)) in message  # what the index has
    assert repr(change[named]) in message                 # what was asked for
    assert "rag index --rebuild" in message


def test_other_model_raises_mismatch(built_config):
    with pytest.raises(IndexMismatchError) as info:
        load_index(built_config.index_dir, build_settings(built_config, "other-model", 256))
    assert "'hash'" in str(info.value)
    assert "'other-model'" in str(info.value)
    assert "rag index --rebuild" in str(info.value)


def test_other_format_version_raises_mismatch(built_config):
    edit_manifest(built_config, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(IndexMismatchError, match="format_version"):
        load(built_config)


def test_check_dimension(built_config):
    index = load(built_config)
    check_dimension(index, 256)
    with pytest.raises(IndexMismatchError) as info:
        check_dimension(index, 384)
    assert "256" in str(info.value)
    assert "384" in str(info.value)
    assert "rag index --rebuild" in str(info.value)


@pytest.mark.parametrize("name", ["chunks.jsonl", "documents.jsonl", "bm25_tokens.jsonl",
                                  "embeddings.npy", "dense.faiss"])
def test_truncated_file_raises_corrupt(built_config, name):
    path = current(built_config) / name
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(IndexCorruptError) as info:
        load(built_config)
    assert name in str(info.value)
    assert "rag index --rebuild" in str(info.value)


def test_edited_chunk_text_raises_corrupt(built_config):
    path = current(built_config) / "chunks.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("중국", "한국"), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="checksum"):
        load(built_config)


def test_missing_file_raises_corrupt(built_config):
    (current(built_config) / "dense.faiss").unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        load(built_config)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"model": "hash"}', ""])
def test_unreadable_manifest_raises_corrupt(built_config, content):
    (current(built_config) / MANIFEST).write_text(content, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="rag index --rebuild"):
        load(built_config)


def test_manifest_counts_disagreeing_with_files_raises_corrupt(built_config):
    edit_manifest(built_config, lambda m: m["counts"].update(chunks=m["counts"]["chunks"] + 1))
    with pytest.raises(IndexCorruptError, match="disagree"):
        load(built_config)


def test_manifest_without_counts_raises_corrupt(built_config):
    edit_manifest(built_config, lambda m: m.pop("counts"))
    with pytest.raises(IndexCorruptError):
        load(built_config)


def test_refuses_to_replace_a_folder_that_is_not_an_index(config):
    config.index_dir.mkdir()
    (config.index_dir / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(IndexCorruptError) as info:
        build_index(config, embedder=HashEmbedder())
    assert "not an index" in str(info.value)
    assert (config.index_dir / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in config.index_dir.iterdir()) == ["notes.txt"]
    assert leftovers(config) == []


def test_builds_into_an_existing_empty_folder(config):
    config.index_dir.mkdir()
    build_index(config, embedder=HashEmbedder())
    assert (current(config) / MANIFEST).is_file()


def test_rebuild_replaces_atomically_without_leftovers(built_config):
    build_index(built_config, embedder=HashEmbedder(), rebuild=True)
    assert leftovers(built_config) == []
    assert load(built_config).manifest["counts"]["documents"] == 2


def test_failed_save_leaves_old_index_intact(built_config, monkeypatch):
    folder = current(built_config)
    before = {p.name: sha256(p) for p in folder.iterdir() if p.is_file()}

    def broken_save(self, index_dir):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("rag.store.BM25Index.save", broken_save)
        with pytest.raises(IndexWriteError, match="disk full"):
            build_index(built_config, embedder=HashEmbedder(), rebuild=True)
    assert current(built_config) == folder
    after = {p.name: sha256(p) for p in folder.iterdir() if p.is_file()}
    assert after == before
    assert leftovers(built_config) == []
    assert load(built_config).manifest["counts"]["documents"] == 2


def test_failed_swap_leaves_old_index_in_place(built_config, monkeypatch):
    real_rename = os.rename

    def rename(src, dst):
        if Path(src).name.startswith("tmp-"):
            raise OSError("rename failed")
        real_rename(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", rename)
        with pytest.raises(IndexWriteError, match="rename failed"):
            build_index(built_config, embedder=HashEmbedder(), rebuild=True)
    assert load(built_config).manifest["counts"]["documents"] == 2
