"""The real model on the real reports: the retrieval goals hold end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Config
from rag.evaluation import evaluate_retrieval, load_qa
from rag.indexing import build_index
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Config:
    config = Config(corpus_dir=ROOT / "corpus",
                    index_dir=tmp_path_factory.mktemp("real") / "index")
    report = build_index(config)
    assert report.chunks > 50 and report.embedded_chunks == report.chunks
    return config


@pytest.fixture(scope="module")
def retriever(real_index: Config) -> Retriever:
    return Retriever(real_index)


def test_every_chunk_fits_the_citation_budget(retriever: Retriever) -> None:
    index = retriever.index
    for chunk in index.chunks:
        assert chunk.n_tokens <= 300
        assert index.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text


def test_korean_hybrid_retrieval_meets_the_goal(retriever: Retriever) -> None:
    items = [i for i in load_qa(ROOT / "eval" / "qa.jsonl") if i.lang == "ko"]
    texts = [c.text for c in retriever.index.chunks]
    run = evaluate_retrieval(items, texts, lambda q: [
        h.text for h in retriever.search(q, k=10).hits], "hybrid")
    overall = run["overall"]
    assert run["n"] >= 60
    assert overall["recall@1"] >= 0.85, overall
    assert overall["recall@5"] >= 0.97, overall
    assert overall["mrr@10"] >= 0.90, overall


def test_hybrid_beats_each_retriever_alone_on_korean(retriever: Retriever) -> None:
    items = [i for i in load_qa(ROOT / "eval" / "qa.jsonl") if i.lang == "ko"]
    texts = [c.text for c in retriever.index.chunks]
    mrr = {
        mode: evaluate_retrieval(items, texts, lambda q, m=mode: [
            h.text for h in retriever.search(q, k=10, mode=m).hits], mode)["overall"]["mrr@10"]
        for mode in ("dense", "bm25", "hybrid")
    }
    assert mrr["hybrid"] >= mrr["dense"], mrr


def test_cli_search_json_with_the_real_model(real_index: Config) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(real_index.index_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "rag.cli", "search", "딥시크가 V3 모델 개발에 투자한 금액은?",
         "-k", "3", "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "560만 달러" in result["hits"][0]["text"]
    assert result["hits"][0]["doc_id"] == "kistep-global-ai-china-2025"
