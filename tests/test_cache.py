"""Keyed JSON-lines caches: reading back, later lines winning, damage and unwritable files."""

import logging

from rag.cache import append_cache, read_cache


def test_values_read_back_and_a_later_line_wins(tmp_path):
    path = tmp_path / "sub" / "c.jsonl"
    assert read_cache(path, "text") == {}
    append_cache(path, "text", {"a": "하나", "b": "둘"}, "test cache")
    append_cache(path, "text", {"a": "셋"}, "test cache")
    assert read_cache(path, "text") == {"a": "셋", "b": "둘"}
    assert path.read_text(encoding="utf-8").splitlines()[0] == '{"key": "a", "text": "하나"}'


def test_damaged_lines_and_other_fields_are_skipped(tmp_path, caplog):
    path = tmp_path / "c.jsonl"
    path.write_text('{"key": "a", "text": "x"}\n{trunc\nnull\n{"key": "b", "english": []}\n',
                    encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.cache"):
        assert read_cache(path, "text") == {"a": "x"}
    assert sum("damaged line" in r.message for r in caplog.records) == 3


def test_an_unwritable_cache_warns(tmp_path, caplog):
    folder = tmp_path / "is-a-folder"
    folder.mkdir()
    with caplog.at_level(logging.WARNING, logger="rag.cache"):
        append_cache(folder, "text", {"a": "x"}, "test cache")
    assert any("cannot write the test cache" in r.message for r in caplog.records)
