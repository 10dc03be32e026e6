"""Background glossing: a server publishes the index first and glosses new words on a
thread, saying how far it is; a failure is reported, never raised into the server."""

from __future__ import annotations

import threading

from conftest import make_config, write_corpus

from rag import render
from rag.errors import ModelUnavailableError
from rag.glossing import BackgroundGlossing, GlossStatus
from rag.indexing import build_index
from rag.retrieval import Retriever

GLOSSES = {"어선": "fishing boat", "어획량": "catch, haul", "항구": "port, harbour",
           "금리": "interest rate", "동결": "freeze"}


class SlowDictionary:
    """Glosses GLOSSES, each call waiting for `go` (so a test can look mid-run)."""

    name = "slow-dictionary"

    def __init__(self) -> None:
        self.go = threading.Event()
        self.calls = 0

    def stream(self, messages, max_tokens, temperature=0.0):
        self.go.wait(10)
        self.calls += 1
        terms = messages[-1]["content"].split("\n")
        yield "\n".join(f"{t} = {GLOSSES[t]}" for t in terms if t in GLOSSES)


def _setup(tmp_path, monkeypatch, generator):
    write_corpus(tmp_path / "corpus", {"sea.txt": "수산 동향\n\n1 개요\n- 어선의 어획량은 항구마다 "
                                       "달랐음\n- 중앙은행은 금리를 동결했음\n"})
    monkeypatch.setattr("rag.llm.load_generator", lambda config, role="answer": generator)
    monkeypatch.setattr("rag.llm.llm_available", lambda config: (True, "fake"))
    monkeypatch.setattr("rag.llm.generator_name", lambda config: generator.name)
    config = make_config(tmp_path, lexicon="auto")
    build_index(config)
    return config


def test_glossing_runs_beside_questions_and_says_how_far_it_is(tmp_path, monkeypatch):
    generator = SlowDictionary()
    config = _setup(tmp_path, monkeypatch, generator)
    glossing = BackgroundGlossing(config)
    retriever = Retriever(config)
    assert glossing.start()
    assert not glossing.start()  # one run at a time
    assert glossing.status().running
    # The index answers while the model is still glossing.
    assert retriever.search("금리 동결", k=1).hits
    generator.go.set()
    status = glossing.wait(timeout=10)
    assert not status.running and not status.error
    assert status.glossed >= 4 and status.done == status.total > 0
    hits = retriever.search("Why was the interest rate frozen?", k=1, mode="bm25").hits
    assert "금리" in hits[0].text
    assert render.gloss_status(status) == ""


def test_a_failed_glossing_is_reported_not_raised(tmp_path, monkeypatch):
    config = _setup(tmp_path, monkeypatch, SlowDictionary())

    def missing(config, role="answer"):
        raise ModelUnavailableError("llama-cpp-python is not installed; run make llm")

    monkeypatch.setattr("rag.llm.load_generator", missing)
    glossing = BackgroundGlossing(config.replace(lexicon="on"))
    glossing.start()
    status = glossing.wait(timeout=10)
    assert not status.running and "make llm" in status.error
    assert "make llm" in render.gloss_status(status)


def test_a_stopped_run_ends_before_its_next_batch(tmp_path, monkeypatch):
    generator = SlowDictionary()
    config = _setup(tmp_path, monkeypatch, generator)
    glossing = BackgroundGlossing(config)
    glossing.start()
    glossing.stop(timeout=0)  # asked while the model is busy: it ends after this batch
    generator.go.set()
    status = glossing.wait(timeout=10)
    assert not status.running and generator.calls <= 1


def test_gloss_status_lines():
    assert "preparing" in render.gloss_status(GlossStatus(running=True))
    line = render.gloss_status(GlossStatus(running=True, done=1200, total=3400))
    assert "1,200 of 3,400 words glossed" in line and "1,200/3,400" in line
    assert "&lt;b&gt;" in render.gloss_status(GlossStatus(error="<b>bad</b>"))
