"""The printed page with the cited sentence marked, from the PDF rendering of a report;
and the chat showing it under a PDF citation."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from conftest import make_config
from PIL import Image
from sample_files import REPORTS

from rag.embedding import HashEmbedder
from rag.errors import CorpusError
from rag.indexing import build_index
from rag.ingest.page_image import page_jpeg

PDF = REPORTS / "pdf" / "kistep-global-ai-china-2025.pdf"
QUOTE = ("미국은 기존 AI 칩 H800에 대한 수출제한을 강화했으며, 최근에는 이보다 더 사양이 "
         "낮은 H20 칩까지 규제 대상으로 포함시키는 방안을 고려 중")


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def test_the_quote_is_marked_where_it_is_printed():
    plain, marked = _pixels(page_jpeg(PDF, 3)), _pixels(page_jpeg(PDF, 3, QUOTE))
    changed = np.abs(marked - plain).sum(axis=2) > 60
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.size, "nothing was highlighted"
    # Two printed lines near the top of page 3, across most of the text width.
    height = plain.shape[0]
    assert rows.min() > 0.15 * height and rows.max() < 0.35 * height
    assert rows.max() - rows.min() < 0.06 * height
    assert changed.any(axis=0).sum() > 0.5 * plain.shape[1]


def test_a_quote_not_on_the_page_marks_nothing_and_a_missing_page_says_so():
    plain, other = _pixels(page_jpeg(PDF, 1)), _pixels(page_jpeg(PDF, 1, QUOTE))
    assert (np.abs(other - plain).sum(axis=2) > 60).sum() == 0
    with pytest.raises(CorpusError, match="has no page 99"):
        page_jpeg(PDF, 99)


def test_chat_shows_the_printed_page_under_a_pdf_citation(tmp_path):
    import ui

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PDF, corpus / PDF.name)
    config = make_config(tmp_path)
    build_index(config, embedder=HashEmbedder())
    app = ui.ReportApp(config)
    *_, (_chat, panel, _turns) = app.respond("H20 칩의 성능은 H100 대비 어느 수준인가?", [], [],
                                           "extractive", 5, [], False)
    answer = app.ask("H20 칩의 성능은 H100 대비 어느 수준인가?")
    assert answer["citations"] and all(c["page"] for c in answer["citations"])
    assert 'class="page-view"' in panel and "data:image/jpeg;base64," in panel
    assert f"p. {answer['citations'][0]['page']} " in panel
