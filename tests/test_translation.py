"""English questions translated to Korean by the LLM: the cache, the prompt, the search."""

import json
import logging

import pytest
from conftest import CORPUS, make_config, write_corpus

import rag.llm
from rag.embedding import HashEmbedder
from rag.glossary import Term
from rag.indexing import build_index
from rag.retrieval import Retriever
from rag.translation import SYSTEM_PROMPT, Translator, pick_translation

QUESTION = "How much did DeepSeek spend on V3?"
KOREAN = "딥시크는 V3 모델 개발에 얼마를 투자했나?"
DEEPSEEK = "딥시크(DeepSeek)는 V3 모델을 개발하는데 약 560만 달러를 투자했다.\n"


class ScriptedGenerator:
    """Answers every chat with the same pieces and records the chats."""

    def __init__(self, *pieces: str, name: str = "scripted") -> None:
        self.name = name
        self.pieces = pieces
        self.calls: list[list[dict]] = []

    def stream(self, messages, max_tokens, temperature=0.0):
        self.calls.append(messages)
        yield from self.pieces


@pytest.fixture
def cache_file(tmp_path):
    return tmp_path / "cache" / "translations.jsonl"


def test_second_call_is_a_cache_hit(cache_file):
    generator = ScriptedGenerator("딥시크는 ", "V3 모델 개발에 얼마를 투자했나?")
    translator = Translator(generator, cache_file)
    assert translator.translate(QUESTION) == (KOREAN, False)
    assert translator.translate(QUESTION) == (KOREAN, True)
    assert len(generator.calls) == 1
    messages = generator.calls[0]
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    # Worked examples (user/assistant pairs) come before the question itself.
    assert [m["role"] for m in messages[1:-1]] == ["user", "assistant"] * 2
    assert messages[-1] == {"role": "user", "content": QUESTION}


def test_preambles_and_runaway_repeats_are_dropped():
    assert pick_translation('한국어로는 다음과 같이 질문할 수 있습니다:\n"선전시의 펀드 규모는?"'
                            ) == "선전시의 펀드 규모는?"
    assert pick_translation("전략을 전략을 전략을 전략을 세웠나?") == "전략을 전략을 세웠나?"
    assert pick_translation("Sorry, I cannot.") == ""


def test_cache_persists_and_a_new_translator_reads_it(cache_file):
    Translator(ScriptedGenerator(KOREAN), cache_file).translate(QUESTION)
    rows = [json.loads(line) for line in cache_file.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [KOREAN]
    assert QUESTION in rows[0]["key"] and "scripted" in rows[0]["key"]
    assert KOREAN in cache_file.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    again = ScriptedGenerator("다른 번역")
    assert Translator(again, cache_file).translate(QUESTION) == (KOREAN, True)
    assert again.calls == []


def test_cache_is_kept_per_model(cache_file):
    Translator(ScriptedGenerator(KOREAN, name="a"), cache_file).translate(QUESTION)
    other = ScriptedGenerator("모델 B의 번역", name="b")
    assert Translator(other, cache_file).translate(QUESTION) == ("모델 B의 번역", False)


def test_damaged_cache_lines_are_skipped(cache_file, caplog):
    Translator(ScriptedGenerator(KOREAN), cache_file).translate(QUESTION)
    good = cache_file.read_text(encoding="utf-8")
    cache_file.write_text('{"key": "trunc\n[1, 2]\n{"key": "no text"}\nnull\n' + good
                          + '{"text": "no key"}\n', encoding="utf-8")
    generator = ScriptedGenerator("새 번역")
    with caplog.at_level(logging.WARNING, logger="rag.cache"):
        translator = Translator(generator, cache_file)
    assert translator.translate(QUESTION) == (KOREAN, True)
    assert generator.calls == []
    assert sum("damaged line" in r.message for r in caplog.records) == 5


def test_glossary_hints_ride_on_the_question_and_the_prefix_stays_fixed(cache_file):
    generator = ScriptedGenerator(KOREAN)
    glossary = [Term("DeepSeek", "딥시크", "d"), Term("HBM", "고대역폭 메모리", "d")]
    translator = Translator(generator, cache_file)
    translator.translate(QUESTION, glossary)
    translator.translate("What is HBM?")
    with_hints, without = generator.calls
    assert with_hints[0]["content"] == without[0]["content"] == SYSTEM_PROMPT
    assert with_hints[:-1] == without[:-1]  # the examples too: one cacheable prefix
    assert with_hints[-1]["content"] == (
        f"{QUESTION}\n(Korean terms: DeepSeek = 딥시크; HBM = 고대역폭 메모리)")
    assert without[-1]["content"] == "What is HBM?"


def test_echoed_hints_are_not_the_translation():
    reply = "(Korean terms: DeepSeek = 딥시크; HBM = 고대역폭 메모리 반도체)\n딥시크 비용은?"
    assert pick_translation(reply) == "딥시크 비용은?"


def test_only_the_first_line_of_the_reply_is_kept(cache_file):
    generator = ScriptedGenerator(f"  {KOREAN}\n(Translation note: V3 is a model.)")
    assert Translator(generator, cache_file).translate(QUESTION) == (KOREAN, False)


def test_empty_reply_keeps_the_question_and_caches_nothing(cache_file):
    generator = ScriptedGenerator("  ", "\n")
    translator = Translator(generator, cache_file)
    assert translator.translate(QUESTION) == (QUESTION, False)
    assert translator.translate(QUESTION) == (QUESTION, False)
    assert len(generator.calls) == 2
    assert not cache_file.exists()


def test_unwritable_cache_still_translates(tmp_path, caplog):
    folder = tmp_path / "is-a-folder"
    folder.mkdir()
    with caplog.at_level(logging.WARNING, logger="rag.cache"):
        assert Translator(ScriptedGenerator(KOREAN), folder).translate(QUESTION) == (
            KOREAN, False)
    assert any("cannot write the translation cache" in r.message for r in caplog.records)


# --- in the retriever -----------------------------------------------------------------


@pytest.fixture(scope="module")
def deepseek_index(tmp_path_factory):
    """The fixture reports plus one that names 딥시크(DeepSeek), so the glossary has a pair."""
    root = tmp_path_factory.mktemp("translation")
    write_corpus(root / "corpus", {**CORPUS, "deepseek.txt": DEEPSEEK})
    config = make_config(root)
    build_index(config, embedder=HashEmbedder())
    return config


def retriever_with(config, tmp_path, translate, *pieces):
    generator = ScriptedGenerator(*pieces)
    translator = Translator(generator, tmp_path / "t.jsonl")
    return Retriever(config.replace(translate=translate), translator=translator), generator


def test_english_question_is_searched_in_korean_too(deepseek_index, tmp_path):
    retriever, generator = retriever_with(deepseek_index, tmp_path, "on", KOREAN)
    result = retriever.search(QUESTION, k=3)
    kinds = [v["kind"] for v in result.variants]
    assert kinds == ["original", "glossary", "translation"]
    translation = result.variants[2]
    assert translation["text"] == KOREAN
    assert translation["cached"] is False
    assert translation["retrievers"] == ["dense", "sentences", "bm25"]
    assert {"딥시크", "v3", "모델", "투자"} <= set(translation["bm25_terms"])
    assert "translation" in result.timings_ms
    assert result.hits[0].doc_id == "deepseek"
    # The glossary pair mined from the reports guided the translation.
    assert "DeepSeek = 딥시크" in generator.calls[0][-1]["content"]
    again = retriever.search(QUESTION, k=3)
    assert again.variants[2]["cached"] is True
    assert len(generator.calls) == 1


@pytest.mark.parametrize(("mode", "retrievers"), [("dense", ["dense", "sentences"]),
                                                     ("bm25", ["bm25"])])
def test_translation_runs_the_retrievers_of_the_mode(deepseek_index, tmp_path, mode,
                                                     retrievers):
    retriever, _ = retriever_with(deepseek_index, tmp_path, "on", KOREAN)
    variant = retriever.search(QUESTION, k=3, mode=mode).variants[-1]
    assert variant["kind"] == "translation"
    assert variant["retrievers"] == retrievers
    assert ("bm25_terms" in variant) == (mode == "bm25")


def test_korean_questions_are_never_translated(deepseek_index, tmp_path):
    retriever, generator = retriever_with(deepseek_index, tmp_path, "on", "should not be used")
    result = retriever.search("딥시크(DeepSeek)가 V3 개발에 쓴 비용은?", k=3)
    assert generator.calls == []
    assert [v["kind"] for v in result.variants] == ["original"]


def test_translate_off_never_calls_the_translator(deepseek_index, tmp_path):
    retriever, generator = retriever_with(deepseek_index, tmp_path, "off", KOREAN)
    result = retriever.search(QUESTION, k=3)
    assert generator.calls == []
    assert "translation" not in [v["kind"] for v in result.variants]


def test_translate_auto_without_an_llm_does_not_translate(deepseek_index, monkeypatch):
    def unavailable(config):
        return False, "no LLM"

    def no_generator(config, role="answer"):
        raise AssertionError("no generator may be loaded")

    monkeypatch.setattr(rag.llm, "llm_available", unavailable)
    monkeypatch.setattr(rag.llm, "load_generator", no_generator)
    retriever = Retriever(deepseek_index.replace(translate="auto"))
    result = retriever.search(QUESTION, k=3)
    assert [v["kind"] for v in result.variants] == ["original", "glossary"]


def test_translate_auto_with_a_translator_given_translates(deepseek_index, tmp_path):
    retriever, generator = retriever_with(deepseek_index, tmp_path, "auto", KOREAN)
    assert retriever.search(QUESTION, k=3).variants[-1]["text"] == KOREAN
    assert len(generator.calls) == 1
