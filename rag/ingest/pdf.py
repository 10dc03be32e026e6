"""PDF reports: the text layer of every page, rebuilt from the characters' boxes.

PDFium's own text output breaks Korean layouts: generators that place glyphs one by
one (LibreOffice, many report tools) get spaces inserted before units and particles
("2,400 억 달러", "전망이다 .") and words broken at line ends ("예상되 \\n며"). So words
are rebuilt from the glyphs' positions: a space where the gap between two glyphs is
wider than a fraction of the font size or where the file draws a space, a tab where
the gap is a table's column gap; lines are joined into paragraphs by their spacing,
and a line break inside a paragraph becomes a space only where the file has one.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CorpusError
from .joints import WRAP, resolve_wraps
from .layout import HEADING, PAGE_BREAK, PARAGRAPH, ROW, Block, Extraction

log = logging.getLogger(__name__)

# Gaps between glyphs, in units of the font size: wider than WORD_GAP is a space,
# wider than CELL_GAP is a table's column gap. Gaps are measured between the glyphs'
# advance boxes (PDFium's loose boxes), which abut inside a word: a space measures
# 0.27 em or more, a digit's box against the next syllable's about 0.21 em.
WORD_GAP = 0.24
CELL_GAP = 1.6
# A line pitch above this many font sizes starts a new paragraph.
PARAGRAPH_PITCH = 1.45
# Bullets that open a paragraph even after a full line. Numbered items ("가.", "3)") are
# not among them: a wrapped sentence can begin a line with "다." or a note mark "3)".
_BULLET = re.compile(r"^(?:[•○◦▪■□◆◇※\-–·]\s|[①-⑳])")
_PAGE_NUMBER = re.compile(r"^[-–—(\[]?\s*(\d{1,4}|[ivxlcdm]{1,6})\s*[-–—)\]]?"
                          r"(?:\s*/\s*\d{1,4})?$", re.IGNORECASE)
_LATIN_END = re.compile(r"[A-Za-z0-9,;:.!?)\]”’\"'%]$")
_HANGUL = re.compile(r"[가-힣]")
# Shares of a text layer that mean its fonts map glyphs to no real characters: private
# use code points, replacement characters, or Latin-1 letters where Korean was meant
# (a CP949 text read through a Latin font map).
_GARBAGE = re.compile(r"[\ue000-\uf8ff\ufffd\u0080-\u009f]")
_LATIN1 = re.compile(r"[\u00c0-\u00ff]")


@dataclass
class _Glyph:
    ch: str
    x0: float
    x1: float
    y: float
    size: float


@dataclass
class _Line:
    glyphs: list[_Glyph]
    y: float
    size: float
    spaces: set[int] = field(default_factory=set)  # gaps (before glyph i) the file draws
    trailing_space: bool = False
    right: float = 0.0  # the right edge of the page's text

    @property
    def x0(self) -> float:
        return self.glyphs[0].x0

    @property
    def x1(self) -> float:
        return self.glyphs[-1].x1

    def text(self) -> str:
        out = [self.glyphs[0].ch]
        for i in range(1, len(self.glyphs)):
            prev, g = self.glyphs[i - 1], self.glyphs[i]
            gap = (g.x0 - prev.x1) / max(prev.size, g.size, 1.0)
            if gap > CELL_GAP:
                out.append("\t")
            elif gap > WORD_GAP or i in self.spaces:
                out.append(" ")
            out.append(g.ch)
        return "".join(out)


def read_pdf(path: Path, ocr: Callable[[object], str] | None = None) -> Extraction:
    """Read a PDF's pages into blocks; `ocr` (a page → text function) reads pages that
    have no text layer, where it is given."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise CorpusError(f"{path.name} is password-protected; save an unprotected copy "
                              "(or print it to PDF) and add that") from exc
        raise CorpusError(f"{path.name} is not a readable PDF ({message}); re-export it "
                          "from the program that made it") from exc
    try:
        return _read(pdf, path, ocr)
    finally:
        pdf.close()


def _read(pdf, path: Path, ocr: Callable[[object], str] | None) -> Extraction:
    n_pages = len(pdf)
    pages: list[list[_Line]] = []
    labels: list[str] = []
    empty: list[int] = []
    glyph_text: list[str] = []
    for index in range(n_pages):
        page = pdf[index]
        try:
            lines = _page_lines(page)
            labels.append(_label(pdf, index))
            if not lines:
                empty.append(index)
            glyph_text.extend(g.ch for line in lines for g in line.glyphs)
            pages.append(lines)
        finally:
            page.close()
    _check_glyphs(path, "".join(glyph_text))
    notes: list[str] = []
    ocr_text: dict[int, str] = {}
    if empty and ocr is not None:
        for index in empty:
            page = pdf[index]
            try:
                ocr_text[index] = ocr(page)
            finally:
                page.close()
        notes.append(f"{len(empty)} page(s) without a text layer read by OCR")
    elif empty:
        if len(empty) == n_pages:
            raise CorpusError(
                f"{path.name} has no text layer (a scanned PDF?); install Tesseract "
                "(apt-get install tesseract-ocr tesseract-ocr-kor) and set RAG_OCR=auto, "
                "or add a PDF with text")
        notes.append(f"pages {_ranges(empty)} have no text layer and were left out; "
                     "install tesseract-ocr-kor to read them by OCR")
    _drop_running_lines(pages, labels)
    body = _body_size(pages)
    blocks: list[Block] = []
    last: _Line | None = None  # the last line of the previous page, where it was text
    for index, lines in enumerate(pages):
        if index in ocr_text:
            blocks.extend(Block(PARAGRAPH, para, index + 1)
                          for para in re.split(r"\n\s*\n", ocr_text[index]) if para.strip())
            last = None
            continue
        page_blocks = _paragraphs(lines, index + 1, body)
        if (page_blocks and blocks and last is not None and _continues(last, lines[0], blocks[-1],
                                                                      page_blocks[0], body)):
            # The page's first paragraph carries on the last one of the page before.
            first = page_blocks.pop(0)
            joint = _joint(last, blocks[-1].text, first.text)
            blocks[-1] = Block(PARAGRAPH, blocks[-1].text + joint + PAGE_BREAK + first.text,
                               blocks[-1].page)
        blocks.extend(page_blocks)
        last = lines[-1] if lines else None
    texts = resolve_wraps([b.text for b in blocks])
    blocks = [Block(b.kind, t, b.page, b.level) for b, t in zip(blocks, texts)]
    if not any(b.text.strip() for b in blocks):
        raise CorpusError(f"{path.name} holds no text; remove it from the corpus")
    return Extraction("pdf", tuple(blocks), n_pages, tuple(labels), _metadata_title(pdf),
                      tuple(notes))


def _page_lines(page) -> list[_Line]:
    """The page's glyphs grouped into lines in PDFium's reading order."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        handle = textpage.raw
        glyphs: list[_Glyph] = []
        spaces: list[_Glyph] = []
        for i in range(textpage.count_chars()):
            if raw.FPDFText_IsGenerated(handle, i) == 1:
                continue
            ch = glyph_char(raw.FPDFText_GetUnicode(handle, i))
            if ch in "\r\n":
                continue
            left, _bottom, right, _top = textpage.get_charbox(i, loose=True)
            size = raw.FPDFText_GetFontSize(handle, i) or 10.0
            glyph = _Glyph(ch, left, right if right > left else left,
                           _baseline(raw, handle, i), size)
            (spaces if ch.isspace() else glyphs).append(glyph)
    finally:
        textpage.close()
    lines = _group_lines(glyphs)
    _place_spaces(lines, spaces)
    right = max((line.x1 for line in lines), default=0.0)
    for line in lines:
        line.right = right
    return lines


def glyph_char(code: int) -> str:
    """The character PDFium reports for a glyph: U+0002 is its mark for a hyphen that
    ends a line; 0 is a glyph without a Unicode value."""
    return "-" if code == 2 else chr(code) if code else "\ufffd"


def _baseline(raw, handle, i: int) -> float:
    """The glyph's origin height on the page: glyphs of one line share it."""
    import ctypes

    x, y = ctypes.c_double(), ctypes.c_double()
    raw.FPDFText_GetCharOrigin(handle, i, ctypes.byref(x), ctypes.byref(y))
    return y.value


def _group_lines(glyphs: list[_Glyph]) -> list[_Line]:
    lines: list[_Line] = []
    current: list[_Glyph] = []
    base = size = 0.0
    for g in glyphs:
        if current:
            prev = current[-1]
            tolerance = 0.5 * max(size, g.size)
            if abs(g.y - base) > tolerance or g.x0 < prev.x0 - max(size, g.size):
                lines.append(_Line(current, base, size))
                current = []
        if not current:
            base, size = g.y, g.size
        elif g.size > size and abs(g.y - base) < 0.1 * g.size:
            size = g.size
        current.append(g)
    if current:
        lines.append(_Line(current, base, size))
    return _merge_interleaved(lines)


def _merge_interleaved(lines: list[_Line]) -> list[_Line]:
    """One line from runs PDFium lists apart though they share a baseline and overlap
    (a fallback font's glyphs, drawn after the main font's, interleave with them)."""
    merged: list[_Line] = []
    for line in lines:
        for other in merged[-3:]:
            if (abs(other.y - line.y) < 0.2 * max(other.size, line.size)
                    and line.x0 < other.x1 and other.x0 < line.x1):
                other.glyphs = sorted(other.glyphs + line.glyphs, key=lambda g: g.x0)
                other.size = max(other.size, line.size)
                break
        else:
            merged.append(line)
    return merged


def _place_spaces(lines: list[_Line], spaces: list[_Glyph]) -> None:
    """Mark the gaps where the file draws a space (it may draw them out of order)."""
    from bisect import bisect_left

    for s in spaces:
        for line in lines:
            if abs(s.y - line.y) > 0.3 * line.size or s.x1 < line.x0 - 1:
                continue
            if s.x0 >= line.x1 - 0.5:
                if s.x0 - line.x1 < line.size:
                    line.trailing_space = True
                continue
            starts = [g.x0 for g in line.glyphs]
            i = bisect_left(starts, (s.x0 + s.x1) / 2)
            if 0 < i < len(line.glyphs):
                line.spaces.add(i)
            break


def _check_glyphs(path: Path, text: str) -> None:
    chars = [c for c in text if not c.isspace()]
    if len(chars) < 50:
        return
    garbage = len(_GARBAGE.findall(text)) / len(chars)
    latin1 = len(_LATIN1.findall(text)) / len(chars)
    hangul = len(_HANGUL.findall(text)) / len(chars)
    if garbage > 0.1 or (latin1 > 0.2 and hangul < 0.05):
        raise CorpusError(
            f"{path.name}: its text layer does not decode to readable characters "
            f"({garbage:.0%} unmapped glyphs, {latin1:.0%} stray Latin-1 letters; its fonts "
            "lack a Unicode map); export it again with embedded fonts, or OCR it")


def _label(pdf, index: int) -> str:
    try:
        return pdf.get_page_label(index) or ""
    except pdfium_error():  # labels are optional metadata: a bad one is no label
        return ""


def _metadata_title(pdf) -> str:
    try:
        return (pdf.get_metadata_dict().get("Title") or "").strip()
    except pdfium_error():  # metadata is optional
        return ""


def _drop_running_lines(pages: list[list[_Line]], labels: list[str]) -> None:
    """Remove running headers, footers and page numbers, keeping a printed number as the
    page's label where the file gives none."""
    if not pages:
        return

    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text()).strip()

    edges = Counter()
    for lines in pages:
        for line in {id(x): x for x in (lines[:1] + lines[-1:])}.values():
            edges[key(line)] += 1
    repeated = {k for k, n in edges.items() if len(pages) >= 3 and n >= max(3, len(pages) // 2)}
    for index, lines in enumerate(pages):
        for line in [x for x in (lines[:2] + lines[-2:]) if x in lines]:
            text = line.text().strip()
            if _PAGE_NUMBER.match(text):
                if not labels[index]:
                    labels[index] = re.sub(r"[^\divxlcdmIVXLCDM]", "", text.split("/")[0])
                lines.remove(line)
            elif key(line) in repeated and len(text) < 120:
                lines.remove(line)


def _body_size(pages: list[list[_Line]]) -> float:
    sizes = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size, 1)] += len(line.glyphs)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _paragraphs(lines: list[_Line], page: int, body: float) -> list[Block]:
    """Join a page's lines into paragraphs, headings (larger type) and table rows."""
    right = lines[0].right if lines else 0.0
    blocks: list[Block] = []
    text = ""
    kind = PARAGRAPH
    prev: _Line | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        line_text = line.text()
        if "\t" in line_text:
            if text:
                blocks.append(_block(kind, text, page, body, prev))
                text = ""
            end = _table_end(lines, i - 1, body)
            blocks.extend(Block(ROW, row, page) for row in _table_rows(lines[i - 1:end]))
            i, prev, kind = end, lines[end - 1], ROW
            continue
        is_row = False
        is_heading = line.size >= body * 1.15
        new = (prev is None or is_row or kind == ROW or kind == HEADING != is_heading
               or (is_heading and kind != HEADING)
               or abs(line.size - prev.size) > 0.1 * body
               or (prev.y - line.y) > PARAGRAPH_PITCH * max(line.size, prev.size)
               or _ends_paragraph(prev, line, right)
               or _BULLET.match(line_text) is not None)
        if new:
            if text:
                blocks.append(_block(kind, text, page, body, prev))
            text = line_text
            kind = ROW if is_row else HEADING if is_heading else PARAGRAPH
        else:
            text += _joint(prev, text, line_text) + line_text
        prev = line
    if text:
        blocks.append(_block(kind, text, page, body, prev))
    return blocks


def _table_end(lines: list[_Line], start: int, body: float) -> int:
    """Where the table whose first row is lines[start] ends: at a line back at the
    table's left edge without column gaps, or at larger type."""
    left = lines[start].x0
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.size >= body * 1.15 or (
                abs(line.x0 - left) < line.size and "\t" not in line.text()):
            break
        end += 1
    return end


def _fragments(line: _Line, columns: tuple[float, ...] = ()) -> list[_Line]:
    """A line cut at its column gaps (and where it crosses a known column's start), one
    piece per table cell."""
    pieces: list[_Line] = []
    start = 0
    glyphs = line.glyphs

    def crosses(prev: _Glyph, g: _Glyph) -> bool:
        return any(prev.x1 <= x + 1 and g.x0 >= x - 1 for x in columns)

    for i in range(1, len(glyphs) + 1):
        if i == len(glyphs) or (glyphs[i].x0 - glyphs[i - 1].x1) > CELL_GAP * line.size or (
                crosses(glyphs[i - 1], glyphs[i])):
            spaces = {k - start for k in line.spaces if start < k < i}
            pieces.append(_Line(glyphs[start:i], line.y, line.size, spaces))
            start = i
    return pieces


def _table_rows(lines: list[_Line]) -> list[str]:
    """A table's rows from its lines: a row starts with a line at the table's left edge;
    every other piece of text belongs to the row above it and to the column it starts
    in, so cells that wrap over several lines read as one cell."""
    left = lines[0].x0
    starts = sorted({round(f.x0) for line in lines if abs(line.x0 - left) < line.size
                     for f in _fragments(line)})
    columns: list[float] = []
    for x in starts:
        if not columns or x - columns[-1] > lines[0].size:
            columns.append(x)
    row_tops = sorted((line.y for line in lines if abs(line.x0 - left) < line.size),
                      reverse=True)
    cells: dict[tuple[int, int], list[_Line]] = {}
    for line in lines:
        for piece in _fragments(line, tuple(columns[1:])):
            row = max([r for r, top in enumerate(row_tops)
                       if top >= piece.y - 0.3 * piece.size] or [0])
            column = max([c for c, x in enumerate(columns) if x <= piece.x0 + line.size]
                         or [0])
            cells.setdefault((row, column), []).append(piece)
    rows = []
    for r in range(len(row_tops)):
        texts = []
        for c in range(len(columns)):
            pieces = sorted(cells.get((r, c), []), key=lambda p: (-p.y, p.x0))
            text = ""
            for k, piece in enumerate(pieces):
                piece_text = piece.text()
                text = piece_text if k == 0 else text + _joint(pieces[k - 1], text,
                                                               piece_text) + piece_text
            texts.append(text)
        if any(texts):
            rows.append("\t".join(texts))
    return rows


def _continues(last: _Line, first: _Line, before: Block, after: Block, body: float) -> bool:
    """Whether a page's first paragraph continues the previous page's last one: both body
    text of one size, the last line filling its width (the layout wrapped there)."""
    return (before.kind == PARAGRAPH and after.kind == PARAGRAPH
            and abs(last.size - first.size) <= 0.1 * body
            and _BULLET.match(after.text) is None
            and not re.search(r"[.!?。:]\d*\)?$", before.text)
            and last.right - last.x1 < 2 * last.size)


def _ends_paragraph(prev: _Line, line: _Line, right: float) -> bool:
    """Whether `prev` ends its paragraph short: the next line's first word would have fit
    in the room left on it, so the layout did not wrap there."""
    glyphs = line.glyphs
    end = next((i for i in range(1, len(glyphs))
                if i in line.spaces or glyphs[i].x0 - glyphs[i - 1].x1 > WORD_GAP * line.size),
               len(glyphs))
    first_word = glyphs[end - 1].x1 - glyphs[0].x0
    return right - prev.x1 > first_word + 0.5 * line.size


def _block(kind: str, text: str, page: int, body: float, line: _Line | None) -> Block:
    if kind != HEADING or line is None:
        return Block(kind, text, page)
    # Larger type, higher level: twice the body size or more is a title or chapter.
    level = 1 if line.size >= body * 1.6 else 2 if line.size >= body * 1.3 else 3
    return Block(HEADING, text, page, level)


def _joint(prev: _Line, text: str, nxt: str) -> str:
    """What joins a wrapped line to the next: a space where the file has one or where
    Latin words meet; nothing inside a Korean word the wrap cut."""
    if prev.trailing_space:
        return " "
    if text.endswith("-") and text[-2:-1].isalnum() and nxt[:1].isalnum():
        return ""  # a compound split at its hyphen ("Long-/Range")
    if _LATIN_END.search(text) and re.match(r"[A-Za-z0-9(\"“‘']", nxt):
        return " "
    if _HANGUL.search(text[-1:]) or _HANGUL.match(nxt):
        return WRAP
    return " " if not text.endswith(("(", "[", "“", "‘")) else ""


def _ranges(indices: list[int]) -> str:
    pages = [i + 1 for i in indices]
    out: list[str] = []
    start = prev = pages[0]
    for p in [*pages[1:], None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if p is not None:
            start = prev = p
    return ", ".join(out)


def pdfium_error() -> type[Exception]:
    import pypdfium2 as pdfium

    return pdfium.PdfiumError
