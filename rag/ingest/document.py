"""The document every file format is read into: stored text, page map and heading marks."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """One report: `text` is the stored text that chunk offsets point into.

    `pages` holds the offset where each page starts (page n starts at ``pages[n - 1]``);
    a text file has no pages. `page_labels` are the numbers printed on the pages where
    the file gives them ("iv", "12"). `headings` marks the lines the file itself styles
    as headings, as (offset of the line, level 1–6); formats without styles leave the
    headings to the chunker's reading of numbered lines.
    """

    doc_id: str
    title: str
    text: str
    source: str
    sha256: str
    encoding: str
    format: str = "text"
    file_sha256: str = ""
    pages: tuple[int, ...] = ()
    page_labels: tuple[str, ...] = ()
    headings: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        # Rows read back from JSON hold lists; the frozen document holds tuples.
        object.__setattr__(self, "pages", tuple(self.pages))
        object.__setattr__(self, "page_labels", tuple(self.page_labels))
        object.__setattr__(self, "headings", tuple(tuple(h) for h in self.headings))

    def page_at(self, offset: int) -> int | None:
        """The page (1-based) holding character `offset`, or None for a text without pages."""
        if not self.pages:
            return None
        return max(1, bisect_right(self.pages, offset))

    def pages_of(self, start: int, end: int) -> tuple[int, ...]:
        """Every page the span [start, end) touches, in order; () without pages."""
        first = self.page_at(start)
        if first is None:
            return ()
        last = self.page_at(max(start, end - 1)) or first
        return tuple(range(first, last + 1))

    def page_starts_in(self, start: int, end: int) -> tuple[int, ...]:
        """The offsets in (start, end) where the span's second, third… page begins."""
        return tuple(self.pages[p - 1] for p in self.pages_of(start, end)[1:])

    def page_label(self, page: int) -> str:
        """What the page is called in the file ("iv"), else its number."""
        if 1 <= page <= len(self.page_labels) and self.page_labels[page - 1]:
            return self.page_labels[page - 1]
        return str(page)
