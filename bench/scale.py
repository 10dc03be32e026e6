"""Scaling benchmark: indexing throughput, query latency, memory, and flat vs HNSW recall.

Reproduces docs/benchmarks.md from the repository root (9-13 minutes on 2 cores):

    .venv/bin/python bench/scale.py --sizes real,10000,100000 --out docs/benchmarks.json

and a smoke run of a couple of minutes with `--quick`. It prints Markdown tables.

Corpora: "real" is the two reports chunked with the default settings; a number N is a
synthetic corpus of N chunks made from report sentences (seeded, so every run makes the
same one). The first `--base` synthetic chunks are sampled sentences, perturbed (numbers
swapped, words dropped or doubled, order shuffled, sentences from other sections mixed
in) and are embedded with the real model. Every further chunk is a perturbed copy of
one base chunk with sentences of a second one mixed in; its vector is the same mix of the
two base vectors plus Gaussian noise, the noise calibrated so the copies lie as far from
the mix as real embeddings of such copies do (embedding 100k chunks on 2 cores would take
hours). Every stage runs in its own process, so the peak memory of one does not hide
another's. Speed numbers on a shared machine are noisy: compare medians of one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunking import Chunk, chunk_document, split_sentences, token_counter
from rag.config import Config
from rag.eval import latency_summary, load_qa
from rag.ingest import read_corpus

ROOT = Path(__file__).resolve().parent.parent
EF_SEARCHES = (16, 32, 64, 128, 256)
EF_CONSTRUCTION = 200  # the alternative to DenseIndex's max(40, 2 * M), measured beside it
NEAR_EPS = 0.002  # cosine slack of near@10
TOKEN_RANGE = (150, 250)  # target cl100k tokens of a synthetic chunk
MIX_SHARE = 0.25  # chance that a base chunk's next sentence comes from anywhere in the corpus
FULL = {"sizes": "real,10000,100000", "base": 1000, "calibration": 100, "queries": 200,
        "repeats": 2}
QUICK = {"sizes": "real,5000", "base": 100, "calibration": 20, "queries": 50, "repeats": 1}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="example: .venv/bin/python bench/scale.py --quick",
    )
    parser.add_argument("--sizes", help=f"comma-separated: real and/or chunk counts "
                        f"(default {FULL['sizes']})")
    parser.add_argument("--base", type=int, help="synthetic chunks embedded with the real "
                        f"model (default {FULL['base']})")
    parser.add_argument("--calibration", type=int, help="derived chunks embedded to "
                        f"calibrate the noise (default {FULL['calibration']})")
    parser.add_argument("--queries", type=int, help=f"queries (default {FULL['queries']})")
    parser.add_argument("--repeats", type=int, help="timed passes over the queries "
                        f"(default {FULL['repeats']})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: sizes {QUICK['sizes']}, base {QUICK['base']}, "
                        f"{QUICK['queries']} queries, no full indexing run")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--work-dir", type=Path, help="keep intermediate files here")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.stage:
        _run_stage(args)
        return

    started = time.perf_counter()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="rag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": " ".join(["bench/scale.py", *sys.argv[1:]]),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": describe_machine(),
        "settings": {k: getattr(args, k) for k in ("sizes", "base", "calibration", "queries",
                                                   "repeats", "seed", "quick")},
        "embedding": _subprocess(args, work, "embed"),
        "sizes": {},
    }
    for label in args.sizes.split(","):
        results["sizes"][label] = _subprocess(args, work, f"size:{label}")
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n",
                            encoding="utf-8")
    print(markdown(results))


def describe_machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in _read("/proc/meminfo")
                if line.startswith("MemTotal")), None)
    versions = {}
    for package in ("faiss-cpu", "torch", "numpy", "kiwipiepy", "bm25s",
                    "sentence-transformers", "tiktoken"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_mb": mem,
            "platform": platform.platform(), "python": platform.python_version(),
            "versions": versions, "load_average_start": [round(x, 2) for x in os.getloadavg()]}


# --- the synthetic corpus --------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Chunks plus, per row, the base rows it was made from and the share of the first."""

    chunks: list[Chunk]
    parents: np.ndarray  # (n, 2) rows of the base set; a base row is its own parent
    alphas: np.ndarray  # share of sentences (and weight of the vector) of parents[:, 0]


class SentencePool:
    """The reports' sentences, each with its token count and the section it stands in."""

    def __init__(self, config: Config) -> None:
        self.docs = read_corpus(config.corpus_dir).documents
        self.chunks = [c for d in self.docs for c in chunk_document(
            d, config.chunk_tokens, config.chunk_overlap_tokens, config.token_encoding)]
        self.sentences = [s for d in self.docs
                          for s in split_sentences(d, encoding=config.token_encoding)]
        count = token_counter(config.token_encoding)
        self.tokens = [count(s.text) for s in self.sentences]
        self.count = count
        self.titles = {d.doc_id: d.title for d in self.docs}
        self.sections = [self._section(s.doc_id, s.start) for s in self.sentences]
        self.doc_range: dict[str, tuple[int, int]] = {}
        for i, s in enumerate(self.sentences):
            lo, _ = self.doc_range.get(s.doc_id, (i, i))
            self.doc_range[s.doc_id] = (lo, i + 1)

    def _section(self, doc_id: str, start: int) -> str:
        for c in self.chunks:
            if c.doc_id == doc_id and c.start <= start < c.end:
                return c.section
        return ""


def synthetic_corpus(pool: SentencePool, size: int, base: int, seed: int) -> Corpus:
    """`size` chunks: `base` perturbed sentence samples, then mixed copies of them."""
    picks: list[list[int]] = []
    chunks: list[Chunk] = []
    parents = np.zeros((size, 2), dtype=np.int64)
    alphas = np.ones(size, dtype=np.float32)
    for i in range(size):
        rng = random.Random(f"scale-{seed}-{i}")
        if i < base:
            sentences = _sample_sentences(pool, rng)
            picks.append(sentences)
            parents[i] = i
            section_of = sentences[0]
        else:
            j, k = rng.randrange(base), rng.randrange(base)
            alpha = rng.uniform(0.5, 1.0)
            own = rng.sample(picks[j], len(picks[j]))
            n_other = min(round((1 - alpha) * len(own)), len(picks[k]))
            tagged = [(s, True) for s in own[:len(own) - n_other]]
            tagged += [(s, False) for s in rng.sample(picks[k], n_other)]
            rng.shuffle(tagged)
            tagged = tagged[:len(_fit(pool, [s for s, _ in tagged]))]
            sentences = [s for s, _ in tagged]
            parents[i] = (j, k)
            alphas[i] = sum(mine for _, mine in tagged) / len(tagged)
            section_of = picks[j][0]
        text = "\n".join(_perturb(pool.sentences[s].text, rng) for s in sentences)
        sentence = pool.sentences[section_of]
        chunks.append(Chunk(chunk_id=f"synthetic#{i:06d}", doc_id=sentence.doc_id,
                            title=pool.titles[sentence.doc_id],
                            section=pool.sections[section_of], start=0, end=len(text),
                            text=text, n_tokens=pool.count(text)))
    return Corpus(chunks, parents, alphas)


def _sample_sentences(pool: SentencePool, rng: random.Random) -> list[int]:
    """A run of consecutive sentences of one report, some swapped for others, shuffled."""
    target = rng.randint(*TOKEN_RANGE)
    pos = rng.randrange(len(pool.sentences))
    lo, hi = pool.doc_range[pool.sentences[pos].doc_id]
    picked: list[int] = []
    total = 0
    while len(picked) < 60:
        s = rng.randrange(len(pool.sentences)) if rng.random() < MIX_SHARE else pos
        if picked and total + pool.tokens[s] > target:
            break
        picked.append(s)
        total += pool.tokens[s]
        pos = pos + 1 if pos + 1 < hi else rng.randrange(lo, hi)
    rng.shuffle(picked)
    return picked


def _fit(pool: SentencePool, sentences: list[int]) -> list[int]:
    """The longest prefix within the largest chunk size (at least one sentence)."""
    total = 0
    for n, s in enumerate(sentences):
        total += pool.tokens[s]
        if n and total > TOKEN_RANGE[1]:
            return sentences[:n]
    return sentences


_NUMBER = re.compile(r"\d+")


def _perturb(text: str, rng: random.Random) -> str:
    """Swap half the numbers for others of as many digits; drop 8% of words, double 4%."""
    def swap(m: re.Match[str]) -> str:
        digits = m.group()
        if rng.random() < 0.5:
            return digits
        return str(rng.randrange(10 ** (len(digits) - 1) if len(digits) > 1 else 0,
                                 10 ** len(digits)))

    words: list[str] = []
    for word in _NUMBER.sub(swap, text).split(" "):
        r = rng.random()
        if r < 0.08:
            continue
        words.append(word)
        if r > 0.96:
            words.append(word)
    return " ".join(words) or text


def mixed_vectors(base: np.ndarray, corpus: Corpus) -> np.ndarray:
    """Normalised alpha * base[j] + (1 - alpha) * base[k] of every row, before noise."""
    j, k = corpus.parents[:, 0], corpus.parents[:, 1]
    a = corpus.alphas[:, None]
    mix = a * base[j] + (1 - a) * base[k]
    return (mix / np.linalg.norm(mix, axis=1, keepdims=True)).astype(np.float32)


def synthetic_vectors(base: np.ndarray, corpus: Corpus, sigma: float, seed: int
                      ) -> np.ndarray:
    """Base rows keep their real embeddings; the others are noisy mixes, renormalised."""
    rng = np.random.default_rng(seed)
    out = mixed_vectors(base, corpus)
    n_base = min(len(base), len(out))
    out[:n_base] = base[:n_base]
    for lo in range(n_base, len(out), 10_000):
        block = out[lo:lo + 10_000]
        block += sigma * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return out


def sample_queries(n: int, seed: int) -> list[str]:
    """`n` questions of eval/qa.jsonl (both languages); perturbed ones if there are fewer."""
    questions = [item.question for item in load_qa(ROOT / "eval" / "qa.jsonl")]
    rng = random.Random(f"queries-{seed}")
    if len(questions) >= n:
        return [questions[i] for i in sorted(rng.sample(range(len(questions)), n))]
    extra = [_perturb(rng.choice(questions), rng) for _ in range(n - len(questions))]
    return questions + extra


# --- stages (each in its own process) --------------------------------------------------


def _subprocess(args: argparse.Namespace, work: Path, stage: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", stage,
               "--work-dir", str(work)]
    for key in ("sizes", "base", "calibration", "queries", "repeats", "seed"):
        command += [f"--{key}", str(getattr(args, key))]
    if args.quick:
        command.append("--quick")
    _log(f"stage {stage} ...")
    subprocess.run(command, check=True)
    return json.loads((work / f"{stage.replace(':', '-')}.json").read_text(encoding="utf-8"))


def _run_stage(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    config = Config.from_env(corpus_dir=ROOT / "corpus")
    if args.stage == "embed":
        result = embed_stage(args, config)
    else:
        result = size_stage(args, config, args.stage.split(":", 1)[1])
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb"] = _peak_rss_mb()
    path = args.work_dir / f"{args.stage.replace(':', '-')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


class _TimedEmbedder:
    """Wraps an embedder to count the texts it embeds and the seconds it takes."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts, self.seconds = 0, 0.0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        t = time.perf_counter()
        out = self.inner.embed_passages(texts, progress)
        self.seconds += time.perf_counter() - t
        self.texts += len(texts)
        return out


def embed_stage(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """Everything that needs the real model: throughputs, base and query vectors, noise."""
    import torch

    from rag.embedding import load_embedder
    from rag.indexing import build_index

    result: dict[str, Any] = {"model": config.model, "batch_size": config.embed_batch_size,
                              "torch_threads": torch.get_num_threads()}
    rss = _Rss()
    with _Clock() as clock:
        embedder = load_embedder(config)
    result["model_load"] = clock.as_dict()
    rss.mark("model loaded")
    embedder.embed_passages(["워밍업 문장입니다."])

    pool = SentencePool(config)
    result["real"] = _throughput(embedder, pool.chunks, config)
    real_vectors = result["real"].pop("_vectors")
    _log(f"real corpus: {result['real']['per_second']} chunks/s")

    corpus = synthetic_corpus(pool, args.base + args.calibration, args.base, args.seed)
    base_part = _throughput(embedder, corpus.chunks[:args.base], config)
    base_vectors = base_part.pop("_vectors")
    result["synthetic_sample"] = base_part
    _log(f"synthetic sample: {base_part['per_second']} chunks/s")

    derived = corpus.chunks[args.base:]
    real_derived = embedder.embed_passages(
        [c.embedding_text(config.embed_context) for c in derived])
    result["noise"] = calibrate_noise(base_vectors, corpus, real_derived, args)

    queries = sample_queries(args.queries, args.seed)
    query_vectors = embedder.embed_queries(queries)
    # One question at a time, as a search embeds it: with torch's threads, then one.
    threads = torch.get_num_threads()
    for n_threads, key in ((threads, "query_embed_ms"), (1, "query_embed_ms_1_thread")):
        torch.set_num_threads(n_threads)
        result[key] = latency_summary([_timed(lambda q=q: embedder.embed_queries([q]))
                                       for q in queries[:40]])
    torch.set_num_threads(threads)
    rss.mark("after embedding")

    if not args.quick:
        timed = _TimedEmbedder(embedder)
        with tempfile.TemporaryDirectory() as tmp, _Clock() as clock:
            report = build_index(config.replace(index_dir=Path(tmp) / "index",
                                                embed_cache=False), embedder=timed)
        result["real_index_build"] = {
            "chunks": report.chunks, "texts_embedded": timed.texts,
            "embedding_seconds": round(timed.seconds, 2), **clock.as_dict(report.chunks)}
        _log(f"real index build: {clock.seconds:.1f}s")
    result["rss_mb"] = rss.marks
    np.savez(args.work_dir / "vectors.npz", real=real_vectors, base=base_vectors,
             queries=query_vectors)
    (args.work_dir / "queries.json").write_text(json.dumps(queries, ensure_ascii=False),
                                                encoding="utf-8")
    return result


def _throughput(embedder: Any, chunks: list[Chunk], config: Config) -> dict[str, Any]:
    texts = [c.embedding_text(config.embed_context) for c in chunks]
    with _Clock() as clock:
        vectors = embedder.embed_passages(texts)
    return {"chunks": len(chunks), "tokens": _spread([c.n_tokens for c in chunks]),
            **clock.as_dict(len(chunks)), "_vectors": vectors}


def calibrate_noise(base: np.ndarray, corpus: Corpus, real_derived: np.ndarray,
                    args: argparse.Namespace) -> dict[str, Any]:
    """Sigma that puts noisy mixes as far from the mix as real embeddings of copies are.

    With m the unit mix and g standard Gaussian in d dimensions, the unit vector along
    m + sigma * g has cosine about 1 / sqrt(1 + d * sigma^2) with m; sigma is solved
    from the median cosine between real embeddings of derived chunks and their mixes.
    """
    n_base = len(base)
    mixes = mixed_vectors(base, corpus)[n_base:]
    real_cos = float(np.median(np.sum(real_derived * mixes, axis=1)))
    dim = base.shape[1]
    sigma = float(np.sqrt(max(1 / real_cos**2 - 1, 1e-8) / dim))
    synthetic = synthetic_vectors(base, corpus, sigma, args.seed)[n_base:]
    parent = base[corpus.parents[n_base:, 0]]
    return {
        "calibration_chunks": len(real_derived), "sigma": round(sigma, 5),
        "median_cos_to_mix": {"real": round(real_cos, 4), "synthetic": round(
            float(np.median(np.sum(synthetic * mixes, axis=1))), 4)},
        "median_cos_to_parent": {
            "real": round(float(np.median(np.sum(real_derived * parent, axis=1))), 4),
            "synthetic": round(float(np.median(np.sum(synthetic * parent, axis=1))), 4)},
        "median_cos_random_pair_real": round(float(np.median(
            np.sum(base[:-1] * base[1:], axis=1))), 4),
    }


def size_stage(args: argparse.Namespace, config: Config, label: str) -> dict[str, Any]:
    """Build BM25, flat and HNSW indexes over one corpus and time queries on them."""
    import bm25s  # noqa: F401 - loaded outside the timed builds
    import faiss

    from rag.bm25 import BM25Index, tokenize_korean
    from rag.dense import DenseIndex
    from rag.indexing import index_terms

    rss = _Rss()
    saved = np.load(args.work_dir / "vectors.npz")
    queries = json.loads((args.work_dir / "queries.json").read_text(encoding="utf-8"))
    query_vectors = saved["queries"]
    t = time.perf_counter()
    pool = SentencePool(config)
    if label == "real":
        chunks, vectors = pool.chunks, saved["real"]
        noise = None
    else:
        corpus = synthetic_corpus(pool, int(label), args.base, args.seed)
        embed_info = json.loads((args.work_dir / "embed.json").read_text(encoding="utf-8"))
        noise = embed_info["noise"]["sigma"]
        chunks, vectors = corpus.chunks, synthetic_vectors(saved["base"], corpus, noise,
                                                           args.seed)
    result: dict[str, Any] = {"chunks": len(chunks), "corpus_seconds": round(
        time.perf_counter() - t, 2), "tokens": _spread([c.n_tokens for c in chunks]),
        "vector_noise_sigma": noise}
    rss.mark("corpus + vectors")
    _log(f"{label}: {len(chunks)} chunks ready")

    # BM25: Kiwi loads outside the timed part, as a running app has it loaded.
    with _Clock() as clock:
        tokenize_korean("워밍업")
    result["kiwi_load_seconds"] = round(clock.seconds, 2)
    rss.mark("Kiwi loaded")
    with _Clock() as clock:
        tokens = index_terms(chunks)
    result["tokenise"] = clock.as_dict(len(chunks))
    result["terms_per_chunk"] = round(float(np.mean([len(t) for t in tokens])), 1)
    with _Clock() as clock:
        bm25 = BM25Index.build(tokens, config.bm25_k1, config.bm25_b)
    result["bm25_build"] = clock.as_dict()
    rss.mark("BM25 built")
    _log(f"{label}: tokenised at {result['tokenise']['per_second']} chunks/s")

    # OpenMP starts its threads on the first parallel region: not part of any build.
    DenseIndex.build(np.eye(8, dtype=np.float32), flat_max=0)
    with _Clock() as clock:
        flat = DenseIndex.build(vectors, flat_max=len(vectors))
    result["flat_build"] = clock.as_dict()
    rss.mark("flat built")
    with _Clock() as clock:
        hnsw = DenseIndex.build(vectors, flat_max=0, hnsw_m=config.hnsw_m,
                                ef_search=config.hnsw_ef_search)
    result["hnsw_build"] = clock.as_dict()
    rss.mark("HNSW built")
    _log(f"{label}: HNSW built in {clock.seconds:.1f}s")
    # The same graph built more carefully, to show what efConstruction buys (DenseIndex
    # uses max(40, 2 * M)); built with FAISS directly, searched through DenseIndex.
    with _Clock() as clock:
        raw = faiss.IndexHNSWFlat(vectors.shape[1], config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        raw.hnsw.efConstruction = EF_CONSTRUCTION
        raw.add(vectors)
        careful = DenseIndex(raw, "hnsw")
    result[f"hnsw_efc{EF_CONSTRUCTION}_build"] = clock.as_dict()
    rss.mark(f"HNSW efC{EF_CONSTRUCTION} built")
    _log(f"{label}: HNSW efConstruction={EF_CONSTRUCTION} built in {clock.seconds:.1f}s")
    result["disk_mb"] = _disk_sizes(flat, hnsw, bm25)
    result["dense_k10"] = _dense_runs(flat, hnsw, careful, vectors, query_vectors, args, config)
    _log(f"{label}: dense searches timed")

    depth = max(config.candidates, config.top_k)
    result["bm25_query_ms"] = latency_summary(
        [_timed(lambda q=q: _bm25_top(bm25, tokenize_korean(q), depth))
         for _ in range(args.repeats) for q in queries])
    threads = faiss.omp_get_max_threads()
    hybrid: dict[str, Any] = {"faiss_threads": threads}
    tops: dict[str, list[list[int]]] = {}
    for name, index, n_threads in (("flat", flat, threads), ("flat_1_thread", flat, 1),
                                   ("hnsw_ef128", hnsw, threads)):
        faiss.omp_set_num_threads(n_threads)
        timings, tops[name] = [], []
        for r in range(args.repeats):
            for q, v in zip(queries, query_vectors):
                t = time.perf_counter()
                rows = _hybrid(q, v, index, bm25, config, depth)
                timings.append((time.perf_counter() - t) * 1000)
                if r == 0:
                    tops[name].append(rows)
        hybrid[name] = latency_summary(timings)
    faiss.omp_set_num_threads(threads)
    hybrid["top5_agreement"] = _recall(tops["flat"], tops["hnsw_ef128"])
    result["hybrid_ms"] = hybrid
    result["rss_mb"] = rss.marks
    _log(f"{label}: done")
    return result


def _dense_runs(flat: Any, hnsw: Any, careful: Any, vectors: np.ndarray,
                query_vectors: np.ndarray, args: argparse.Namespace, config: Config
                ) -> dict[str, Any]:
    """Latency (all FAISS threads, then one), recall and near-recall of every variant.

    The truth is an exact batched search. recall@k is the share of the exact top k
    found; near@10 the share of returned rows whose cosine is within NEAR_EPS of the
    exact 10th, which forgives swaps between near-duplicates.
    """
    import faiss

    depth = max(config.candidates, config.top_k)
    exact_scores, exact_ids = faiss.knn(query_vectors, vectors, min(depth, len(vectors)),
                                        faiss.METRIC_INNER_PRODUCT)
    tenth = exact_scores[:, min(9, exact_scores.shape[1] - 1)]
    threads = faiss.omp_get_max_threads()
    variants = [("flat", flat, None), *((f"hnsw_ef{ef}", hnsw, ef) for ef in EF_SEARCHES),
                *((f"hnsw_efc{EF_CONSTRUCTION}_ef{ef}", careful, ef) for ef in (64, 128, 256))]
    runs: dict[str, Any] = {"faiss_threads": threads, "neighbourhood": {
        "median_cos_1st": round(float(np.median(exact_scores[:, 0])), 4),
        "median_gap_1st_10th": round(float(np.median(exact_scores[:, 0] - tenth)), 4),
        "median_gap_10th_50th": round(float(np.median(tenth - exact_scores[:, -1])), 4)}}
    for name, index, ef in variants:
        if ef is not None:
            index.set_ef_search(ef)
        row: dict[str, Any] = {}
        for n_threads, key in ((threads, "ms"), (1, "ms_1_thread")):
            faiss.omp_set_num_threads(n_threads)
            row[key], found = _time_search(index, query_vectors, args.repeats)
            if key == "ms":
                row["recall@10"] = _recall(exact_ids[:, :10], [ids for ids, _ in found])
                row["near@10"] = round(float(np.mean(
                    [np.mean(scores >= t - NEAR_EPS) for (_, scores), t in zip(found, tenth)])),
                    4)
        row["recall@50"] = _recall(exact_ids, [index.search(v, depth)[0]
                                               for v in query_vectors])
        faiss.omp_set_num_threads(threads)
        runs[name] = row
    hnsw.set_ef_search(config.hnsw_ef_search)
    return runs


def _hybrid(query: str, vector: np.ndarray, dense: Any, bm25: Any, config: Config,
            depth: int) -> list[int]:
    """The dense + BM25 + fusion core of Retriever.search, for a Korean question."""
    from rag.bm25 import tokenize_korean
    from rag.fusion import Ranking, fuse

    rows, scores = dense.search(vector, depth)
    rankings = [Ranking("dense", tuple(int(r) for r in rows),
                        tuple(float(s) for s in scores), config.dense_weight)]
    order, bm25_scores = _bm25_top(bm25, tokenize_korean(query), depth)
    rankings.append(Ranking("bm25", tuple(int(r) for r in order),
                            tuple(float(bm25_scores[r]) for r in order), config.bm25_weight))
    return [row for row, _ in fuse(rankings, config.fusion, config.rrf_k)[:config.top_k]]


def _bm25_top(bm25: Any, terms: list[str], depth: int) -> tuple[np.ndarray, np.ndarray]:
    scores = bm25.scores(terms)
    candidates = np.flatnonzero(scores > 0)
    return candidates[np.lexsort((candidates, -scores[candidates]))][:depth], scores


def _time_search(index: Any, vectors: np.ndarray, repeats: int
                 ) -> tuple[dict[str, float], list[tuple[np.ndarray, np.ndarray]]]:
    """Latency summary of k=10 searches, one query at a time, and the first pass's results."""
    for v in vectors[:10]:
        index.search(v, 10)
    timings, found = [], []
    for r in range(repeats):
        for v in vectors:
            t = time.perf_counter()
            result = index.search(v, 10)
            timings.append((time.perf_counter() - t) * 1000)
            if r == 0:
                found.append(result)
    return latency_summary(timings), found


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _recall(exact: list[Any], approximate: list[Any]) -> float:
    shares = [len(set(map(int, a)) & set(map(int, e))) / len(e)
              for e, a in zip(exact, approximate) if len(e)]
    return round(float(np.mean(shares)), 4)


def _disk_sizes(flat: Any, hnsw: Any, bm25: Any) -> dict[str, float]:
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, index in (("flat", flat), ("hnsw", hnsw), ("bm25", bm25)):
            folder = Path(tmp) / name
            folder.mkdir()
            index.save(folder)
            total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            sizes[name] = round(total / 2**20, 1)
    return sizes


def _spread(values: list[int]) -> dict[str, float]:
    ordered = np.asarray(sorted(values))
    return {q: float(np.percentile(ordered, p)) for q, p in (("p5", 5), ("p50", 50),
                                                              ("p95", 95))}


class _Clock:
    """Wall-clock and process CPU seconds (all threads) of a `with` block."""

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu

    def as_dict(self, items: int | None = None) -> dict[str, float]:
        out = {"seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3)}
        if items is not None:
            out["per_second"] = round(items / self.seconds, 2)
            out["per_cpu_second"] = round(items / self.cpu_seconds, 2)
        return out


class _Rss:
    """Resident memory (VmRSS) at named points of a stage, in MB."""

    def __init__(self) -> None:
        self.marks: dict[str, float | None] = {"start": _current_rss_mb()}

    def mark(self, name: str) -> None:
        self.marks[name] = _current_rss_mb()


def _current_rss_mb() -> float | None:
    for line in _read("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- report ----------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    """The results as the Markdown tables of docs/benchmarks.md."""
    e = results["embedding"]
    lines = ["### Embedding with the real model", "",
             "| texts | chunks | tokens p50 | wall s | CPU s | chunks/s | chunks per CPU s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, key in (("real corpus chunks", "real"), ("synthetic sample", "synthetic_sample")):
        part = e[key]
        lines.append(f"| {name} | {part['chunks']} | {part['tokens']['p50']:.0f} | "
                     f"{part['seconds']} | {part['cpu_seconds']} | {part['per_second']} | "
                     f"{part['per_cpu_second']} |")
    lines.append("")
    if "real_index_build" in e:
        b = e["real_index_build"]
        lines.append(f"Full `build_index` of the reports: {b['chunks']} chunks "
                     f"({b['texts_embedded']} texts embedded, sentences included) in "
                     f"{b['seconds']} s ({b['cpu_seconds']} CPU s), {b['embedding_seconds']} s "
                     f"of it embedding: {b['per_second']} chunks/s end to end.")
    q, q1 = e["query_embed_ms"], e["query_embed_ms_1_thread"]
    lines.append(f"Model load {e['model_load']['seconds']} s; one query embedded in "
                 f"{q['p50']} / {q['p95']} ms (p50 / p95) with {e['torch_threads']} torch "
                 f"threads, {q1['p50']} / {q1['p95']} ms with one.")
    noise = e["noise"]
    lines.append(f"Noise sigma {noise['sigma']} from {noise['calibration_chunks']} derived "
                 f"chunks; median cosine of a derived chunk to its main parent: real "
                 f"embedding {noise['median_cos_to_parent']['real']}, synthetic vector "
                 f"{noise['median_cos_to_parent']['synthetic']}.")
    rate = e["synthetic_sample"]["per_second"]
    lines.append("Extrapolated, not measured: embedding at this wall-clock rate would take " +
                 ", ".join(f"{n / rate / 60:.0f} min for {n:,} chunks"
                           for n in (10_000, 100_000)) + ".")

    sizes = results["sizes"]
    lines += ["", "### Tokenisation and BM25", "",
              "| corpus | chunks | tokens p50 | terms/chunk | tokenise chunks/s | "
              "per CPU s | BM25 build s | BM25 query p50 / p95 ms | BM25 disk MB |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in sizes.items():
        lines.append(
            f"| {label} | {r['chunks']:,} | {r['tokens']['p50']:.0f} | "
            f"{r['terms_per_chunk']} | {r['tokenise']['per_second']} | "
            f"{r['tokenise']['per_cpu_second']} | {r['bm25_build']['seconds']} | "
            f"{r['bm25_query_ms']['p50']} / {r['bm25_query_ms']['p95']} | "
            f"{r['disk_mb']['bm25']} |")
    lines += ["", "### Dense: flat vs HNSW (k = 10, one query at a time)", "",
              "| corpus | index | efSearch | build s (CPU s) | disk MB | p50 / p95 ms | "
              "1 thread: p50 / p95 ms | recall@10 | near@10 | recall@50 |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in sizes.items():
        for name, d in r["dense_k10"].items():
            if not isinstance(d, dict) or "ms" not in d:
                continue
            if name == "flat":
                kind, ef, build, disk = "flat", "–", r["flat_build"], r["disk_mb"]["flat"]
            elif name.startswith(f"hnsw_efc{EF_CONSTRUCTION}_"):
                kind, ef = f"HNSW efC {EF_CONSTRUCTION}", name.rsplit("_ef", 1)[1]
                build, disk = r[f"hnsw_efc{EF_CONSTRUCTION}_build"], r["disk_mb"]["hnsw"]
            else:
                kind, ef = "HNSW (DenseIndex)", name.rsplit("_ef", 1)[1]
                build, disk = r["hnsw_build"], r["disk_mb"]["hnsw"]
            lines.append(
                f"| {label} | {kind} | {ef} | {build['seconds']:.2f} ({build['cpu_seconds']:.2f}) "
                f"| {disk} | {d['ms']['p50']} / {d['ms']['p95']} | "
                f"{d['ms_1_thread']['p50']} / {d['ms_1_thread']['p95']} | {d['recall@10']} | "
                f"{d['near@10']} | {d['recall@50']} |")
    lines.append("")
    for label, r in sizes.items():
        n = r["dense_k10"]["neighbourhood"]
        lines.append(f"- {label}: median cosine of the nearest chunk {n['median_cos_1st']}, "
                     f"gap to the 10th {n['median_gap_1st_10th']}, 10th to 50th "
                     f"{n['median_gap_10th_50th']}; FAISS threads "
                     f"{r['dense_k10']['faiss_threads']}.")
    lines += ["", "### Hybrid query (query vector precomputed)", "",
              "| corpus | flat p50 / p95 ms | flat, 1 thread | HNSW ef128 p50 / p95 ms | "
              "top-5 agreement |", "|---|---:|---:|---:|---:|"]
    for label, r in sizes.items():
        h = r["hybrid_ms"]
        lines.append(f"| {label} | {h['flat']['p50']} / {h['flat']['p95']} | "
                     f"{h['flat_1_thread']['p50']} / {h['flat_1_thread']['p95']} | "
                     f"{h['hnsw_ef128']['p50']} / {h['hnsw_ef128']['p95']} | "
                     f"{h['top5_agreement']} |")
    marks = ("start", "corpus + vectors", "Kiwi loaded", "BM25 built", "flat built",
             "HNSW built", f"HNSW efC{EF_CONSTRUCTION} built")
    lines += ["", "### Resident memory (MB) of each size's process", "",
              "| corpus | " + " | ".join(marks) + " | peak |",
              "|---|" + "---:|" * (len(marks) + 1)]
    for label, r in sizes.items():
        lines.append(f"| {label} | " + " | ".join(str(r["rss_mb"].get(m)) for m in marks) +
                     f" | {r['peak_rss_mb']} |")
    lines.append("")
    lines.append("Embedding process: " + ", ".join(f"{k} {v}" for k, v in e["rss_mb"].items())
                 + f", peak {e['peak_rss_mb']} MB.")
    lines += ["", f"Total {results['total_seconds']} s; load average at start "
              f"{results['machine']['load_average_start']}, at end "
              f"{results['load_average_end']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
