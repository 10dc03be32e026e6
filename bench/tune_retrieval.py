"""Grid over chunk size, overlap, embedding context and fusion, on the Q&A set.

Reproduces the table of docs/tuning.md:  .venv/bin/python bench/tune_retrieval.py
(a Markdown table on stdout, progress on stderr). Each chunking setting builds a temporary
index with the real model; the whole grid takes about 10 minutes on 2 cores.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

from rag.config import Config
from rag.embedding import load_embedder
from rag.eval import load_qa
from rag.eval.relevance import Judge
from rag.eval.runner import evaluate_retrieval
from rag.indexing import build_index
from rag.retrieval import Retriever

# (chunk_tokens, overlap, embed_context): sizes at the default overlap and context,
# then overlap and context each switched off at the default size.
CHUNKINGS = ((120, 30, True), (160, 40, True), (200, 40, True), (250, 40, True),
             (300, 40, True), (200, 0, True), (200, 40, False))
FUSIONS = (("rrf", 60, 1.0, 1.0), ("rrf", 20, 1.0, 1.0), ("rrf", 60, 1.0, 1.5),
           ("weighted", 60, 1.0, 1.0), ("weighted", 60, 1.0, 0.5))


class MemoEmbedder:
    """Queries repeat across settings; embed each once."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memo: dict[str, object] = {}

    def embed_queries(self, texts):
        import numpy as np

        missing = [t for t in texts if t not in self.memo]
        if missing:
            for t, v in zip(missing, self.inner.embed_queries(missing)):
                self.memo[t] = v
        return np.stack([self.memo[t] for t in texts])

    def embed_passages(self, texts, progress=False):
        return self.inner.embed_passages(texts, progress)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    items = load_qa(Path("eval/qa.jsonl"))
    # The cross-lingual levers stay off: this grid is about chunking and fusion.
    base = Config.from_env(translate="off", glossary=False, english_bm25_weight=1.0)
    embedder = MemoEmbedder(load_embedder(base))
    rows: list[dict] = []
    for tokens, overlap, context in CHUNKINGS:
        with tempfile.TemporaryDirectory() as tmp:
            config = base.replace(index_dir=Path(tmp) / "index", chunk_tokens=tokens,
                                  chunk_overlap_tokens=overlap, embed_context=context)
            build_index(config, embedder=embedder)
            for fusion, rrf_k, dense_w, bm25_w in FUSIONS:
                tuned = config.replace(fusion=fusion, rrf_k=rrf_k, dense_weight=dense_w,
                                       bm25_weight=bm25_w)
                retriever = Retriever(tuned, embedder=embedder)
                texts = [c.text for c in retriever.index.chunks]
                for mode in ("dense", "bm25", "hybrid"):
                    if mode != "hybrid" and (fusion, rrf_k, bm25_w) != (*FUSIONS[0][:2], 1.0):
                        continue
                    run = evaluate_retrieval(
                        items, Judge(retriever.index.chunks),
                        lambda q, r=retriever, m=mode: r.search(q, k=10, mode=m).hits, mode)
                    row = {"chunk_tokens": tokens, "overlap": overlap, "context": context,
                           "fusion": fusion, "rrf_k": rrf_k, "dense_w": dense_w,
                           "bm25_w": bm25_w, "mode": mode, "chunks": len(texts),
                           **{lang: {k: v for k, v in m.items() if k != "n"}
                              for lang, m in run["by_lang"].items()}}
                    rows.append(row)
                    print(f"{tokens} {overlap} {context} {fusion} {rrf_k} {bm25_w} {mode}: "
                          f"ko MRR {run['by_lang']['ko']['mrr@10']:.3f} "
                          f"R@1 {run['by_lang']['ko']['recall@1']:.3f} "
                          f"R@5 {run['by_lang']['ko']['recall@5']:.3f} | en MRR "
                          f"{run['by_lang']['en']['mrr@10']:.3f}", file=sys.stderr)


    print("| chunk tokens | overlap | context | mode | fusion | BM25 weight | chunks | "
          "ko R@1 | ko R@5 | ko MRR@10 | en R@1 | en R@5 | en MRR@10 |")
    print("|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        fusion = f"{r['fusion']} (k={r['rrf_k']})" if r["fusion"] == "rrf" else r["fusion"]
        if r["mode"] != "hybrid":
            fusion = "–"
        print(f"| {r['chunk_tokens']} | {r['overlap']} | {'yes' if r['context'] else 'no'} | "
              f"{r['mode']} | {fusion} | {r['bm25_w'] if r['mode'] == 'hybrid' else '–'} | "
              f"{r['chunks']} | {r['ko']['recall@1']:.3f} | {r['ko']['recall@5']:.3f} | "
              f"{r['ko']['mrr@10']:.3f} | {r['en']['recall@1']:.3f} | {r['en']['recall@5']:.3f} | "
              f"{r['en']['mrr@10']:.3f} |")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
