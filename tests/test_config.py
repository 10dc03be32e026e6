"""Config: defaults, validation naming the field, RAG_* variables, replace()."""

import dataclasses
import json
from pathlib import Path

import pytest

from rag.config import DEFAULT_MODEL, Config
from rag.errors import ConfigError


def test_defaults_are_valid_and_documented():
    config = Config()
    assert config.corpus_dir == Path("corpus")
    assert config.index_dir == Path("index")
    assert config.model == DEFAULT_MODEL
    assert (config.chunk_tokens, config.chunk_overlap_tokens) == (250, 60)
    assert (config.fusion, config.rrf_k, config.top_k) == ("weighted", 60, 5)
    assert config.max_query_chars == 10_000
    assert config.embed_context is True


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().top_k = 3


def test_string_paths_become_paths():
    config = Config(corpus_dir="reports", index_dir="/tmp/ix", cache_dir="cache")
    assert config.corpus_dir == Path("reports")
    assert config.index_dir == Path("/tmp/ix")
    assert isinstance(config.cache_dir, Path)


def test_cache_dir_default_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert Config().cache_dir == tmp_path / "korean-report-rag"


@pytest.mark.parametrize(("field", "value"), [
    ("model", "  "),
    ("embed_batch_size", 0),
    ("embed_backend", "tensorrt"),
    ("embed_precision", "fp16"),
    ("ocr", "sometimes"),
    ("chunk_tokens", 15),
    ("chunk_tokens", 8193),
    ("chunk_overlap_tokens", -1),
    ("chunk_overlap_tokens", 125),  # half of the default 250 is already too much
    ("bm25_k1", 0.0),
    ("bm25_b", -0.1),
    ("bm25_b", 1.5),
    ("fusion", "max"),
    ("rrf_k", 0),
    ("dense_weight", -1.0),
    ("bm25_weight", -1.0),
    ("candidates", 0),
    ("top_k", 0),
    ("top_k", 1001),
    ("max_query_chars", 0),
    ("flat_max_chunks", 0),
    ("hnsw_m", 3),
    ("hnsw_ef_search", 0),
    ("bibliography_penalty", -0.1),
    ("bibliography_penalty", 1.5),
])
def test_invalid_value_names_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        Config(**{field: value})


def test_both_weights_zero_is_invalid():
    with pytest.raises(ConfigError, match="dense_weight and bm25_weight"):
        Config(dense_weight=0.0, bm25_weight=0.0)
    assert Config(dense_weight=0.0, bm25_weight=1.0).dense_weight == 0.0


def test_boundary_values_are_accepted():
    config = Config(chunk_tokens=16, chunk_overlap_tokens=7, top_k=1000, bm25_b=1.0)
    assert (config.chunk_tokens, config.chunk_overlap_tokens, config.top_k) == (16, 7, 1000)


def test_from_env_parses_ints_floats_bools_paths_and_strings(tmp_path):
    config = Config.from_env({
        "RAG_TOP_K": "7",
        "RAG_BM25_K1": "1.5",
        "RAG_EMBED_CONTEXT": "no",
        "RAG_INDEX_DIR": str(tmp_path / "ix"),
        "RAG_MODEL": "hash",
        "HOME": "/somewhere",   # not ours: ignored
        "RAGTIME": "1",         # no underscore after RAG: ignored
    })
    assert config.top_k == 7
    assert config.bm25_k1 == 1.5
    assert config.embed_context is False
    assert config.index_dir == tmp_path / "ix"
    assert config.model == "hash"


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("true", True), ("YES", True), (" on ", True),
    ("0", False), ("False", False), ("no", False), ("off", False),
])
def test_from_env_bool_spellings(raw, expected):
    assert Config.from_env({"RAG_EMBED_CONTEXT": raw}).embed_context is expected


@pytest.mark.parametrize(("key", "raw"), [
    ("RAG_TOP_K", "five"),
    ("RAG_TOP_K", "2.5"),
    ("RAG_BM25_B", "half"),
    ("RAG_EMBED_CONTEXT", "maybe"),
])
def test_from_env_unreadable_value_names_variable(key, raw):
    with pytest.raises(ConfigError) as info:
        Config.from_env({key: raw})
    message = str(info.value)
    assert key in message
    assert repr(raw) in message


def test_from_env_out_of_range_value_names_field():
    with pytest.raises(ConfigError, match="top_k"):
        Config.from_env({"RAG_TOP_K": "0"})


def test_from_env_unknown_rag_variable_raises():
    with pytest.raises(ConfigError) as info:
        Config.from_env({"RAG_TOPK": "3"})
    assert "RAG_TOPK" in str(info.value)
    assert "RAG_TOP_K" in str(info.value)  # the known names are listed


def test_from_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("RAG_CANDIDATES", "12")
    assert Config.from_env().candidates == 12


def test_from_env_overrides_beat_environment_and_none_is_unset():
    env = {"RAG_TOP_K": "7", "RAG_MODEL": "hash"}
    assert Config.from_env(env, top_k=3).top_k == 3
    assert Config.from_env(env, top_k=None).top_k == 7
    assert Config.from_env(env, model=None).model == "hash"


def test_replace_ignores_none_and_returns_new_config():
    config = Config(top_k=5)
    changed = config.replace(top_k=9, model=None)
    assert changed.top_k == 9
    assert changed.model == config.model
    assert config.top_k == 5


def test_replace_rejects_unknown_names():
    with pytest.raises(ConfigError, match="topk"):
        Config().replace(topk=3)


def test_replace_validates():
    with pytest.raises(ConfigError, match="top_k"):
        Config().replace(top_k=0)


def test_public_dict_is_json_ready():
    values = Config(index_dir=Path("/tmp/ix")).public_dict()
    assert values["index_dir"] == "/tmp/ix"
    assert values["chunk_tokens"] == 250
    assert json.loads(json.dumps(values)) == values
    assert set(values) == {f.name for f in dataclasses.fields(Config)}
