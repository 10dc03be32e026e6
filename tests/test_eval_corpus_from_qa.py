"""Sets that carry their own documents, evaluated in one call: the SQuAD articles or BEIR
corpus written into a corpus folder, indexed, judged by span or by document, and scored
the same as an independent recomputation and pytrec_eval; held-out documents; the CLI."""

import json
from pathlib import Path

import pytest
from conftest import make_config
from test_eval_dataset import ARTICLES, write_beir

from rag.cli import main
from rag.errors import QueryError
from rag.eval.materialize import MARKER, write_corpus
from rag.eval.runner import run_evaluation
from rag.eval.squad import write_squad
from rag.retrieval import Retriever

# A fourth article holds the answer string 온돌 too, outside any answer span: a passage
# of it must not count as relevant to the 온돌 question.
DECOY = {"title": "난방의 역사", "paragraphs": [{"context":
         "바닥 난방은 여러 나라에 있다. 온돌이라는 말은 따뜻한 돌을 뜻한다는 설명이 흔하다. "
         "로마의 하이포코스트도 바닥 아래로 더운 공기를 보냈다.", "qas": []}]}


@pytest.fixture(scope="module")
def squad(tmp_path_factory):
    root = tmp_path_factory.mktemp("squad")
    path = root / "dev.json"
    write_squad(path, [*ARTICLES, DECOY])
    return make_config(root), path


@pytest.fixture(scope="module")
def squad_run(squad):
    config, path = squad
    return run_evaluation(config, path, "extractive", corpus_from_qa=True)


def make_config_for(result):
    """The settings of the index a run wrote (the fixture's, with its folders)."""
    corpus = Path(result["corpus"])
    return make_config(corpus.parent).replace(corpus_dir=corpus,
                                              index_dir=Path(result["index"]))


def test_squad_set_is_written_indexed_and_judged_by_span(squad, squad_run):
    config, _ = squad
    assert squad_run["format"] == "squad" and squad_run["unit"] == "chunk"
    assert any(n.startswith("indexed 4 documents") for n in squad_run["notes"])
    corpus = config.cache_dir / "eval"
    assert str(corpus) in squad_run["corpus"]
    ix = make_config_for(squad_run)
    retriever = Retriever(ix)
    docs = retriever.index.documents
    assert sorted(docs) == ["난방의-역사", "야구-규칙", "제주-감귤", "한옥"]
    # Each answerable question's qrels: exactly the chunks whose offsets hold its span.
    wanted = {"c1": "약 52만 톤", "c2": "5월부터 9월까지", "b1": "9이닝", "h1": "온돌"}
    doc_of = {"c1": "제주-감귤", "c2": "제주-감귤", "b1": "야구-규칙", "h1": "한옥"}
    assert set(squad_run["qrels"]) == set(wanted)
    for qid, text in wanted.items():
        stored = docs[doc_of[qid]].text
        start = stored.index(text)
        relevant = {c.chunk_id for c in retriever.index.chunks if c.doc_id == doc_of[qid]
                    and c.start <= start and start + len(text) <= c.end}
        assert relevant and set(squad_run["qrels"][qid]) == relevant
    # The decoy holds 온돌 but not the span: none of its chunks is relevant.
    assert not any(u.startswith("난방의-역사") for u in squad_run["qrels"]["h1"])


def test_squad_metrics_match_an_independent_recomputation_and_pytrec_eval(squad_run):
    import pytrec_eval

    retriever = Retriever(make_config_for(squad_run))
    default = next(r for r in squad_run["retrieval"] if r["label"] == "default")
    rows = {r["id"]: r for r in default["per_query"]}
    for qid, relevant in squad_run["qrels"].items():
        question = next(q for a in ARTICLES for p in a["paragraphs"] for q in p["qas"]
                        if q["id"] == qid)["question"]
        hits = retriever.search(question, k=10).hits
        ranks = [i for i, h in enumerate(hits, 1) if h.chunk_id in relevant]
        first = ranks[0] if ranks else None
        for k in (1, 3, 5, 10):
            assert rows[qid][f"recall@{k}"] == float(first is not None and first <= k)
        assert rows[qid]["mrr@10"] == pytest.approx(1 / first if first else 0.0)
        assert rows[qid]["retrieved"] == [h.chunk_id for h in hits]
    direct = pytrec_eval.RelevanceEvaluator(
        squad_run["qrels"], {"success.1,5", "recip_rank", "ndcg_cut.10"}).evaluate(
        default["run"])
    for qid, m in direct.items():
        assert rows[qid]["recall@5"] == m["success_5"]
        assert rows[qid]["ndcg@10"] == pytest.approx(m["ndcg_cut_10"])
    overall = default["overall"]
    assert overall["mrr@10"] == pytest.approx(
        sum(m["recip_rank"] for m in direct.values()) / len(direct), abs=1e-4)


def test_squad_answers_have_exact_match_and_the_unanswerables(squad_run):
    answers = squad_run["answers"]
    rows = {r["id"]: r for r in answers["per_query"]}
    assert set(rows) == {"c1", "c2", "c3", "b1", "h1", "h2"}
    assert not rows["c3"]["answerable"] and not rows["h2"]["answerable"]
    for r in rows.values():
        if r["answerable"]:
            assert 0.0 <= r["char_f1"] <= 1.0 and r["exact_match"] in (0.0, 1.0)
            if r["exact_match"]:
                assert r["char_f1"] == 1.0
    ko = answers["by_lang"]["ko"]
    assert ko["n_answerable"] == 4 and ko["n_unanswerable"] == 1
    # Every question reports its evidence coverage, so the abstention is calibrated.
    assert answers["calibration"]["n"] == 6


def test_rerunning_reuses_the_written_corpus(squad, squad_run):
    config, path = squad
    again = run_evaluation(config, path, "retrieval", with_ablations=False,
                           corpus_from_qa=True)
    assert again["corpus"] == squad_run["corpus"]
    default = next(r for r in squad_run["retrieval"] if r["label"] == "default")
    assert again["retrieval"][0]["per_query"] == default["per_query"]


def test_a_set_with_documents_needs_corpus_from_qa(squad):
    config, path = squad
    with pytest.raises(QueryError, match="add --corpus-from-qa"):
        run_evaluation(config, path)


def test_the_corpus_folder_of_someone_s_reports_is_never_written(squad, tmp_path):
    _, path = squad
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "mine.txt").write_text("내 보고서", encoding="utf-8")
    from rag.eval.squad import read_squad

    with pytest.raises(QueryError, match="already holds files that no test set wrote"):
        write_corpus(read_squad(path), reports)
    # A folder the set wrote is rewritten: a document gone from the set goes too.
    own = tmp_path / "own"
    write_corpus(read_squad(path), own)
    assert (own / MARKER).is_file() and len(list(own.glob("*.txt"))) == 4
    smaller = tmp_path / "smaller.json"
    write_squad(smaller, ARTICLES[:1])
    write_corpus(read_squad(smaller), own)
    assert [p.name for p in own.glob("*.txt")] == ["제주-감귤.txt"]


def test_beir_set_is_ranked_by_document_with_graded_ndcg(tmp_path):
    import pytrec_eval

    folder = write_beir(tmp_path / "beir")
    result = run_evaluation(make_config(tmp_path), folder, "retrieval", with_ablations=False,
                            corpus_from_qa=True)
    assert result["format"] == "beir" and result["unit"] == "doc"
    docs = Retriever(make_config_for(result)).index.documents
    assert sorted(docs) == ["doc-rail", "doc-salt", "doc-tide"]
    assert result["qrels"] == {"q1": {"doc-rail": 2, "doc-salt": 0}, "q2": {"doc-tide": 1}}
    run = result["retrieval"][0]
    for units in run["run"].values():
        assert set(units) <= set(docs)  # documents, each once
    direct = pytrec_eval.RelevanceEvaluator(result["qrels"], {"ndcg_cut.10", "recip_rank"}) \
        .evaluate(run["run"])
    rows = {r["id"]: r for r in run["per_query"]}
    for q, m in direct.items():
        assert rows[q]["ndcg@10"] == pytest.approx(m["ndcg_cut_10"])
        assert rows[q]["mrr@10"] == pytest.approx(m["recip_rank"])


def test_held_out_documents_questions_are_asked_without_them(squad, squad_run):
    config, path = squad
    result = run_evaluation(config, path, "extractive", with_ablations=False,
                            corpus_from_qa=True, holdout_docs=1, seed=3)
    holdout = result["answers"]["holdout"]
    (left_out,) = holdout["doc_ids"]
    asked = [r for r in result["answers"]["per_query"] if r["type"] == "holdout"]
    from_doc = {"제주-감귤": ["c1", "c2"], "야구-규칙": ["b1"], "한옥": ["h1"]}[left_out]
    assert sorted(r["id"] for r in asked) == sorted(f"{q}@holdout" for q in from_doc)
    assert holdout["questions"] == len(asked)
    assert all(not r["answerable"] for r in asked)
    ko = result["answers"]["by_lang"]["ko"]
    assert ko["n_holdout"] == len(asked)
    assert ko["holdout_abstention"] == pytest.approx(
        sum(r["abstained"] for r in asked) / len(asked), abs=1e-4)
    # An answer to a held-out question can only cite what the smaller index has.
    for r in asked:
        assert not any(c.startswith(left_out + "#") for c in r["cited"])
    # The same seed leaves the same document out.
    again = run_evaluation(config, path, "extractive", with_ablations=False,
                           corpus_from_qa=True, holdout_docs=1, seed=3)
    assert again["answers"]["holdout"]["doc_ids"] == [left_out]


def test_holdout_needs_answers_and_fewer_documents(squad):
    config, path = squad
    with pytest.raises(QueryError, match="with --mode extractive"):
        run_evaluation(config, path, "retrieval", corpus_from_qa=True, holdout_docs=1)
    with pytest.raises(QueryError, match="cannot leave 4 document"):
        run_evaluation(config, path, "extractive", with_ablations=False,
                       corpus_from_qa=True, holdout_docs=4)


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def cli_env(env):
    """The command line's settings (conftest.env) and the SQuAD fixture in its folder."""
    path = env / "dev.json"
    write_squad(path, [*ARTICLES, DECOY])
    return path


def test_one_command_from_a_squad_file_to_a_report(cli_env, tmp_path, capsys):
    code = main(["eval", "--qa", str(cli_env), "--corpus-from-qa", "--mode", "extractive",
                 "--no-ablations", "--no-progress", "--report", "out", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["format"] == "squad" and Path(data["report"]) == Path("out/report.md")
    # metrics.json holds the same numbers (it is written before it knows its own path).
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert saved == {k: v for k, v in data.items() if k != "report"}
    assert {"qrels.txt", "run-default.txt", "report.html"} <= {
        p.name for p in (tmp_path / "out").iterdir()}
    # Identical runs: every p-value is 1 and nothing flipped.
    code = main(["eval", "--compare", "out", "out/metrics.json", "--json"])
    comparison = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {m["metric"] for m in comparison["metrics"]} >= {"recall@5", "mrr@10", "contains",
                                                             "exact_match", "char_f1"}
    assert all(m["p_value"] == 1.0 and not m.get("gained") and not m.get("lost")
               for m in comparison["metrics"])
    code = main(["eval", "--compare", "out", "out"])
    table = capsys.readouterr().out
    assert "| metric | n | A | B | B − A | 95% CI | p | gained | lost |" in table
    assert "| recall@5 | 4 | " in table
    assert table.startswith("A: out  B: out  (paired randomization test")


@pytest.mark.parametrize(("argv", "message"), [
    (["--limit", "0"], "--limit must be at least 1"),
    (["--holdout-docs", "-1"], "--holdout-docs must be 0 or more"),
    (["--corpus", "c"], "--corpus is where --corpus-from-qa writes"),
])
def test_bad_eval_flags_are_one_line_errors(cli_env, capsys, argv, message):
    code = main(["eval", "--qa", str(cli_env), *argv])
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_progress_goes_to_stderr_and_json_stays_clean(cli_env, capsys):
    code = main(["eval", "--qa", str(cli_env), "--corpus-from-qa", "--mode", "extractive",
                 "--no-ablations", "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["n_questions"] == 6
    assert "retrieval default" in err and "answers extractive" in err


def test_golden_three_questions_scored_by_hand(squad_run):
    """The SQuAD fixture's real index and judgments, with rankings written out by hand so
    every number can be worked out on paper:

    - c1 finds its span's chunk first: R@1 1, RR 1, nDCG 1.
    - b1 finds the decoy first, its span's chunk second: R@1 0, R@3 1, RR 1/2,
      nDCG 1/log2(3) = 0.63093.
    - h1 finds only the decoy, which holds the answer string 온돌 but not the span: 0.

    Means: R@1 1/3, R@3 2/3, MRR 1/2, nDCG (1 + 0.63093) / 3 = 0.54364.
    """
    from rag.eval.dataset import load_eval_set
    from rag.eval.materialize import resolve_items
    from rag.eval.relevance import Judge
    from rag.eval.runner import evaluate_retrieval

    retriever = Retriever(make_config_for(squad_run))
    index = retriever.index
    eval_set = load_eval_set(Path(squad_run["qa"]))
    ids = write_corpus(eval_set, Path(squad_run["corpus"]))  # the same files again
    items, _ = resolve_items(eval_set, ids, index.documents)
    chosen = [i for i in items if i.id in ("c1", "b1", "h1")]
    judge = Judge(index.chunks)
    qrels = judge.qrels(chosen)
    assert all(len(qrels[q]) == 1 for q in qrels)  # short articles: one chunk each
    by_id = {c.chunk_id: c for c in index.chunks}
    decoy = next(c for c in index.chunks if c.doc_id == "난방의-역사")
    assert "온돌" in decoy.text
    ranking = {"c1": [*qrels["c1"]], "b1": [decoy.chunk_id, *qrels["b1"]],
               "h1": [decoy.chunk_id]}
    question_of = {i.question: i.id for i in chosen}
    result = evaluate_retrieval(
        chosen, judge, lambda q: [by_id[u] for u in ranking[question_of[q]]], "golden")
    overall = result["overall"]
    assert overall["recall@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert overall["recall@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert overall["mrr@10"] == 0.5
    assert overall["ndcg@10"] == pytest.approx((1 + 0.6309298) / 3, abs=1e-4)
    rows = {r["id"]: r for r in result["per_query"]}
    assert rows["h1"]["recall@10"] == 0.0 and rows["h1"]["n_relevant"] == 1
