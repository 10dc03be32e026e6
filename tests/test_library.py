"""The report library: its rows and removing reports, on made-up reports of several
domains (hashing embedder)."""

from __future__ import annotations

import pytest

from rag.errors import CorpusError
from rag.indexing import build_index
from rag.library import library_rows, remove_reports
from rag.retrieval import Retriever
from tests.conftest import make_config, write_corpus

REPORTS = {
    "energy.txt": "원전 정책 보고서\n\n1 개요\n- 정부는 원전 2기를 2030년까지 추가 건설한다.\n",
    "finance.md": "# 금융 시장 동향\n\n## 1. 금리\n\n기준금리는 3.5%로 동결되었다.\n",
    "health.txt": "보건 정책 동향\n\n1 개요\n- 백신 접종률은 2024년 85%였다.\n",
}


@pytest.fixture
def library(tmp_path):
    write_corpus(tmp_path / "corpus", REPORTS)
    config = make_config(tmp_path)
    build_index(config)
    return config


def test_every_report_is_a_row_with_its_passages(library) -> None:
    index = Retriever(library).index
    rows = library_rows(index)
    # By title: 금융 시장 동향, 보건 정책 동향, 원전 정책 보고서.
    assert [r.doc_id for r in rows] == ["finance", "health", "energy"]
    assert all(r.state == "indexed" and r.added and r.passages >= 1 for r in rows)
    assert all(r.format == "text" and r.pages is None for r in rows)
    assert sum(r.passages for r in rows) == len(index.chunks)
    (library.corpus_dir / "health.txt").unlink()
    assert {r.doc_id: r.state for r in library_rows(index)}["health"] == "file missing"


def test_a_removed_report_leaves_the_index_and_its_file_is_kept(library) -> None:
    indexed = Retriever(library).index.documents
    kept, report = remove_reports(library, ["energy"], indexed)
    assert not (library.corpus_dir / "energy.txt").exists()
    assert [p.name for p in kept] == ["energy.txt"]
    assert kept[0].parent.parent == library.corpus_dir.parent / "corpus-removed"
    assert kept[0].read_text(
        encoding="utf-8") == REPORTS["energy.txt"]
    after = Retriever(library).index
    assert set(after.documents) == {"finance", "health"}
    assert all(c.doc_id != "energy" for c in after.chunks)
    assert report.chunks == len(after.chunks)


def test_removing_an_unknown_report_changes_nothing(library) -> None:
    indexed = Retriever(library).index.documents
    with pytest.raises(CorpusError, match="no indexed report nope"):
        remove_reports(library, ["nope", "energy"], indexed)
    with pytest.raises(CorpusError, match="none given"):
        remove_reports(library, [], indexed)
    assert (library.corpus_dir / "energy.txt").exists()
    assert set(Retriever(library).index.documents) == {"energy", "finance", "health"}


def test_a_failed_update_puts_the_files_back(library, monkeypatch) -> None:
    import rag.library

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rag.library, "build_index", fail)
    indexed = Retriever(library).index.documents
    with pytest.raises(OSError, match="disk full"):
        remove_reports(library, ["health"], indexed)
    assert (library.corpus_dir / "health.txt").read_text(encoding="utf-8") == \
        REPORTS["health.txt"]
