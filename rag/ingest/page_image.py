"""A PDF page as a picture with the cited sentence highlighted: what an analyst checks
against the printed report.

The sentence is found on the page by its characters, spaces ignored (the stored text
rebuilt the words; PDFium's text of the page has its own spacing), and each line it
covers is marked with the union of its glyphs' boxes.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..errors import CorpusError
from .pdf import glyph_char

# Pixels per PDF point: a sharp page at the width of the sources panel.
SCALE = 1.25
_HIGHLIGHT = (255, 214, 0, 90)


def page_jpeg(source: Path, page: int, quote: str = "", scale: float = SCALE) -> bytes:
    """Page `page` (1-based) of the PDF at `source` as JPEG, `quote` highlighted where
    it is found on the page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw
    from PIL import Image, ImageDraw

    try:
        pdf = pdfium.PdfDocument(str(source))
    except (pdfium.PdfiumError, OSError) as exc:
        raise CorpusError(f"cannot open {source} to show its page ({exc}); was it moved "
                          "since it was indexed? Run: rag index") from exc
    try:
        if not 1 <= page <= len(pdf):
            raise CorpusError(f"{Path(source).name} has no page {page}; the index is older "
                              "than the file: run rag index")
        pdf_page = pdf[page - 1]
        height = pdf_page.get_height()
        image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
        boxes = _quote_boxes(pdf_page, raw, quote) if quote else []
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for left, bottom, right, top in boxes:
            draw.rectangle([left * scale - 1, (height - top) * scale - 1,
                            right * scale + 1, (height - bottom) * scale + 1], fill=_HIGHLIGHT)
        out = io.BytesIO()
        Image.alpha_composite(image, overlay).convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()
    finally:
        pdf.close()


def _quote_boxes(pdf_page, raw, quote: str) -> list[tuple[float, float, float, float]]:
    """One box per line of the page that the quote covers; [] where it is not found."""
    textpage = pdf_page.get_textpage()
    try:
        chars: list[str] = []
        index: list[int] = []
        for i in range(textpage.count_chars()):
            ch = glyph_char(raw.FPDFText_GetUnicode(textpage.raw, i))
            if not ch.isspace():
                chars.append(ch)
                index.append(i)
        page_text = "".join(chars)
        needle = re.sub(r"\s+", "", quote)
        at = page_text.find(needle)
        if at < 0:
            # A quote running onto the next page: its part on this page, from its start.
            needle = needle[:40]
            at = page_text.find(needle)
        if at < 0:
            return []
        lines: list[list[float]] = []
        for k in range(at, at + len(needle)):
            left, bottom, right, top = textpage.get_charbox(index[k], loose=True)
            if lines and abs(lines[-1][1] - bottom) < 0.5 * (top - bottom) and left >= lines[-1][0]:
                line = lines[-1]
                line[2], line[3] = max(line[2], right), max(line[3], top)
                line[1] = min(line[1], bottom)
            else:
                lines.append([left, bottom, right, top])
        return [tuple(line) for line in lines]
    finally:
        textpage.close()
