"""The `rag` command: exit codes, one-line errors, human and JSON output, batches."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import Config
from rag.embedding import HashEmbedder
from rag.generations import current_dir
from rag.indexing import build_index

RAG = Path(sys.executable).parent / "rag"
HIT_KEYS = {"rank", "score", "chunk_id", "doc_id", "title", "section", "start", "end", "text",
            "notes", "page", "pages", "page_labels"}


@pytest.fixture
def indexed(env, corpus_dir, capsys):
    """corpus/ indexed into index/ through the CLI (default chunk settings)."""
    assert main(["index", "--no-progress"]) == 0
    capsys.readouterr()
    return env


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *fragments):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rag: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


# --- index ----------------------------------------------------------------------------


def test_index_reports_what_it_did(env, corpus_dir, capsys):
    code, out, err = run(capsys, "index", "--corpus", str(corpus_dir), "--index", "ix",
                         "--no-progress")
    assert code == 0
    assert out.startswith("indexed ix: 2 added; ")
    assert "embedded" in out
    assert err == ""
    code, out, _ = run(capsys, "index", "--corpus", str(corpus_dir), "--index", "ix")
    assert code == 0
    assert out.startswith("index ix is up to date: 2 documents, ")


def test_index_reports_the_words_it_glossed(env, corpus_dir, capsys, monkeypatch):
    class Gloss:
        name = "fake"

        def stream(self, messages, max_tokens, temperature=0.0):
            yield "\n".join(f"{t} = gloss" for t in messages[-1]["content"].split("\n"))

    monkeypatch.setenv("RAG_LEXICON", "on")
    monkeypatch.setattr("rag.llm.load_generator", lambda config, role="answer": Gloss())
    code, out, _ = run(capsys, "index", "--no-progress")
    assert code == 0
    glossed = out.splitlines()[1]
    assert glossed.startswith("glossed ") and glossed.endswith(
        f"Korean words into English for English questions (cached in "
        f"{env / 'cache' / 'lexicon.jsonl'})")
    code, out, _ = run(capsys, "index", "--no-progress")
    assert code == 0 and len(out.splitlines()) == 1  # nothing left to gloss


def test_index_reports_changes(indexed, capsys):
    (indexed / "corpus" / "beta.txt").unlink()
    (indexed / "corpus" / "gamma.txt").write_text("감마 보고서 본문이다.\n", encoding="utf-8")
    code, out, _ = run(capsys, "index", "--no-progress")
    assert code == 0
    assert "1 added, 1 removed, 1 unchanged" in out


def test_index_cp949_file(env, capsys):
    corpus = env / "corpus"
    corpus.mkdir()
    text = "중국 인공지능 정책 보고서\n\n1 개요\n화웨이는 어센드 910C 칩을 만든다.\n"
    (corpus / "legacy.txt").write_bytes(text.encode("cp949"))
    assert run(capsys, "index", "--no-progress")[0] == 0
    code, out, _ = run(capsys, "search", "어센드 910C", "--json", "-k", "1")
    assert code == 0
    hit = json.loads(out)["hits"][0]
    assert hit["doc_id"] == "legacy"
    assert hit["title"] == "중국 인공지능 정책 보고서"
    assert "어센드 910C" in hit["text"]
    manifest = json.loads((current_dir(env / "index") / "manifest.json").read_text("utf-8"))
    assert manifest["documents"]["legacy"]["encoding"] == "cp949"


def test_model_flag_overrides_environment(env, corpus_dir, monkeypatch, capsys):
    monkeypatch.delenv("RAG_MODEL")
    assert run(capsys, "index", "--model", "hash", "--no-progress")[0] == 0
    manifest = json.loads((current_dir(env / "index") / "manifest.json").read_text("utf-8"))
    assert manifest["model"] == "hash"


# --- search ---------------------------------------------------------------------------


def test_search_human_output(indexed, capsys):
    code, out, err = run(capsys, "search", "물 가격 상승")
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    ranked = [line for line in lines if line.startswith("[")]
    assert [line.split("]")[0] for line in ranked] == ["[1", "[2", "[3", "[4", "[5"]
    assert ranked[0].startswith(
        "[1] 글로벌 AI 패권 경쟁 : 중국 동향과 시사점 › 2 반도체 동향 › □ (물가)")
    assert "(score " in ranked[0]
    assert " beta " in ranked[0]
    assert lines[1].startswith("    □ (물가) 물 가격 3% 상승")


def test_search_json(indexed, capsys):
    code, out, _ = run(capsys, "search", "어센드 910C", "--json", "-k", "2")
    assert code == 0
    data = json.loads(out)
    assert data["query"] == "어센드 910C"
    assert data["mode"] == "hybrid"
    assert [h["rank"] for h in data["hits"]] == [1, 2]
    assert all(set(h) == HIT_KEYS for h in data["hits"])
    assert "어센드 910C" in data["hits"][0]["text"]


def test_search_mode_and_doc_filter(indexed, capsys):
    code, out, _ = run(capsys, "search", "중국 AI", "--json", "--mode", "bm25",
                       "--doc", "alpha", "-k", "10")
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "bm25"
    assert data["hits"]
    assert {h["doc_id"] for h in data["hits"]} == {"alpha"}


def test_search_no_match_in_bm25_mode(indexed, capsys):
    code, out, _ = run(capsys, "search", "zzqqxx", "--mode", "bm25")
    assert code == 0
    assert out.strip() == "no passage matched"


def test_search_unknown_doc(indexed, capsys):
    code, out, err = run(capsys, "search", "중국", "--doc", "nope")
    assert code == 1
    assert out == ""
    assert_one_line_error(err, "nope", "known: alpha, beta")


def write_batch(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_batch_writes_one_json_line_per_question(indexed, capsys):
    batch = write_batch(indexed / "q.jsonl", [
        {"id": "q1", "question": "어센드 910C"},
        {"id": 2, "question": "물 가격"},
    ])
    code, out, err = run(capsys, "search", "--batch", str(batch), "-k", "3")
    assert code == 0
    assert err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", 2]
    assert [r["query"] for r in rows] == ["어센드 910C", "물 가격"]
    for r in rows:
        assert {"id", "query", "hits"} <= set(r)
        assert len(r["hits"]) == 3
        assert all(set(h) == HIT_KEYS for h in r["hits"])


def test_batch_continues_past_a_bad_question(indexed, capsys):
    batch = write_batch(indexed / "q.jsonl", [
        {"id": "ok1", "question": "어센드 910C"},
        {"id": "bad", "question": "   "},
        {"id": "ok2", "question": "물 가격"},
    ])
    code, out, err = run(capsys, "search", "--batch", str(batch))
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["ok1", "bad", "ok2"]
    assert "hits" in rows[0] and "hits" in rows[2]
    assert "empty" in rows[1]["error"]
    assert "hits" not in rows[1]
    assert_one_line_error(err, "1 line(s)", "failed")


# --- eval, model, internal errors -----------------------------------------------------


def test_eval_json(indexed, capsys):
    qa = indexed / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "ko-1", "lang": "ko", "question": "어센드 910C 수율은?", "doc": "beta",
         "evidence": "어센드 910C", "answers": ["40%"], "type": "number"},
        {"id": "un-1", "lang": "ko", "question": "일본 예산은?", "doc": None,
         "evidence": None, "answers": [], "type": "unanswerable"},
    ]) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "eval", "--qa", str(qa), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "hash"
    labels = [r["label"] for r in data["retrieval"]]
    assert labels[:3] == ["dense", "bm25", "hybrid"] and "default" in labels
    assert data["answers"] is None
    for r in data["retrieval"][1:]:
        assert r["n"] == 1
        assert r["overall"]["recall@1"] == 1.0
    code, out, _ = run(capsys, "eval", "--qa", str(qa), "--no-ablations")
    assert code == 0
    assert out.splitlines()[0].startswith("| run | lang | n | R@1")
    assert out.splitlines()[2].split("|")[1:5] == [" default ", " ko ", " 1 ", " 1.000 "]


def test_eval_language_without_questions(indexed, capsys):
    qa = indexed / "qa.jsonl"
    qa.write_text(json.dumps({"id": "ko-1", "lang": "ko", "question": "어센드 910C 수율은?",
                              "doc": "beta", "evidence": "어센드 910C", "answers": ["40%"],
                              "type": "number"}, ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "eval", "--qa", str(qa), "--lang", "fr")
    assert code == 1
    assert_one_line_error(err, "fr")


def test_model_command_refuses_other_models(env, capsys):
    code, _, err = run(capsys, "model")
    assert code == 1
    assert_one_line_error(err, "only the default model")


def test_internal_error_is_one_line_with_exit_2(env, corpus_dir, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("rag.indexing.build_index", broken)
    code, _, err = run(capsys, "index")
    assert code == 2
    assert err.strip() == ("rag: internal error: ValueError: boom "
                           "(rerun with --debug for the traceback)")
    with pytest.raises(ValueError, match="boom"):
        main(["index", "--debug"])


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: rag" in capsys.readouterr().err


# --- the installed command, in a real process ------------------------------------------


def rag_process(*argv, cwd):
    if not RAG.exists():
        pytest.skip(f"{RAG} is not installed (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_MODEL="hash", RAG_TRANSLATE="off", RAG_LEXICON="off",
               RAG_CACHE_DIR=str(Path(cwd) / "cache"))
    return subprocess.run([str(RAG), *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)


@pytest.fixture
def process_index(tmp_path, config):
    """corpus/ and index/ under tmp_path, the index built in-process with default chunks."""
    defaults = Config()
    build_index(config.replace(chunk_tokens=defaults.chunk_tokens,
                               chunk_overlap_tokens=defaults.chunk_overlap_tokens),
                embedder=HashEmbedder())
    return tmp_path


def test_process_search_json_is_pure_json(process_index):
    done = rag_process("search", "물 가격 3% 상승", "--json", "-k", "2", cwd=process_index)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["hits"]) == 2
    assert "물 가격 3% 상승" in data["hits"][0]["text"]
    assert "Traceback" not in done.stderr


def test_process_batch_lines_and_exit_code(process_index):
    write_batch(process_index / "q.jsonl", [
        {"id": "a", "question": "어센드 910C"},
        {"id": "b", "question": ""},
    ])
    done = rag_process("search", "--batch", "q.jsonl", cwd=process_index)
    assert done.returncode == 1
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["hits"]
    assert "error" in rows[1]
    assert_one_line_error(done.stderr, "failed")


def test_process_missing_corpus(tmp_path):
    done = rag_process("index", "--corpus", "nowhere", "--no-progress", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert_one_line_error(done.stderr, "nowhere")


def test_search_and_ask_show_a_passage_footnote(env, corpus_dir, capsys):
    (corpus_dir / "gamma.txt").write_text(
        "감마 보고서\n선전시는 100억 위안 규모의 AI 펀드를 조성하였다.11) 이어지는 문장이다.\n"
        + "다른 내용의 문장이 길게 이어진다. " * 12
        + "\n11) China's tech hub Shenzhen to launch 10 bln yuan fund\n", encoding="utf-8")
    assert main(["index", "--no-progress"]) == 0
    code, out, _ = run(capsys, "search", "선전시 AI 펀드 규모", "--doc", "gamma")
    assert code == 0
    assert "    ↳ footnote 11) China's tech hub Shenzhen to launch 10 bln yuan fund" in out
    assert "    ↳ note 11 backs: 선전시는 100억 위안 규모의 AI 펀드를 조성하였다.11)" in out
    code, out, _ = run(capsys, "ask", "선전시 AI 펀드 규모는?", "--doc", "gamma")
    assert code == 0 and "100억 위안" in out
    assert "      ↳ footnote 11) China's tech hub Shenzhen" in out


def test_index_skips_each_broken_file_with_one_line_and_indexes_the_rest(env, capsys,
                                                                          monkeypatch):
    from sample_files import REPORTS, broken_files

    monkeypatch.setenv("RAG_OCR", "off")  # the scan stays unreadable (OCR is tested apart)
    corpus = env / "corpus"
    corpus.mkdir()
    expected = broken_files(corpus)
    (corpus / "good.hwpx").write_bytes(
        (REPORTS / "hwpx" / "klid-china-ai-policy-2025.hwpx").read_bytes())
    code, out, err = run(capsys, "index", "--no-progress")
    assert code == 0 and out.startswith("indexed index: 1 added; ")
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert lines[-1] == f"{len(expected)} file(s) skipped; the other reports are indexed"
    skipped = {line.split(": ", 1)[0].removeprefix("skipped "): line for line in lines[:-1]}
    assert {Path(p).name for p in skipped} == set(expected)
    for path, line in skipped.items():
        assert expected[Path(path).name] in line


def test_index_of_only_broken_files_fails_with_one_line(env, capsys, monkeypatch):
    from sample_files import broken_files

    monkeypatch.setenv("RAG_OCR", "off")
    corpus = env / "corpus"
    corpus.mkdir()
    broken_files(corpus)
    code, _, err = run(capsys, "index", "--no-progress")
    assert code == 1
    assert_one_line_error(err, "no report in corpus could be read")

