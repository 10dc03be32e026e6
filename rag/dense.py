"""Dense retrieval: a FAISS inner-product index over normalised vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import IndexCorruptError

FAISS_FILE = "dense.faiss"


class DenseIndex:
    """Exact (flat) search for small corpora, HNSW once the corpus outgrows `flat_max`.

    With normalised vectors, inner product is cosine similarity. Flat search is exact,
    needs no build, and costs about 10 ms a query at 100k rows on one core, small beside
    the ~30 ms query embedding; HNSW keeps queries under a millisecond beyond that, at
    some recall (see docs/benchmarks.md).
    """

    def __init__(self, index: object, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, flat_max: int = 50_000, hnsw_m: int = 32,
              ef_search: int = 128) -> DenseIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= flat_max:
            index = faiss.IndexFlatIP(dim)
            kind = "flat"
        else:
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            # efConstruction 200: recall@10 0.93 rather than 0.80 at 100k rows.
            index.hnsw.efConstruction = 200
            index.hnsw.efSearch = ef_search
            kind = "hnsw"
        index.add(vectors)
        return cls(index, kind)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosine scores of the `k` nearest chunks, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        import faiss

        # One query is faster on one thread: OpenMP start-up costs more than it saves,
        # much more on a busy machine (16 ms vs 0.6 ms at 10k rows, docs/benchmarks.md).
        faiss.omp_set_num_threads(1)
        scores, ids = self._index.search(
            np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k
        )
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def set_ef_search(self, ef_search: int) -> None:
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = ef_search

    def save(self, index_dir: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(Path(index_dir) / FAISS_FILE))

    @classmethod
    def load(cls, index_dir: Path, ef_search: int = 128) -> DenseIndex:
        import faiss

        path = Path(index_dir) / FAISS_FILE
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(
                f"the FAISS file {path} cannot be read ({str(exc).splitlines()[0]}); "
                "rebuild with: rag index --rebuild"
            ) from exc
        kind = "hnsw" if hasattr(index, "hnsw") else "flat"
        loaded = cls(index, kind)
        loaded.set_ef_search(ef_search)
        return loaded
