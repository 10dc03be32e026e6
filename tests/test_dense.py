"""The FAISS index: flat below flat_max, HNSW above, exact neighbours, files."""

import numpy as np
import pytest

from rag.dense import FAISS_FILE, DenseIndex
from rag.errors import IndexCorruptError


@pytest.fixture
def vectors():
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(50, 16)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(vectors, query, k):
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return order, scores[order]


def test_flat_at_or_below_flat_max(vectors):
    index = DenseIndex.build(vectors, flat_max=50)
    assert index.kind == "flat"
    assert (index.size, index.dim) == (50, 16)


def test_hnsw_above_flat_max(vectors):
    index = DenseIndex.build(vectors, flat_max=10, hnsw_m=8, ef_search=32)
    assert index.kind == "hnsw"
    assert (index.size, index.dim) == (50, 16)


def test_flat_search_is_exact(vectors):
    index = DenseIndex.build(vectors, flat_max=50)
    query = vectors[3] + 0.5 * vectors[11]
    query /= np.linalg.norm(query)
    ids, scores = index.search(query, 5)
    expected_ids, expected_scores = brute_force(vectors, query, 5)
    assert ids.tolist() == expected_ids.tolist()
    assert scores.tolist() == pytest.approx(expected_scores.tolist(), abs=1e-5)
    assert ids.dtype == np.int64
    assert list(scores) == sorted(scores, reverse=True)


@pytest.mark.parametrize("row", [0, 17, 49])
def test_hnsw_finds_a_stored_vector(vectors, row):
    index = DenseIndex.build(vectors, flat_max=10, hnsw_m=8, ef_search=32)
    ids, scores = index.search(vectors[row], 3)
    assert ids[0] == row
    assert scores[0] == pytest.approx(1.0, abs=1e-5)


def test_k_is_capped_at_size_and_zero_is_empty(vectors):
    index = DenseIndex.build(vectors[:4], flat_max=50)
    ids, scores = index.search(vectors[0], 10)
    assert sorted(ids.tolist()) == [0, 1, 2, 3]
    ids, scores = index.search(vectors[0], 0)
    assert (len(ids), len(scores)) == (0, 0)


@pytest.mark.parametrize("flat_max", [50, 10])
def test_save_load_round_trip(vectors, tmp_path, flat_max):
    index = DenseIndex.build(vectors, flat_max=flat_max, hnsw_m=8, ef_search=32)
    index.save(tmp_path)
    assert (tmp_path / FAISS_FILE).is_file()
    loaded = DenseIndex.load(tmp_path, ef_search=32)
    assert loaded.kind == index.kind
    assert (loaded.size, loaded.dim) == (50, 16)
    for row in (2, 30):
        got_ids, got_scores = loaded.search(vectors[row], 5)
        want_ids, want_scores = index.search(vectors[row], 5)
        assert got_ids.tolist() == want_ids.tolist()
        assert got_scores.tolist() == pytest.approx(want_scores.tolist())


def test_corrupt_file_raises(tmp_path):
    (tmp_path / FAISS_FILE).write_bytes(b"not a faiss index" * 4)
    with pytest.raises(IndexCorruptError) as info:
        DenseIndex.load(tmp_path)
    assert FAISS_FILE in str(info.value)
    assert "rag index --rebuild" in str(info.value)


def test_truncated_file_raises(vectors, tmp_path):
    DenseIndex.build(vectors, flat_max=50).save(tmp_path)
    path = tmp_path / FAISS_FILE
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexCorruptError):
        DenseIndex.load(tmp_path)


def test_missing_file_raises(tmp_path):
    with pytest.raises(IndexCorruptError, match=FAISS_FILE):
        DenseIndex.load(tmp_path)
