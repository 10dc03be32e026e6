"""Nearest-neighbour search and vector reads in the database, at one store version.

A reader holds the version it loaded; every query filters rows to that version, so a
writer committing a newer one never mixes into an answer (see schema.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from .schema import live

# Vectors read for answers and citations, kept by row (a question reads a few hundred).
_CACHE_ROWS = 50_000
# pgvector's upper bound for hnsw.ef_search.
_EF_MAX = 1000


class Connection:
    """One psycopg connection shared by an index's searchers; one query at a time (the
    UI answers from several threads)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = threading.Lock()

    def fetch(self, sql: str, params: dict[str, Any], settings: dict[str, str] | None = None
              ) -> list[tuple[Any, ...]]:
        with self.lock, self.conn.transaction():
            for name, value in (settings or {}).items():
                self.conn.execute(f"SET LOCAL {name} = {value}")
            return self.conn.execute(sql, params).fetchall()

    def version(self) -> int | None:
        """The store's version now (None once its index is gone)."""
        with self.lock:
            row = self.conn.execute("SELECT version FROM rag_index").fetchone()
        return int(row[0]) if row else None

    def close(self) -> None:
        self.conn.close()


class StoredSearch:
    """What DenseIndex offers (search, size, dim, kind), over one table's vectors.

    `ids` are the table ids of the reader's rows, in row order. Search is exact while
    the table has no HNSW index (collections up to flat_max_chunks), approximate after.
    """

    def __init__(self, connection: Connection, table: str, version: int, dim: int,
                 ids: np.ndarray, kind: str, ef_search: int) -> None:
        self._db = connection
        self._table = table
        self._version = version
        self._dim = dim
        self._ids = ids
        self._order = np.argsort(ids, kind="stable")
        self.kind = kind
        self._ef_search = ef_search

    @property
    def size(self) -> int:
        return len(self._ids)

    @property
    def dim(self) -> int:
        return self._dim

    def set_ef_search(self, ef_search: int) -> None:
        self._ef_search = ef_search

    def latest_version(self) -> int | None:
        """The store's version now; a reader of an older one reloads."""
        return self._db.version()

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Reader rows of table ids (all of which belong to the reader's version)."""
        return self._order[np.searchsorted(self._ids, ids, sorter=self._order)]

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the `k` nearest rows (of `allowed` rows), best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        expr = f"embedding::vector({self._dim}) <=> %(q)s::vector({self._dim})"
        where = live()
        params: dict[str, Any] = {"q": _literal(query), "v": self._version, "k": k}
        if allowed is not None:
            where += " AND id = ANY(%(ids)s)"
            params["ids"] = self._ids[allowed].tolist()
        settings = None
        if self.kind == "hnsw":
            # Strict order: rows the version filter drops are replaced, so the k found
            # are the k nearest the graph reaches, in order.
            settings = {"hnsw.ef_search": str(min(max(self._ef_search, k), _EF_MAX)),
                        "hnsw.iterative_scan": "strict_order"}
        rows = self._db.fetch(
            f"SELECT id, 1 - ({expr}) FROM {self._table} WHERE {where} "
            f"ORDER BY {expr} LIMIT %(k)s", params, settings)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        scores = np.array([r[1] for r in rows], dtype=np.float32)
        return self.rows_of(ids).astype(np.int64), scores


class StoredVectors:
    """The vectors of a reader's rows, read from the database when indexed: as much of
    an ndarray as answers need (`len`, `shape`, `vectors[row]`, `vectors[rows]`)."""

    in_store = True

    def __init__(self, connection: Connection, table: str, dim: int, ids: np.ndarray
                 ) -> None:
        self._db = connection
        self._table = table
        self._dim = dim
        self._ids = ids
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self._ids), self._dim)

    def __getitem__(self, rows: Any) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            return self._read([int(rows)])[0]
        return self._read([int(r) for r in np.asarray(rows).reshape(-1)])

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        raise TypeError("vectors in the database are read by row, not multiplied whole")

    def _read(self, rows: list[int]) -> np.ndarray:
        missing = sorted({r for r in rows if r not in self._cache})
        if missing:
            ids = self._ids[missing].tolist()
            found = dict(self._db.fetch(
                f"SELECT id, embedding::text FROM {self._table} WHERE id = ANY(%(ids)s)",
                {"ids": ids}))
            for row, table_id in zip(missing, ids, strict=True):
                self._cache[row] = np.array(found[table_id][1:-1].split(","),
                                            dtype=np.float32)
            while len(self._cache) > _CACHE_ROWS:
                self._cache.popitem(last=False)
        out = np.zeros((len(rows), self._dim), dtype=np.float32)
        for i, row in enumerate(rows):
            out[i] = self._cache[row]
        return out


def _literal(vector: np.ndarray) -> str:
    """pgvector's text form; float32 repr round-trips exactly."""
    return "[" + ",".join(repr(float(x)) for x in np.asarray(vector, np.float32)) + "]"
