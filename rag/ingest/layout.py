"""Assembling a format's blocks (paragraphs, headings, table rows, notes) into stored text.

Every loader reads its file into `Block`s in reading order; `assemble` lays them out the
way the chunker reads text: a paragraph per line with a blank line between paragraphs,
a table row per line with its cells separated by tabs, and records where each page
starts and which lines the file styles as headings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

PARAGRAPH, HEADING, ROW, NOTE = "paragraph", "heading", "row", "note"
# Inside a block's text: the next page starts here (a paragraph running over a page).
PAGE_BREAK = "\u2029"
_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u3000]+")
# Characters a page layout leaves in text that no reader wants quoted.
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Block:
    """A unit of a file's text: its kind, the page it starts on (1-based, 0 when unknown;
    a PAGE_BREAK in the text marks where each further page starts), and for a heading
    its level (1 outermost); a row's cells are joined by tabs."""

    kind: str
    text: str
    page: int = 0
    level: int = 0


@dataclass(frozen=True)
class Layout:
    text: str
    pages: tuple[int, ...]
    headings: tuple[tuple[int, int], ...]


# A sentence's end: a styled line ending so is body text whatever its style says (HWP
# outline numbering is often used for numbered body paragraphs).
_SENTENCE_END = re.compile(r"(?:[다요음임함됨]\s*[.!?]?|[.!?])\s*(?:\d{1,2}\))?\s*$")
MAX_HEADING_CHARS = 120


def styled_block(text: str, level: int, page: int = 0) -> Block:
    """A paragraph the file styles at outline `level` (0: none): a heading if it reads
    like one, short and without a sentence's ending, else a paragraph."""
    if level and len(text.strip()) <= MAX_HEADING_CHARS and not _SENTENCE_END.search(text):
        return Block(HEADING, text, page, level)
    return Block(PARAGRAPH, text, page)


def normalize_line(text: str) -> str:
    """One line of clean text: NFC Hangul, no soft hyphens or control characters,
    runs of spaces as one, tabs kept (they separate a row's cells)."""
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = text.replace("\r", " ").replace("\n", " ")
    cells = [_SPACES.sub(" ", cell).strip() for cell in text.split("\t")]
    return "\t".join(cells).strip("\t ")


def table_row(cells: Iterable[str]) -> str:
    """A table row as one line: cells without inner line breaks, separated by tabs."""
    return "\t".join(normalize_line(c).replace("\t", " ") for c in cells)


def assemble(blocks: Iterable[Block], n_pages: int = 0) -> Layout:
    """The stored text of `blocks`, where each of `n_pages` pages starts, and the headings.

    With n_pages 0 the text has no page map (a format without pages).
    """
    parts: list[str] = []
    pos = 0
    starts: list[int] = []
    headings: list[tuple[int, int]] = []
    previous = ""
    for block in blocks:
        line = normalize_line(block.text) if block.kind != ROW else block.text.strip("\n")
        if not line.strip():
            continue
        # Rows of one table stay on consecutive lines; anything else is a paragraph.
        sep = "" if not parts else ("\n" if block.kind == ROW and previous == ROW else "\n\n")
        pos += len(sep)
        if n_pages and block.page:
            while len(starts) < min(block.page, n_pages):
                starts.append(pos)
        if block.kind == HEADING:
            headings.append((pos, max(1, min(block.level or 1, 6))))
        pieces = line.split(PAGE_BREAK)
        for i, piece in enumerate(pieces):
            if i and n_pages and len(starts) < n_pages:
                starts.append(pos)
            parts.append((sep if i == 0 else "") + piece)
            pos += len(piece)
        previous = block.kind
    while n_pages and len(starts) < n_pages:
        starts.append(pos)
    text = "".join(parts) + "\n" if parts else ""
    return Layout(text, tuple(starts), tuple(headings))


@dataclass(frozen=True)
class Extraction:
    """What a loader read from a file: its blocks, its page count (0: a format without
    pages), printed page labels, a title the file declares, and notes worth logging
    (pages left out, OCR used)."""

    format: str
    blocks: tuple[Block, ...]
    n_pages: int = 0
    page_labels: tuple[str, ...] = ()
    title: str = ""
    notes: tuple[str, ...] = ()
