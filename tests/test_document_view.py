"""The full-document view: the whole report, its pages and headings, the passage framed."""

from __future__ import annotations

import html as std
import re

from rag.document_view import PASSAGE_ID, document_html, page_label_at
from rag.ingest.document import Document

PAGES = ["1 항만 현황\n부산항의 물동량은 늘었다.\n",
         "2 <전망>\n내년 물동량은 2,400만 TEU로 예상된다. 끝.\n", "부록 & 참고\n"]


def _document(**kw) -> Document:
    text = "".join(PAGES)
    starts = tuple(sum(len(p) for p in PAGES[:i]) for i in range(len(PAGES)))
    fields = {"doc_id": "port-2025", "title": "항만 <보고서>", "text": text, "source": "x.pdf",
              "sha256": "0", "encoding": "utf-8", "format": "pdf", "pages": starts,
              "page_labels": ("i", "2", ""), "headings": ((0, 1), (starts[1], 1))}
    return Document(**{**fields, **kw})


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_the_whole_text_is_kept_escaped_with_the_sentence_marked_in_its_passage() -> None:
    doc = _document()
    start = doc.text.index("내년")
    end = doc.text.index("끝.") + 2
    quote = (start, doc.text.index("예상된다.") + 5)
    html = document_html(doc, start, end, *quote)
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", html)
    assert marked == ["내년 물동량은 2,400만 TEU로 예상된다."]
    assert f'id="{PASSAGE_ID}"' in html
    passage = "".join(re.findall(r'class="[^"]*in-passage[^"]*"[^>]*>(.*?)</', html))
    assert passage == "내년 물동량은 2,400만 TEU로 예상된다. 끝."
    # Nothing from the report is markup, and the text itself is all there, in order.
    assert "<전망>" not in html and "&lt;전망&gt;" in html and "&amp; 참고" in html
    assert "<보고서>" not in html and "항만 &lt;보고서&gt;" in html
    body = re.search(r'<div class="doc-text">(.*)</div></div>$', html, re.DOTALL)[1]
    body = re.sub(r'<div class="page-break"[^>]*>.*?</div>', "", body)
    assert std.unescape(_plain(body)) == doc.text


def test_printed_page_labels_break_the_text_and_headings_are_set_apart() -> None:
    doc = _document()
    html = document_html(doc, 0, 5)
    assert re.findall(r'<div class="page-break" data-page="(\d)">p\. (\w+)</div>', html) == [
        ("1", "i"), ("2", "2"), ("3", "3")]
    headings = re.findall(r'<span class="doc-heading[^"]*"[^>]*>(.*?)</span>', html)
    assert "".join(headings).startswith("1 항")  # split where the passage ends
    assert "2 &lt;전망&gt;" in headings
    assert page_label_at(doc, doc.text.index("내년")) == "2"
    assert page_label_at(doc, len(doc.text) - 1) == "3"  # no printed label: its number


def test_a_text_without_pages_has_no_page_marks_and_offsets_are_clipped() -> None:
    doc = _document(format="text", pages=(), page_labels=(), headings=())
    html = document_html(doc, -5, 10 ** 6, 3, 2)
    assert "page-break" not in html and "<mark" not in html
    assert page_label_at(doc, 10) == ""
    assert f"chars 0–{len(doc.text):,} of {len(doc.text):,}" in html
    # An empty passage frames nothing.
    assert PASSAGE_ID not in document_html(doc, 4, 4)


def test_the_page_script_and_style_use_the_passage_id():
    # The page opens the view at the element this module frames; the two must agree.
    import ui

    assert f'getElementById("{PASSAGE_ID}")' in ui.HEAD
    assert f"#{PASSAGE_ID} " in ui.CSS
