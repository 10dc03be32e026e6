"""HWPX reports (Hancom's zip + XML format): paragraphs, outline headings, tables as
rows, footnotes and endnotes, and pages.

The XML is read directly rather than through a library: it gives the paragraphs'
outline levels (styles "개요 1…" or an outline heading in the paragraph's shape), each
table cell as a cell, and the page layout Hancom saved with the file — each line's
vertical position on its page (`hp:lineseg vertpos`) restarts at the top of a page, so
a paragraph whose first line sits above the previous one's last line begins a page.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from ..errors import CorpusError
from .layout import NOTE, ROW, Block, Extraction, styled_block, table_row

_HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
_HH = "{http://www.hancom.co.kr/hwpml/2011/head}"
# Decompressed size a report's XML may take; a larger member is a zip bomb, not a report.
MAX_MEMBER_BYTES = 200 * 1024 * 1024
_OUTLINE_STYLE = re.compile(r"^(?:개요|Outline|Heading|제목)\s*(\d)$", re.IGNORECASE)


def read_hwpx(path: Path) -> Extraction:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorpusError(f"{path.name} is not a readable HWPX file (a damaged zip: {exc}); "
                          "open and save it again in Hancom Office") from exc
    with archive:
        names = archive.namelist()
        manifest = _member(archive, "META-INF/manifest.xml", path) if (
            "META-INF/manifest.xml" in names) else b""
        if b"encryption-data" in manifest:
            raise CorpusError(f"{path.name} is password-protected; save an unprotected copy "
                              "in Hancom Office and add that")
        sections = sorted((n for n in names if re.match(r"Contents/section\d+\.xml$", n)),
                          key=lambda n: int(re.findall(r"\d+", n)[-1]))
        if not sections:
            raise CorpusError(f"{path.name} holds no HWPX body (Contents/section*.xml); "
                              "is it an HWPX file?")
        levels = _outline_levels(_member(archive, "Contents/header.xml", path)
                                 if "Contents/header.xml" in names else b"")
        reader = _SectionReader(levels)
        for name in sections:
            try:
                root = ElementTree.fromstring(_member(archive, name, path))
            except ElementTree.ParseError as exc:
                raise CorpusError(f"{path.name}: {name} is not well-formed XML ({exc}); "
                                  "the file is damaged") from exc
            reader.read_section(root)
    if not any(b.text.strip() for b in reader.blocks):
        raise CorpusError(f"{path.name} holds no text; remove it from the corpus")
    return Extraction("hwpx", tuple(reader.blocks), reader.page)


def _member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise CorpusError(f"{path.name}: {name} unpacks to {info.file_size:,} bytes, more "
                          "than a report holds; the file is refused")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorpusError(f"{path.name}: {name} cannot be unpacked ({exc}); the file is "
                          "damaged") from exc


def _outline_levels(header: bytes) -> dict[tuple[str, str], int]:
    """Heading level by ("style", id) and ("para", paraPr id) from the header part."""
    levels: dict[tuple[str, str], int] = {}
    if not header:
        return levels
    root = ElementTree.fromstring(header)
    for style in root.iter(f"{_HH}style"):
        for name in (style.get("name", ""), style.get("engName", "")):
            m = _OUTLINE_STYLE.match(name.strip())
            if m:
                levels[("style", style.get("id", ""))] = int(m.group(1))
                break
    for para in root.iter(f"{_HH}paraPr"):
        heading = para.find(f"{_HH}heading")
        if heading is not None and heading.get("type") == "OUTLINE":
            levels[("para", para.get("id", ""))] = int(heading.get("level", "0")) + 1
    return levels


class _SectionReader:
    """Walks section XML in document order, tracking the page."""

    def __init__(self, levels: dict[tuple[str, str], int]) -> None:
        self.levels = levels
        self.blocks: list[Block] = []
        self.page = 0
        self._last_vertpos = -1

    def read_section(self, root: ElementTree.Element) -> None:
        # Every section starts on a new page.
        self.page += 1
        self._last_vertpos = -1
        for p in root.findall(f"{_HP}p"):
            self._top_paragraph(p)

    def _top_paragraph(self, p: ElementTree.Element) -> None:
        segments = p.findall(f"{_HP}linesegarray/{_HP}lineseg")
        first = int(segments[0].get("vertpos", "0")) if segments else None
        if (p.get("pageBreak") == "1" and self.blocks) or (
                first is not None and 0 <= first < self._last_vertpos):
            self.page += 1
        if segments:
            self._last_vertpos = int(segments[-1].get("vertpos", "0"))
        text, tables, notes = self._content(p)
        level = self.levels.get(("style", p.get("styleIDRef", ""))) or self.levels.get(
            ("para", p.get("paraPrIDRef", "")))
        if text.strip():
            self.blocks.append(styled_block(text, level or 0, self.page))
        for rows in tables:
            self.blocks.extend(Block(ROW, row, self.page) for row in rows)
        self.blocks.extend(Block(NOTE, note, self.page) for note in notes)

    def _content(self, p: ElementTree.Element) -> tuple[str, list[list[str]], list[str]]:
        """A paragraph's text, the rows of the tables it anchors, and its notes."""
        parts: list[str] = []
        tables: list[list[str]] = []
        notes: list[str] = []
        for run in p.findall(f"{_HP}run"):
            for child in run:
                tag = child.tag
                if tag == f"{_HP}t":
                    parts.append(_run_text(child))
                elif tag == f"{_HP}tbl":
                    tables.append(self._table(child))
                elif tag == f"{_HP}ctrl":
                    for note in list(child.iter(f"{_HP}footNote")) + list(
                            child.iter(f"{_HP}endNote")):
                        mark = note.get("number") or str(len(notes) + 1)
                        body = " ".join(_plain(q) for q in note.iter(f"{_HP}p")).strip()
                        # The note's own text often opens with its number; no double mark.
                        body = re.sub(rf"^{re.escape(mark)}\)\s*", "", body)
                        parts.append(f"{mark})")
                        notes.append(f"{mark}) {body}")
        return "".join(parts), tables, notes

    def _table(self, tbl: ElementTree.Element) -> list[str]:
        rows = []
        for tr in tbl.findall(f"{_HP}tr"):
            cells = [" ".join(_plain(q) for q in tc.iter(f"{_HP}p")).strip()
                     for tc in tr.findall(f"{_HP}tc")]
            if any(cells):
                rows.append(table_row(cells))
        return rows


def _run_text(t: ElementTree.Element) -> str:
    """An hp:t's text with its inline tab and line-break marks as spaces."""
    out = [t.text or ""]
    for child in t:
        if child.tag in (f"{_HP}tab", f"{_HP}lineBreak", f"{_HP}nbSpace", f"{_HP}fwSpace"):
            out.append(" ")
        out.append(child.tail or "")
    return "".join(out)


def _plain(p: ElementTree.Element) -> str:
    """The text of a paragraph inside a cell or note (nested structures flattened)."""
    return "".join(_run_text(t) for t in p.iter(f"{_HP}t"))
