"""Passage vectors kept on disk by text, so an interrupted `rag index` resumes where it
stopped and a rebuild re-embeds only texts it never embedded.

One SQLite file per model and backend (a vector depends on both), a row per text keyed
by the text's SHA-256. Each batch is committed as it is embedded: killing the process
loses at most the batch in flight. A cache that cannot be read or written costs reuse,
never the index at hand.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class VectorCache:
    def __init__(self, folder: Path, model: str, backend: str, dim: int) -> None:
        slug = re.sub(r"[^\w.-]+", "-", f"{model}-{backend}-{dim}").strip("-")
        self.path = Path(folder) / f"{slug}.sqlite"
        self.dim = dim
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors "
                             "(key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            self._db.commit()
        except sqlite3.Error as exc:
            log.warning("the vector cache %s is unusable (%s); embedding without it",
                        self.path, exc)
            self._db = None

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Position in `texts` → cached vector, for every text the cache holds."""
        if self._db is None or not texts:
            return {}
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        try:
            for lo in range(0, len(keys), 500):
                part = keys[lo:lo + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                    part).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dim,):
                        found[key] = vector
        except sqlite3.Error as exc:
            log.warning("cannot read the vector cache %s (%s); embedding anew", self.path, exc)
            return {}
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put(self, texts: Iterable[str], vectors: np.ndarray) -> None:
        """Store one batch (committed at once)."""
        if self._db is None:
            return
        rows = [(self.key(t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                for t, v in zip(texts, vectors)]
        try:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.commit()
        except sqlite3.Error as exc:
            log.warning("cannot write the vector cache %s (%s); later runs re-embed",
                        self.path, exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
