"""The vector cache: a rebuild or a resumed run embeds only texts it never embedded, and
an interrupted run keeps every batch it finished."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_config, write_corpus

from rag.embedding import HashEmbedder
from rag.generations import current_dir
from rag.indexing import build_index
from rag.store import build_settings, load_index
from rag.vector_cache import VectorCache


class Counting(HashEmbedder):
    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.fail_after = fail_after

    def embed_passages(self, texts, progress=False):
        if self.fail_after is not None and len(self.texts) + len(texts) > self.fail_after:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-build
        self.texts.extend(texts)
        return super().embed_passages(texts)


@pytest.fixture
def config(tmp_path):
    write_corpus(tmp_path / "corpus", {
        f"r{i}.txt": f"보고서 {i}\n\n1 개요\n" + "".join(
            f"- 항목 {i}-{j}: 해상 풍력 설비는 {j * 7}만 kW 늘었다.\n" for j in range(12))
        for i in range(4)})
    return make_config(tmp_path, embed_cache=True, embed_batch_size=2)


def _load(config, index_dir=None):
    return load_index(index_dir or config.index_dir, build_settings(config, "hash", 256))


def _stored(config):
    index = _load(config)
    return index.embeddings, index.sentence_vectors


def test_a_rebuild_embeds_nothing_already_embedded(config):
    first = Counting()
    build_index(config, embedder=first)
    vectors = _stored(config)
    again = Counting()
    report = build_index(config, embedder=again, rebuild=True)
    assert again.texts == [] and report.cached_texts == len(first.texts)
    for a, b in zip(vectors, _stored(config)):
        assert np.array_equal(a, b)


def test_an_interrupted_build_resumes_from_its_finished_batches(config):
    total = Counting()
    build_index(config.replace(embed_cache=False, index_dir=config.index_dir.parent / "ref"),
                embedder=total)
    with pytest.raises(KeyboardInterrupt):
        build_index(config, embedder=Counting(fail_after=len(total.texts) // 2))
    assert current_dir(config.index_dir) is None  # nothing half-written
    resumed = Counting()
    report = build_index(config, embedder=resumed)
    # Finished batches (8 texts each) came from the cache; only the rest were embedded.
    assert report.cached_texts >= len(total.texts) // 2 - 8
    assert len(resumed.texts) == len(total.texts) - report.cached_texts
    reference = _load(config, config.index_dir.parent / "ref")
    assert np.allclose(_stored(config)[0], reference.embeddings)


def test_vectors_of_another_model_or_size_are_not_mixed(tmp_path):
    cache = VectorCache(tmp_path, "model-a", "torch", 4)
    cache.put(["가"], np.ones((1, 4), np.float32))
    assert set(cache.get(["가", "나"])) == {0}
    cache.close()
    other = VectorCache(tmp_path, "model-b", "torch", 4)
    assert other.get(["가"]) == {}
    other.close()


def test_an_unreadable_cache_only_costs_reuse(tmp_path):
    (tmp_path / "m-torch-4.sqlite").write_bytes(b"not a database at all" * 100)
    cache = VectorCache(tmp_path, "m", "torch", 4)
    assert cache.get(["가"]) == {}
    cache.put(["가"], np.ones((1, 4), np.float32))  # warns, raises nothing
    cache.close()
