"""The English → Korean word lexicon: glossing, caching, inverting, and searching with it."""

import json
import logging
import threading

import pytest
from conftest import make_config, write_corpus

from rag.errors import ModelUnavailableError
from rag.indexing import build_index, gloss_index, gloss_vocabulary
from rag.lexicon import (
    GlossCache,
    build_lexicon,
    content_nouns,
    english_key,
    hangul_words,
    parse_glosses,
)
from rag.retrieval import Retriever

DICTIONARY = {"인재": "talent, human resources", "유치": "attraction, recruitment",
              "해외": "overseas, abroad", "가격": "price, cost", "특허": "patent"}


class Dictionary:
    """A generator that answers gloss requests from DICTIONARY, and counts its calls."""

    name = "fake-dictionary"

    def __init__(self, skip=()):
        self.asked: list[list[str]] = []
        self.skip = set(skip)

    def stream(self, messages, max_tokens, temperature=0.0):
        terms = messages[-1]["content"].split("\n")
        self.asked.append(terms)
        yield "\n".join(f"{t} = {DICTIONARY[t]}" for t in terms
                        if t in DICTIONARY and t not in self.skip)


@pytest.mark.parametrize(("words", "key"), [
    (("talent", "Talents", "talent's"), "talent"),
    (("recruit", "recruiting", "recruited", "recruits"), "recruit"),
    (("company", "companies"), "company"),
    (("resource", "resources"), "resourc"),
    (("manufacture", "manufacturing", "manufactured"), "manufactur"),
    (("process", "processes"), "process"),
    (("China", "China's"), "china"),
    (("analysis",), "analysis"), (("AI",), "ai"), (("bus",), "bus"),
])
def test_english_key_gives_word_forms_one_key(words, key):
    assert {english_key(w) for w in words} == {key}


def test_parse_glosses_reads_lines_of_the_asked_terms_only():
    reply = ("1. 인재 = Talent, talent, human resources.\n"
             "유치 = attraction\n"
             "정부 = government\n"          # not asked
             "가격 = 가격\n"                # no English
             "해외 - overseas\n"            # no '='
             "인재 = again")                 # the first line wins
    assert parse_glosses(reply, ["인재", "유치", "가격", "해외"]) == {
        "인재": ("talent", "human resources"), "유치": ("attraction",)}


def test_build_lexicon_inverts_glosses_by_word_key():
    lexicon = build_lexicon({"인재": ("talent", "human resources"), "인력": ("talent",),
                             "해외": ("overseas", "of the world")})
    assert lexicon.entries["talent"] == ("인력", "인재")
    assert lexicon.entries["resourc"] == ("인재",)
    assert "of" not in lexicon.entries and "the" not in lexicon.entries
    assert len(lexicon) == 5  # talent, human, resourc, oversea, world


def test_lookup_maps_each_known_word_once():
    lexicon = build_lexicon({"인재": ("talent",), "해외": ("overseas",), "유치": ("recruit",)})
    found = lexicon.lookup("How does China recruit overseas talents? Talents from overseas")
    assert found == {"recruit": ("유치",), "overseas": ("해외",), "talents": ("인재",),
                     "Talents": ("인재",)}
    assert lexicon.lookup("인재 유치") == {}


def test_glosses_of_one_word_in_any_form():
    lexicon = build_lexicon({"인재": ("talent",), "지능": ("intelligence",)})
    assert lexicon.glosses("Talents") == ("인재",)
    assert lexicon.glosses("Intelligence") == ("지능",)
    assert lexicon.glosses("the") == lexicon.glosses("Moonshot") == ()


def test_vocabulary_keeps_korean_content_nouns_most_frequent_first():
    tokens = [["인재", "유치", "하", "ai"], ["인재", "베이징", "물", "달리"], ["인재", "유치"]]
    assert content_nouns(hangul_words(tokens)) == ["인재", "유치"]
    # 하 and 물 are one syllable, ai is not Hangul, 베이징 is a proper noun, 달리 a verb stem.


def test_gloss_cache_glosses_once_and_reads_back(tmp_path):
    cache_file = tmp_path / "lexicon.jsonl"
    cache = GlossCache(cache_file, "fake-dictionary")
    generator = Dictionary()
    assert cache.missing(["인재", "유치"]) == ["인재", "유치"]
    assert cache.gloss(["인재", "유치"], generator) == 2
    assert generator.asked == [["인재", "유치"]]
    again = GlossCache(cache_file, "fake-dictionary")
    assert again.missing(["인재", "유치", "해외"]) == ["해외"]
    assert again.get(["인재", "없음"]) == {"인재": ("talent", "human resources")}
    # Another model's glosses are its own.
    assert GlossCache(cache_file, "other-model").missing(["인재"]) == ["인재"]


def test_a_skipped_term_is_asked_alone_once_then_left_out(tmp_path, caplog):
    cache = GlossCache(tmp_path / "lexicon.jsonl", "fake-dictionary")
    generator = Dictionary(skip={"유치"})
    with caplog.at_level(logging.INFO, logger="rag.lexicon"):
        assert cache.gloss(["인재", "유치"], generator) == 1
    assert generator.asked == [["인재", "유치"], ["유치"]]
    assert "no English gloss for 유치" in caplog.text
    # Remembered as having no gloss: not asked again, and not in the lexicon.
    assert cache.missing(["인재", "유치"]) == []
    assert cache.get(["인재", "유치"]) == {"인재": ("talent", "human resources")}


def test_a_damaged_cache_line_is_skipped(tmp_path, caplog):
    cache_file = tmp_path / "lexicon.jsonl"
    cache_file.write_text('{"key": "1\\tm\\t인재", "english": ["talent"]}\n{broken\n',
                          encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.cache"):
        assert GlossCache(cache_file, "m").get(["인재"]) == {"인재": ("talent",)}
    assert "damaged" in caplog.text


# --- indexing and search ---------------------------------------------------------------

TALENT = "해외 인재 유치를 위해 높은 연봉을 제공함"


@pytest.fixture
def glossed(tmp_path, monkeypatch):
    """A corpus whose words the fake dictionary glosses at indexing time. The file's name,
    its title, is Hangul: a Latin one ("talent") would match the English word itself."""
    write_corpus(tmp_path / "corpus", {"보고서.txt": f"인재 정책\n\n1 개요\n- {TALENT}\n"
                                       "- 물 가격은 3% 올랐음\n- 특허 출원은 38,000건임\n"})
    generator = Dictionary()
    monkeypatch.setattr("rag.llm.load_generator", lambda config, role="answer": generator)
    monkeypatch.setattr("rag.llm.llm_available", lambda config: (True, "fake"))
    monkeypatch.setattr("rag.llm.generator_name", lambda config: generator.name)
    config = make_config(tmp_path, lexicon="auto")
    return config, generator


def test_indexing_glosses_new_words_once(glossed, monkeypatch):
    config, generator = glossed
    report = build_index(config)
    # Publishing the index glosses nothing: that comes after, and may take long.
    assert not report.up_to_date and generator.asked == []
    seen = []
    assert gloss_index(config, on_batch=lambda done, total: seen.append((done, total))) >= 4
    assert seen and seen[-1][0] == seen[-1][1]
    rows = [json.loads(line) for line in
            (config.cache_dir / "lexicon.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["key"].split("\t")[2] for r in rows} >= {"인재", "유치", "해외", "가격", "특허"}
    asked = len(generator.asked)
    # Up to date and every word cached (verbs and names as needing no gloss): neither the
    # LLM nor the tagger is called.
    def no_tagger(words):
        raise AssertionError(f"tagged {words}")

    monkeypatch.setattr("rag.bm25.tag_words", no_tagger)
    again = build_index(config)
    assert again.up_to_date and gloss_index(config) == 0
    assert len(generator.asked) == asked


def test_a_stopped_gloss_keeps_what_it_cached_and_the_next_run_goes_on(glossed):
    config, generator = glossed
    build_index(config)
    stop = threading.Event()
    stop.set()
    assert gloss_index(config, stop=stop) == 0 and generator.asked == []
    assert gloss_index(config) >= 4


def test_lexicon_off_never_glosses(glossed):
    config, generator = glossed
    build_index(config.replace(lexicon="off"))
    assert gloss_index(config.replace(lexicon="off")) == 0
    assert generator.asked == []


def test_auto_without_an_llm_skips_glossing(glossed, monkeypatch, caplog):
    config, generator = glossed
    monkeypatch.setattr("rag.llm.llm_available", lambda config: (False, "not installed"))
    with caplog.at_level(logging.INFO, logger="rag.indexing"):
        build_index(config)
        assert gloss_index(config) == 0
    assert generator.asked == []
    assert "stay without English glosses" in caplog.text


def test_on_without_an_llm_raises(glossed, monkeypatch):
    config, _ = glossed

    def missing(config, role="answer"):
        raise ModelUnavailableError("llama-cpp-python is not installed")

    monkeypatch.setattr("rag.llm.llm_available", lambda config: (False, "not installed"))
    monkeypatch.setattr("rag.llm.load_generator", missing)
    build_index(config.replace(lexicon="off"))
    with pytest.raises(ModelUnavailableError):
        gloss_vocabulary(config.replace(lexicon="on"), Retriever(config).index.tokens)


def test_english_question_searches_the_glossed_korean_words(glossed):
    config, _ = glossed
    build_index(config)
    gloss_index(config)
    result = Retriever(config).search("How is overseas talent recruitment supported?", k=1,
                                      mode="bm25")
    assert TALENT in result.hits[0].text
    lexicon = next(v for v in result.variants if v["kind"] == "lexicon")
    assert lexicon["mapping"] == {"overseas": ["해외"], "talent": ["인재"],
                                  "recruitment": ["유치"]}
    assert lexicon["bm25_terms"] == ["해외", "인재", "유치"]
    assert lexicon["retrievers"] == ["bm25"]
    dense = Retriever(config).search("overseas talent recruitment", k=1, mode="dense")
    assert next(v for v in dense.variants if v["kind"] == "lexicon")["retrievers"] == []


def test_a_running_retriever_uses_glosses_cached_after_it_started(glossed):
    config, _ = glossed
    build_index(config)
    retriever = Retriever(config)
    question = "How is overseas talent recruitment supported?"
    before = retriever.search(question, k=1, mode="bm25")
    assert "lexicon" not in [v["kind"] for v in before.variants]
    gloss_index(config)  # as the UI's background glossing does
    after = retriever.search(question, k=1, mode="bm25")
    assert TALENT in after.hits[0].text
    assert "lexicon" in [v["kind"] for v in after.variants]


def test_korean_questions_do_not_use_the_lexicon(glossed):
    config, _ = glossed
    build_index(config)
    result = Retriever(config).search("해외 인재 유치", k=1)
    assert [v["kind"] for v in result.variants] == ["original"]


def test_lexicon_setting_off_leaves_english_words_as_typed(glossed):
    config, _ = glossed
    build_index(config)
    result = Retriever(config.replace(lexicon="off")).search("overseas talent", k=1,
                                                             mode="bm25")
    assert "lexicon" not in [v["kind"] for v in result.variants]
    assert result.hits == ()


def _cli_environment(monkeypatch, config):
    for key, value in {"RAG_CACHE_DIR": config.cache_dir, "RAG_MODEL": "hash",
                       "RAG_LEXICON": "auto", "RAG_CHUNK_TOKENS": 64,
                       "RAG_CHUNK_OVERLAP_TOKENS": 16, "RAG_TRANSLATE": "off",
                       "RAG_EMBED_CACHE": "0"}.items():
        monkeypatch.setenv(key, str(value))
    return ["index", "--corpus", str(config.corpus_dir), "--index", str(config.index_dir),
            "--no-progress"]


def test_rag_index_says_the_index_is_ready_before_it_glosses(glossed, monkeypatch, capsys):
    from rag.cli import main

    config, generator = glossed
    assert main(_cli_environment(monkeypatch, config)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("indexed ") and out[1].startswith("glossed ")
    assert generator.asked


def test_ctrl_c_while_glossing_keeps_the_index(glossed, monkeypatch, capsys):
    from rag.cli import main

    config, generator = glossed

    def interrupted(messages, max_tokens, temperature=0.0):
        raise KeyboardInterrupt
        yield ""

    monkeypatch.setattr(generator, "stream", interrupted)
    assert main(_cli_environment(monkeypatch, config)) == 130
    captured = capsys.readouterr()
    assert captured.out.startswith("indexed ")
    assert "the index is searchable" in captured.err
    assert Retriever(config).search("해외 인재 유치", k=1).hits


def test_rag_index_no_gloss_publishes_without_the_llm(glossed, monkeypatch, capsys):
    from rag.cli import main

    config, generator = glossed
    assert main([*_cli_environment(monkeypatch, config), "--no-gloss"]) == 0
    assert generator.asked == [] and "glossed" not in capsys.readouterr().out
