"""DOCX reports: paragraphs with headings by style or outline level, tables as rows,
footnotes, and the pages Word saved (explicit and last-rendered page breaks)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import CorpusError
from .layout import NOTE, ROW, Block, Extraction, styled_block, table_row

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:Heading|제목)\s*(\d)$", re.IGNORECASE)


def read_docx(path: Path) -> Extraction:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorpusError(f"{path.name} is not a readable DOCX file ({exc}); open and save "
                          "it again in Word or LibreOffice") from exc
    notes = _footnotes(document)
    styles = {s.style_id: s.name for s in document.styles if s.style_id}
    reader = _BodyReader(styles, notes)
    for element in document.element.body.iterchildren():
        if element.tag == f"{_W}p":
            reader.paragraph(element)
        elif element.tag == f"{_W}tbl":
            reader.table(element)
    if not any(b.text.strip() for b in reader.blocks):
        raise CorpusError(f"{path.name} holds no text; remove it from the corpus")
    title = (document.core_properties.title or "").strip()
    # A file that never recorded a page break has no page map worth citing.
    return Extraction("docx", tuple(reader.blocks), reader.page if reader.paged else 0,
                      title=title)


def _footnotes(document) -> dict[str, str]:
    """Footnote id → its text, from the package's footnotes part if it has one."""
    for rel in document.part.rels.values():
        if rel.reltype.endswith("/footnotes"):
            from lxml import etree

            root = etree.fromstring(rel.target_part.blob)
            return {note.get(f"{_W}id"): "".join(t.text or "" for t in note.iter(f"{_W}t"))
                    for note in root.iter(f"{_W}footnote")}
    return {}


class _BodyReader:
    def __init__(self, styles: dict[str, str], notes: dict[str, str]) -> None:
        self.styles = styles
        self.notes = notes
        self.blocks: list[Block] = []
        self.page = 1
        self.paged = False
        self._numbers: dict[str, int] = {}

    def paragraph(self, p) -> None:
        ppr = p.find(f"{_W}pPr")
        if ppr is not None and ppr.find(f"{_W}pageBreakBefore") is not None and self.blocks:
            self._break()
        parts: list[str] = []
        pending: list[str] = []
        for node in p.iter():
            tag = node.tag
            if tag == f"{_W}t":
                parts.append(node.text or "")
            elif tag == f"{_W}tab":
                parts.append(" ")
            elif tag in (f"{_W}br", f"{_W}lastRenderedPageBreak"):
                if tag == f"{_W}lastRenderedPageBreak" or node.get(f"{_W}type") == "page":
                    self._flush(parts, ppr)
                    parts = []
                    if self.blocks:
                        self._break()
                else:
                    parts.append(" ")
            elif tag == f"{_W}footnoteReference":
                number = self._numbers.setdefault(node.get(f"{_W}id"), len(self._numbers) + 1)
                parts.append(f"{number})")
                pending.append(f"{number}) {self.notes.get(node.get(f'{_W}id'), '').strip()}")
        self._flush(parts, ppr)
        self.blocks.extend(Block(NOTE, note, self.page) for note in pending)

    def table(self, tbl) -> None:
        for tr in tbl.iter(f"{_W}tr"):
            cells = ["".join(t.text or "" for t in tc.iter(f"{_W}t"))
                     for tc in tr.findall(f"{_W}tc")]
            if any(c.strip() for c in cells):
                self.blocks.append(Block(ROW, table_row(cells), self.page))

    def _break(self) -> None:
        self.page += 1
        self.paged = True

    def _flush(self, parts: list[str], ppr) -> None:
        text = "".join(parts)
        if not text.strip():
            return
        self.blocks.append(styled_block(text, self._level(ppr), self.page))

    def _level(self, ppr) -> int:
        if ppr is None:
            return 0
        style = ppr.find(f"{_W}pStyle")
        name = self.styles.get(style.get(f"{_W}val"), "") if style is not None else ""
        if name.lower() == "title":
            return 1
        m = _HEADING_STYLE.match(name.strip())
        if m:
            return int(m.group(1))
        outline = ppr.find(f"{_W}outlineLvl")
        if outline is not None and outline.get(f"{_W}val", "9").isdigit():
            value = int(outline.get(f"{_W}val"))
            return value + 1 if value < 9 else 0
        return 0
