"""End-to-end `build_index` speed on a 720-page Korean collection, beside the model's raw
encode rate measured in the same run, for each encoder precision.

The collection: KorQuAD 1.0 dev's 126 Wikipedia articles (../shared/datasets/korquad-dev,
CC BY-ND: read from there, written under --work, never into the repository) and the two
seed reports. A 720-page collection of Korean reports as text is about 4,068 chunks (the
index-speed issue's 32 PDFs); where the articles give fewer, articles are written again
with their paragraphs in reverse order (new chunk texts, the same sentences) until the
chunk count reaches --chunks.

Each precision runs in a child process (fresh imports, its own peak RSS): a full
`build_index` (vector cache off, lexicon off: nothing reused, no LLM) timed per stage, then
the same loaded model encoding a sample of the index's chunk texts alone (the raw rate).
"chunking" includes Kiwi's BM25 terms and loading the model.

    .venv/bin/python bench/index_speed.py                       # fp32 and bf16, ~7 min
    .venv/bin/python bench/index_speed.py --precisions bf16 --repeat 3 --out docs/index_speed.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("bench.index_speed")
ROOT = Path(__file__).resolve().parent.parent
KORQUAD = ROOT.parent / "shared" / "datasets" / "korquad-dev"
SEED_CORPUS = ROOT / "corpus"
TARGET_CHUNKS = 4068  # the 720 pages
RAW_SAMPLE = 512


def write_collection(korquad: Path, corpus: Path, target_chunks: int) -> dict:
    """The articles and reports as .txt files in `corpus`, topped up to `target_chunks`."""
    sys.path.insert(0, str(ROOT))
    from rag.chunking import chunk_document
    from rag.config import Config
    from rag.ingest import read_corpus

    config = Config()
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for report in SEED_CORPUS.glob("*.txt"):
        shutil.copyfile(report, corpus / report.name)
    articles = [json.loads(line) for line in
                (korquad / "articles.jsonl").read_text(encoding="utf-8").splitlines() if line]

    def write(article: dict, reverse: bool) -> None:
        paragraphs = article["paragraphs"][::-1] if reverse else article["paragraphs"]
        name = f"{article['article_index']:03d}{'-r' if reverse else ''}.txt"
        title = article["title"].replace("_", " ")
        (corpus / name).write_text(f"{title}\n\n" + "\n\n".join(paragraphs) + "\n",
                                   encoding="utf-8")

    for article in articles:
        write(article, reverse=False)

    def chunks() -> int:
        return sum(len(chunk_document(d, config.chunk_tokens, config.chunk_overlap_tokens,
                                      config.token_encoding))
                   for d in read_corpus(corpus).documents)

    count, again = chunks(), 0
    while count < target_chunks and again < len(articles):
        write(articles[again], reverse=True)
        again += 1
        if again % 5 == 0 or again == len(articles):
            count = chunks()
    count = chunks()
    documents = read_corpus(corpus).documents
    return {"documents": len(documents), "articles_written_twice": again, "chunks": count,
            "characters": sum(len(d.text) for d in documents)}


def child(precision: str, corpus: Path, index: Path) -> dict:
    """One full build and the raw encode rate, in this process."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    os.environ["HF_HUB_OFFLINE"] = "1"
    from rag.config import Config
    from rag.embedding import load_embedder
    from rag.indexing import Watch, build_index
    from rag.store import build_settings, load_index, read_manifest

    imported = time.perf_counter() - started
    config = Config(corpus_dir=corpus, index_dir=index, embed_precision=precision,
                    embed_cache=False, lexicon="off")
    shutil.rmtree(index, ignore_errors=True)
    marks: dict[str, float] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    models: list = []
    loading: dict[str, float] = {}

    def factory(c: Config):
        begin = time.perf_counter()
        models.append(load_embedder(c))
        loading["model_load_s"] = round(time.perf_counter() - begin, 2)
        return models[0]

    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    report = build_index(config, rebuild=True, embedder_factory=factory,
                         watch=Watch(on_progress=on_progress))
    wall = time.perf_counter() - t0
    stages = {}
    order = ["reading", "chunking", "embedding", "saving"]
    times = [marks.get(s) for s in order] + [t0 + wall]
    for name, begin, end in zip(order, times, times[1:], strict=False):
        if begin is not None and end is not None:
            stages[name] = round(end - begin, 2)
    dim = read_manifest(index)["dim"]
    built = load_index(index, build_settings(config, config.model, dim))
    texts = sorted((c.embedding_text(config.embed_context) for c in built.chunks),
                   key=len)[::max(1, len(built.chunks) // RAW_SAMPLE)][:RAW_SAMPLE]
    model = models[0]
    model.embed_passages(texts[:16])
    t1 = time.perf_counter()
    model.embed_passages(texts)
    raw = len(texts) / (time.perf_counter() - t1)
    rate = report.chunks / wall
    return {
        "precision": getattr(model, "precision", precision),
        "chunks": report.chunks, "sentences": len(built.sentences),
        "texts_embedded": report.chunks + len(built.sentences),
        "wall_s": round(wall, 1), "import_s": round(imported, 1),
        "chunks_per_s": round(rate, 2), "raw_chunks_per_s": round(raw, 2),
        "ratio_to_raw": round(rate / raw, 3),
        "stages_s": stages, **loading, "peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--korquad", type=Path, default=KORQUAD)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-index-speed"))
    parser.add_argument("--chunks", type=int, default=TARGET_CHUNKS)
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus, index = args.work / "corpus", args.work / "index"
    if args.child:
        print(json.dumps(child(args.child, corpus, index)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    collection = write_collection(args.korquad, corpus, args.chunks)
    log.info("collection: %s", collection)
    runs: dict[str, list[dict]] = {}
    for precision in args.precisions.split(","):
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--child", precision,
                                  "--work", str(args.work)], check=True,
                                 capture_output=True, text=True).stdout
            run = json.loads(out.strip().splitlines()[-1])
            log.info("%s: %s", precision, run)
            runs.setdefault(precision, []).append(run)
    summary = {p: {"runs": len(r),
                   "wall_s_median": statistics.median(x["wall_s"] for x in r),
                   "chunks_per_s_median": statistics.median(x["chunks_per_s"] for x in r),
                   "raw_chunks_per_s_median": statistics.median(x["raw_chunks_per_s"]
                                                                for x in r),
                   "ratio_to_raw_median": statistics.median(x["ratio_to_raw"] for x in r)}
               for p, r in runs.items()}
    write_result({"collection": collection, "summary": summary, "runs": runs}, args.out)


def write_result(result: dict, out: Path | None) -> None:
    """Print `result` as JSON, with the machine and date, and write it to `out` if given."""
    result = {"machine": {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")},
              **result}
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
