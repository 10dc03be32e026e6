"""HWP 5.0 reports (Hancom's OLE binary format), read with hwp-hwpx-parser.

The binary format is read by a library (pure Python, Apache-2.0): paragraphs, tables
(rows with tab-separated cells) and notes. HWP 5.0 keeps no page map a reader can use
without laying the document out, so citations into an HWP file carry no page; save
the report as HWPX or PDF for page numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CorpusError
from .layout import NOTE, PARAGRAPH, ROW, Block, Extraction


def read_hwp(path: Path) -> Extraction:
    # Imported here: a corpus without HWP files never loads the library.
    from hwp_hwpx_parser import ExtractOptions, HWP5Reader, ImageMarkerStyle, TableStyle

    try:
        reader = HWP5Reader(str(path))
    except Exception as exc:  # the library raises bare errors on bad files
        raise CorpusError(f"{path.name} is not a readable HWP file ({exc}); open and save "
                          "it again in Hancom Office") from exc
    try:
        if not reader.is_valid():
            raise CorpusError(f"{path.name} is not an HWP 5.0 document (no FileHeader); "
                              "open and save it again in Hancom Office")
        if reader.is_encrypted():
            raise CorpusError(f"{path.name} is password-protected; save an unprotected copy "
                              "in Hancom Office and add that")
        options = ExtractOptions(table_style=TableStyle.CSV, table_delimiter="\t",
                                 image_marker=ImageMarkerStyle.NONE,
                                 paragraph_separator="\n", line_separator="\n")
        try:
            result = reader.extract_text_with_notes(options)
        except Exception as exc:  # as above
            raise CorpusError(f"{path.name}: its HWP body cannot be read ({exc}); the file "
                              "is damaged or of an unsupported version") from exc
    finally:
        reader.close()
    blocks = [Block(ROW if "\t" in line else PARAGRAPH, line)
              for line in (result.text or "").split("\n") if line.strip()]
    for i, note in enumerate(list(result.footnotes or []) + list(result.endnotes or []), 1):
        body = getattr(note, "text", str(note)).strip()
        number = str(getattr(note, "number", "") or i)
        body = re.sub(rf"^{re.escape(number)}\)\s*", "", body)
        blocks.append(Block(NOTE, f"{number}) {body}"))
    if not any(b.text.strip() for b in blocks):
        raise CorpusError(f"{path.name} holds no text; remove it from the corpus")
    return Extraction("hwp", tuple(blocks))
