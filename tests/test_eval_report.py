"""The evaluation report: Markdown tables, failed questions, metrics.json and the plots."""

import json

import pytest
from test_eval_runner import QA, write_qa

from rag.eval.dataset import load_qa
from rag.eval.report import (
    answer_table,
    comparison_table,
    latency_table,
    retrieval_table,
    write_report,
)
from rag.eval.runner import run_evaluation
from rag.eval.trec import run_file_name
from rag.retrieval import Retriever

PNG = b"\x89PNG\r\n\x1a\n"
# Evidence no passage holds: this question always fails retrieval (and has a "|" to escape).
MISSING = {"id": "ko-miss", "lang": "ko", "question": "인터넷 플러스 | 전략은 언제 발표되었나?",
           "doc": "alpha", "evidence": "2016년에 발표", "answers": ["2016년"], "type": "fact"}


@pytest.fixture(scope="module")
def setup(shared_index, tmp_path_factory):
    config = shared_index.replace(translate="off")
    qa = write_qa(tmp_path_factory.mktemp("qa") / "qa.jsonl", [*QA, MISSING])
    items = {item.id: item for item in load_qa(qa)}
    chunks = {c.chunk_id: c for c in Retriever(config).index.chunks}
    return config, qa, items, chunks


@pytest.fixture(scope="module")
def extractive(setup, tmp_path_factory):
    config, qa, items, chunks = setup
    result = run_evaluation(config, qa, "extractive")
    out = tmp_path_factory.mktemp("report-extractive")
    return result, write_report(result, out / "deep" / "er", items, chunks)


@pytest.fixture(scope="module")
def retrieval(setup, tmp_path_factory):
    config, qa, items, chunks = setup
    result = run_evaluation(config, qa, "retrieval")
    return result, write_report(result, tmp_path_factory.mktemp("report-retrieval"),
                                items, chunks)


def run_files(result):
    return [run_file_name(r["label"]) for r in result["retrieval"]]


def section(text: str, heading: str) -> str:
    """The lines under `heading` up to the next heading of any level."""
    after = text.split(heading + "\n", 1)[1]
    lines = []
    for line in after.splitlines():
        if line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def test_report_files_are_written(extractive):
    result, path = extractive
    folder = path.parent
    assert path.name == "report.md"
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "latency.png", "metrics.json", "qrels.txt", "recall_at_k.png", "reliability.png",
        "report.html", "report.md", *run_files(result)])
    assert {"run-default-lexicon.txt", "run-sentences.txt", "run-bm25.txt"} <= set(
        run_files(result))
    assert json.loads((folder / "metrics.json").read_text(encoding="utf-8")) == result
    for name in ("recall_at_k.png", "latency.png", "reliability.png"):
        data = (folder / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 2000


def test_report_has_the_tables(extractive):
    result, path = extractive
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# Evaluation: {result['qa']}\n")
    assert "mode `extractive`, model `hash`" in text
    table = section(text, "## Retrieval")
    assert "| run | lang | n | R@1 | R@3 | R@5 | R@10 | MRR@10 | nDCG@10 | p50 ms |" in table
    for label in ("dense", "bm25", "hybrid", "+glossary", "default", "default −lexicon"):
        for lang in ("en", "ko"):
            assert f"| {label} | {lang} | " in table
    assert "![recall_at_k.png](recall_at_k.png)" in table
    assert "![latency.png](latency.png)" in table
    answers = section(text, "## Answers")
    assert "| lang | answerable | answer contains | EM | char F1 | token F1 |" in answers
    assert "| ko | 5 | " in answers and "| en | 2 | " in answers
    calibration = section(text, "### Calibration of the abstention confidence")
    cal = result["answers"]["calibration"]
    assert cal["n"] == len(QA) + 1 and f"ECE {cal['ece']:.3f}" in calibration
    assert "![reliability.png](reliability.png)" in calibration
    latency = section(text, "### Latency by stage (ms)")
    assert "| retrieval |" in latency and "| total |" in latency
    assert "Peak RSS:" in latency


def test_failed_retrievals_are_listed_with_what_was_found(extractive):
    result, path = extractive
    text = path.read_text(encoding="utf-8")
    failed = section(text,
                     "## Failed retrievals (default configuration, nothing relevant in the top 5)")
    default = next(r for r in result["retrieval"] if r["label"] == "default")
    misses = [r["id"] for r in default["per_query"] if r["recall@5"] < 1]
    assert "ko-miss" in misses
    for row in default["per_query"]:
        assert (f"**{row['id']}**" in failed) == (row["id"] in misses)
    line = next(ln for ln in failed.splitlines() if "**ko-miss**" in ln)
    assert "인터넷 플러스 \\| 전략은" in line  # the table-breaking "|" is escaped
    assert "“2016년에 발표”" in line and "reciprocal rank 0.00" in line
    # The top three passages retrieved instead are shown under it.
    retrieved = next(r for r in default["per_query"] if r["id"] == "ko-miss")["retrieved"]
    shown = failed.split("**ko-miss**", 1)[1].splitlines()[1:4]
    assert [s.strip().split(" ")[1] for s in shown] == retrieved[:3]


def test_failed_answers_say_why(extractive):
    result, path = extractive
    failed = section(path.read_text(encoding="utf-8"), "## Failed answers")
    rows = {r["id"]: r for r in result["answers"]["per_query"]}
    for qid, row in rows.items():
        ok = (row["answerable"] and row["contains"] and all(row["citations_correct"])) or (
            not row["answerable"] and row["abstained"])
        assert (f"**{qid}**" in failed) == (not ok), qid
    assert "**ko-miss** (" in failed
    assert "**un-ko-1**" not in failed  # it abstained, as it should
    assert "**ko-2**" not in failed


def test_retrieval_report_has_no_answer_sections(retrieval):
    _, path = retrieval
    text = path.read_text(encoding="utf-8")
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([
        "metrics.json", "qrels.txt", "recall_at_k.png", "report.html", "report.md",
        *run_files(retrieval[0])])
    assert "## Answers" not in text and "## Failed answers" not in text
    assert "latency.png" not in text
    assert "## Failed retrievals" in text and "**ko-miss**" in text


def test_tables_render_missing_values_as_dashes():
    answers = {"by_lang": {"en": {
        "n_answerable": 0, "answer_contains": None, "exact_match": None, "char_f1": None,
        "token_f1": None, "citation_precision": None, "citations": 0,
        "false_abstention": None, "n_unanswerable": 1, "abstention_recall": 0.0,
        "abstention_precision": None, "n_holdout": 0, "holdout_abstention": None}},
        "latency_ms": {"total": {"p50": 1.25, "p95": 3.0, "n": 2}}, "peak_rss_mb": 10.0}
    assert answer_table(answers)[-1] == "| en | 0 | – | – | – | – | – | – | 1 | 0.000 | – | – |"
    assert latency_table(answers) == ["| stage | p50 | p95 | n |", "|---|---:|---:|---:|",
                                      "| total | 1.2 | 3.0 | 2 |", "", "Peak RSS: 10.0 MB."]


def test_retrieval_table_has_a_row_per_run_and_language(retrieval):
    result, _ = retrieval
    rows = retrieval_table(result)
    assert len(rows) == 2 + sum(len(r["by_lang"]) for r in result["retrieval"])
    last = result["retrieval"][-1]
    last_ko = last["by_lang"]["ko"]
    assert rows[-1].startswith(f"| {last['label']} | ko | {last_ko['n']} | "
                               f"{last_ko['recall@1']:.3f} | ")


def test_trec_files_rescore_to_the_reported_numbers(extractive):
    """qrels.txt and each run file, read back by pytrec_eval's own parsers, give the
    per-query numbers of metrics.json: another tool sees the same evaluation."""
    import pytrec_eval

    result, path = extractive
    folder = path.parent
    with open(folder / "qrels.txt", encoding="utf-8") as f:
        qrels = pytrec_eval.parse_qrel(f)
    assert qrels == {q: units for q, units in result["qrels"].items() if units}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"success.1,5", "recip_rank",
                                                       "ndcg_cut.10"})
    for run in result["retrieval"]:
        with open(folder / run_file_name(run["label"]), encoding="utf-8") as f:
            scored = evaluator.evaluate(pytrec_eval.parse_run(f))
        for row in run["per_query"]:
            if row["id"] not in qrels:
                assert row["recall@5"] == row["mrr@10"] == 0.0  # nothing relevant exists
                continue
            m = scored[row["id"]]
            assert (row["recall@1"], row["recall@5"]) == (m["success_1"], m["success_5"])
            assert row["mrr@10"] == pytest.approx(m["recip_rank"])
            assert row["ndcg@10"] == pytest.approx(m["ndcg_cut_10"])


def test_html_report_renders_the_markdown_without_raw_html(extractive, tmp_path):
    result, path = extractive
    page = (path.parent / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<table>" in page
    assert '<img src="recall_at_k.png"' in page
    # A question with markup is shown as text, never run or linked.
    hostile = {**MISSING, "id": "ko-html",
               "question": "<script>alert(1)</script> ![x](http://e.com/a.png) 예산은?"}
    items = {"ko-html": load_qa(write_qa(tmp_path / "q.jsonl", [hostile]))[0]}
    failing = {**result["retrieval"][0]["per_query"][0], "id": "ko-html", "recall@5": 0.0}
    one = {**result, "answers": None, "qrels": {"ko-html": {}},
           "retrieval": [{**result["retrieval"][0], "label": "default",
                          "per_query": [failing], "run": {"ko-html": {}}}]}
    out = write_report(one, tmp_path / "r", items, {})
    html = (out.parent / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<img src="http://e.com' not in html


def test_comparison_table_lists_p_values_and_flips():
    comparison = {"a": "a.json", "b": "b.json", "resamples": 1000, "seed": 0,
                  "unpaired_questions": ["q9"],
                  "metrics": [{"metric": "recall@5", "n": 3, "a": 1 / 3, "b": 2 / 3,
                               "difference": 1 / 3, "ci95": [0.0, 0.6667], "p_value": 0.5,
                               "gained": ["q2"], "lost": []}]}
    rows = comparison_table(comparison)
    assert "| recall@5 | 3 | 0.333 | 0.667 | +0.333 | [+0.000, +0.667] | 0.5000 | 1 | 0 |" \
        in rows
    assert "- recall@5 gained: q2" in rows
    assert "- in one run only: 1 questions" in rows
    assert not any(r.startswith("Warning") for r in rows)
    other = comparison_table({**comparison, "qa": ["a.jsonl", "b.json"]})
    assert "Warning: the runs evaluated different test sets (a.jsonl, b.json)" in other[2]
