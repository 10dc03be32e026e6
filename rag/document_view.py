"""A whole report as HTML, opened at a cited passage: the UI's full-document view.

A source card shows one passage; the reader often needs what stands around it (the
table the sentence summarises, the section's first paragraph). This view is the report's
stored text, the text every citation offset points into, with its printed page breaks
and the lines the file styles as headings, the passage framed and its cited sentence
marked, so the view opens where the card was. Everything from the report is escaped
here, as in rag.render.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import pairwise

from .ingest.document import Document
from .render import escape

# The id of the framed passage: the UI scrolls the view to it.
PASSAGE_ID = "doc-passage"


def page_label_at(document: Document, offset: int) -> str:
    """The printed label of the page holding `offset` ("" for a text without pages)."""
    if not document.pages:
        return ""
    page = max(bisect_right(document.pages, offset), 1)
    if len(document.page_labels) >= page and document.page_labels[page - 1]:
        return document.page_labels[page - 1]
    return str(page)


def document_html(document: Document, start: int, end: int,
                  quote_start: int | None = None, quote_end: int | None = None) -> str:
    """The report `document` as HTML, the passage [start, end) framed (id PASSAGE_ID) and
    the cited sentence [quote_start, quote_end) marked; offsets are clipped to the text."""
    text = document.text
    n = len(text)
    start = min(max(start, 0), n)
    end = min(max(end, start), n)
    quote = (quote_start, quote_end) if quote_start is not None and quote_end is not None \
        else (start, start)
    qs = min(max(quote[0], start), end)
    qe = min(max(quote[1], qs), end)
    headings = _heading_spans(document)
    # Every place where the styling changes: between two of them, one span of one style
    # (spans side by side, never nested across each other).
    cuts = {0, n, start, end, qs, qe, *(p for p in document.pages if 0 < p < n)}
    for a, b in headings:
        cuts.update((a, b))
    bounds = sorted(cuts)
    page_of = {p: i for i, p in enumerate(document.pages, 1)}
    heading_starts = [h0 for h0, _ in headings]
    out: list[str] = []
    for a, b in pairwise(bounds):
        if a in page_of:
            out.append(f'<div class="page-break" data-page="{page_of[a]}">'
                       f"p. {escape(page_label_at(document, a))}</div>")
        classes = [name for name, inside in (
            ("doc-heading", _within(headings, heading_starts, a, b)),
            ("in-passage", start <= a and b <= end and start < end),
            ("quote", qs <= a and b <= qe and qs < qe)) if inside]
        anchor = f' id="{PASSAGE_ID}"' if a == start and start < end else ""
        piece = escape(text[a:b])
        tag = "mark" if "quote" in classes else "span"
        out.append(f'<{tag} class="{" ".join(classes)}"{anchor}>{piece}</{tag}>'
                   if classes or anchor else piece)
    pages = f" · {len(document.pages)} pages" if document.pages else ""
    where = f"p. {page_label_at(document, start)} · " if document.pages else ""
    return (f'<div class="document-view"><header><b>{escape(document.title)}</b> '
            f'<code>{escape(document.doc_id)}</code> · {escape(document.format)}{pages}'
            f'<div class="doc-where">{escape(where)}chars {start:,}–{end:,} of {n:,}</div>'
            f'</header><div class="doc-text">{"".join(out)}</div></div>')


def _within(spans: list[tuple[int, int]], starts: list[int], a: int, b: int) -> bool:
    """Whether [a, b) lies inside one of the sorted, disjoint `spans`."""
    i = bisect_right(starts, a) - 1
    return i >= 0 and b <= spans[i][1]


def _heading_spans(document: Document) -> list[tuple[int, int]]:
    """(start, end) of each heading line the file styles, in order, one per line."""
    text = document.text
    spans = []
    for offset, _level in document.headings:
        if 0 <= offset < len(text):
            stop = text.find("\n", offset)
            spans.append((offset, len(text) if stop < 0 else stop))
    return sorted(set(spans))
