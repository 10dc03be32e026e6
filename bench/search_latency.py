"""Retrieval-core measurements: index build, chunk sizes, warm search latency, cold CLI, RSS.

Run from the repository root after `make setup`:

    .venv/bin/python bench/search_latency.py [--repeats 3] [--json]

It rebuilds a temporary index from corpus/ with the default settings (so the build time
includes chunking, BM25 tokenisation and embedding), then times every question of
eval/qa.jsonl in-process (model loaded once, excluded), and times `rag search` as a fresh
process several times (model load included). Speed numbers on a shared 2-core machine are
noisy: read the medians, and compare runs made on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.config import Config
from rag.eval import latency_summary, load_qa
from rag.indexing import build_index
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="passes over the question set")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh `rag search` processes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        # The retrieval core alone: no LLM translation step, and no glossing at build time
        # (a cold gloss cache would add ~11 minutes of LLM time; `rag eval` times the
        # lexicon's lookup, which is under a millisecond).
        config = Config.from_env(corpus_dir=ROOT / "corpus", index_dir=Path(tmp) / "index",
                                 translate="off", lexicon="off", embed_cache=False)
        retriever = Retriever(config)
        retriever.embedder  # noqa: B018 - load the model outside the timed build
        t0 = time.perf_counter()
        report = build_index(config, embedder=retriever.embedder)
        build_s = time.perf_counter() - t0
        sizes = sorted(c.n_tokens for c in retriever.index.chunks)
        questions = [item.question for item in load_qa(ROOT / "eval" / "qa.jsonl")]
        retriever.search("warm-up")
        timings: dict[str, list[float]] = {"hybrid": [], "dense": [], "bm25": []}
        for _ in range(args.repeats):
            for mode, bucket in timings.items():
                for q in questions:
                    retriever.forget_queries()  # every timing embeds its question
                    t = time.perf_counter()
                    retriever.search(q, mode=mode)
                    bucket.append((time.perf_counter() - t) * 1000)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cold = _cold_cli(config, args.cold_runs)

    result = {
        "documents": len(report.unchanged) + len(report.added),
        "chunks": report.chunks,
        "build_seconds": round(build_s, 2),
        "chunk_tokens": {"min": sizes[0], "p50": statistics.median(sizes),
                         "p95": sizes[int(0.95 * (len(sizes) - 1))], "max": sizes[-1],
                         "mean": round(statistics.fmean(sizes), 1)},
        "warm_search_ms": {mode: latency_summary(v) for mode, v in timings.items()},
        "cold_cli_seconds": {"median": round(statistics.median(cold), 2),
                             "min": round(min(cold), 2), "runs": len(cold)},
        "peak_rss_mb": round(peak_rss_mb, 1),
        "cpu_count": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for key, value in result.items():
        print(f"{key:18} {value}")


def _cold_cli(config: Config, runs: int) -> list[float]:
    env = {**os.environ, "RAG_INDEX_DIR": str(config.index_dir), "RAG_TRANSLATE": "off"}
    seconds = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "rag"), "search",
                        "중국의 생성형 AI 특허 출원 수는?", "--json"],
                       check=True, capture_output=True, env=env)
        seconds.append(time.perf_counter() - t)
    return seconds


if __name__ == "__main__":
    main()
