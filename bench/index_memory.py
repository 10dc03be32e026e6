"""Peak memory of a full `build_index` of a 100k-chunk Korean collection.

The collection is bench/index_speed.py's 720-page one (KorQuAD dev articles and the two
reports, about 4,077 chunks), copied under new file names until it holds --chunks chunks.
The child process loads the real embedding model (so its memory counts) but hands back
synthetic unit vectors instead of running it: embedding 100k chunks and their sentences
would take over an hour here, and peak memory does not depend on what the vectors say.
What the model's arithmetic adds while embedding (activations of one batch) is measured by
index_speed.py's real builds.

    .venv/bin/python bench/index_memory.py --chunks 100000 --out docs/index_memory.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("bench.index_memory")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def write_copies(source: Path, corpus: Path, chunks_per_copy: int, target: int) -> int:
    """`source`'s files copied into `corpus` until about `target` chunks; the copies made."""
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    copies = max(1, -(-target // chunks_per_copy))
    for n in range(copies):
        for path in sorted(source.glob("*.txt")):
            shutil.copyfile(path, corpus / f"c{n:03d}-{path.name}")
    return copies


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class SyntheticVectors:
    """The real model, loaded and resident, answering with seeded random unit vectors."""

    def __init__(self, model) -> None:
        self.model = model
        self.name, self.dim = model.name, model.dim
        self.precision = getattr(model, "precision", "fp32")
        self._rng = np.random.default_rng(0)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.model.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        v = self._rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def child(corpus: Path, index: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ["HF_HUB_OFFLINE"] = "1"
    from rag.config import Config
    from rag.embedding import load_embedder
    from rag.indexing import Watch, build_index

    config = Config(corpus_dir=corpus, index_dir=index, embed_cache=False, lexicon="off")
    shutil.rmtree(index, ignore_errors=True)
    start_rss = rss_mb()
    model = load_embedder(config)
    model_rss = rss_mb()
    marks: dict[str, float] = {}
    rss_at: dict[str, float] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in marks:
            marks[stage] = time.perf_counter()
            rss_at[stage] = round(rss_mb())

    t0 = time.perf_counter()
    report = build_index(config, embedder=SyntheticVectors(model), rebuild=True,
                         watch=Watch(on_progress=on_progress))
    wall = time.perf_counter() - t0
    order = ["reading", "chunking", "embedding", "saving"]
    times = [marks.get(s) for s in order] + [t0 + wall]
    stages = {name: round(end - begin, 1)
              for name, begin, end in zip(order, times, times[1:], strict=False)
              if begin is not None and end is not None}
    return {"chunks": report.chunks, "wall_s": round(wall, 1), "stages_s": stages,
            "rss_mb_at_start": round(start_rss), "rss_mb_with_model": round(model_rss),
            "rss_mb_at_stage_start": rss_at, "rss_mb_after": round(rss_mb()),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_before": None, "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--korquad", type=Path,
                        default=ROOT.parent / "shared" / "datasets" / "korquad-dev")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-index-memory"))
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus, index = args.work / "corpus", args.work / "index"
    if args.child:
        print(json.dumps(child(corpus, index)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from index_speed import TARGET_CHUNKS, write_collection, write_result

    base = write_collection(args.korquad, args.work / "base", TARGET_CHUNKS)
    copies = write_copies(args.work / "base", corpus, base["chunks"], args.chunks)
    log.info("collection: %d copies of %s", copies, base)
    load = round(os.getloadavg()[0], 2)
    out = subprocess.run([sys.executable, __file__, "--child", "--work", str(args.work)],
                         check=True, capture_output=True, text=True).stdout
    run = {**json.loads(out.strip().splitlines()[-1]), "load_before": load}
    write_result({"collection": {**base, "copies": copies}, "run": run}, args.out)


if __name__ == "__main__":
    main()
