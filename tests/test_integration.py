"""The real model on the real reports: the retrieval goals hold end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Config
from rag.eval import load_qa
from rag.eval.relevance import Judge
from rag.eval.runner import evaluate_retrieval
from rag.indexing import build_index
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Config:
    # No glossing here: a cold gloss cache costs ~10 minutes of LLM time (measured by
    # `rag index`; the lexicon itself is tested in test_lexicon*.py).
    config = Config(corpus_dir=ROOT / "corpus",
                    index_dir=tmp_path_factory.mktemp("real") / "index", lexicon="off")
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
    run = evaluate_retrieval(items, Judge(retriever.index.chunks),
                             lambda q: retriever.search(q, k=10).hits, "hybrid")
    overall = run["overall"]
    assert run["n"] >= 60
    assert overall["recall@1"] >= 0.85, overall
    assert overall["recall@5"] >= 0.97, overall
    assert overall["mrr@10"] >= 0.90, overall


def test_hybrid_beats_each_retriever_alone_on_korean(retriever: Retriever) -> None:
    items = [i for i in load_qa(ROOT / "eval" / "qa.jsonl") if i.lang == "ko"]
    judge = Judge(retriever.index.chunks)
    mrr = {
        mode: evaluate_retrieval(items, judge, lambda q, m=mode: retriever.search(
            q, k=10, mode=m).hits, mode)["overall"]["mrr@10"]
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


def test_eval_matches_a_recomputation_from_search_batch(real_index: Config, tmp_path: Path
                                                        ) -> None:
    """`rag eval` numbers equal recall/MRR recomputed by hand from `rag search --batch`."""
    from rag.eval.relevance import normalize
    from rag.eval.runner import run_evaluation

    config = real_index.replace(translate="off")
    qa = ROOT / "eval" / "qa.jsonl"
    items = [i for i in load_qa(qa) if i.answerable]
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join(json.dumps({"id": i.id, "question": i.question},
                                          ensure_ascii=False) for i in items) + "\n",
                     encoding="utf-8")
    env = {**os.environ, "RAG_INDEX_DIR": str(config.index_dir), "RAG_TRANSLATE": "off",
           "RAG_LEXICON": "off"}
    out = subprocess.run([sys.executable, "-m", "rag.cli", "search", "--batch", str(batch),
                          "-k", "10"], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["id"] for line in lines] == [i.id for i in items]
    by_id = {i.id: i for i in items}
    ranks = {}
    for line in lines:
        evidence = normalize(by_id[line["id"]].evidence)
        ranks[line["id"]] = next((h["rank"] for h in line["hits"]
                                  if evidence in normalize(h["text"])), None)
    result = run_evaluation(config, qa, "retrieval", with_ablations=False)
    default = result["retrieval"][-1]
    for lang in ("ko", "en"):
        ids = [i.id for i in items if i.lang == lang]
        recall5 = sum(1 for i in ids if ranks[i] and ranks[i] <= 5) / len(ids)
        mrr = sum(1 / ranks[i] for i in ids if ranks[i]) / len(ids)
        assert default["by_lang"][lang]["recall@5"] == pytest.approx(recall5, abs=1e-4)
        assert default["by_lang"][lang]["mrr@10"] == pytest.approx(mrr, abs=1e-4)


def test_fitted_confidence_answers_a_covered_question_and_abstains_on_an_absent_one(
        retriever: Retriever) -> None:
    # Worded unlike any question of eval/qa.jsonl: the shipped weights on the real model.
    from rag.answer import answer_question

    fitted = Retriever(retriever.config.replace(abstention="fitted"), index=retriever.index,
                       embedder=retriever.embedder)
    threshold = fitted.config.abstain_min_confidence
    covered = answer_question(fitted, "어센드 910C 칩의 수율은 얼마나 올랐나?")
    assert not covered.abstained and covered.confidence is not None
    assert covered.confidence >= threshold and "40%" in covered.answer
    absent = answer_question(fitted, "사우디아라비아의 반도체 보조금 규모는 얼마인가?")
    assert absent.abstained and absent.confidence is not None
    assert absent.confidence < threshold
    # The fitted confidence is the default; the rules, when chosen, still report it.
    assert retriever.config.abstention == "fitted"
    rules = Retriever(retriever.config.replace(abstention="rules"), index=retriever.index,
                      embedder=retriever.embedder)
    ruled = answer_question(rules, "어센드 910C 칩의 수율은 얼마나 올랐나?")
    assert not ruled.abstained and ruled.confidence == covered.confidence
