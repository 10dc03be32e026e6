"""HTML reports (saved web pages, web-published briefs): the main text without
navigation, menus or footers, by trafilatura, with headings and tables kept."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CorpusError
from .layout import HEADING, PARAGRAPH, ROW, Block, Extraction, table_row
from .plain import decode_bytes


def read_html(path: Path, raw: bytes) -> Extraction:
    import trafilatura
    from lxml import etree

    html, _ = decode_bytes(raw, path.name) if not raw.lstrip().startswith(b"<?xml") else (
        raw.decode("utf-8", "replace"), "utf-8")
    xml = trafilatura.extract(html, output_format="xml", include_tables=True,
                              include_comments=False, include_formatting=False,
                              favor_recall=True, with_metadata=True)
    if not xml:
        raise CorpusError(f"{path.name}: no article text found in the page; save the page "
                          "as text (.txt) and add that")
    root = etree.fromstring(xml.encode("utf-8"))
    blocks: list[Block] = []
    main = root.find("main")
    for node in (main if main is not None else root).iter("head", "p", "row", "item", "quote"):
        if node.tag == "row":
            cells = ["".join(c.itertext()) for c in node.findall("cell")]
            if any(c.strip() for c in cells):
                blocks.append(Block(ROW, table_row(cells)))
            continue
        if node.getparent() is not None and node.getparent().tag == "cell":
            continue
        text = "".join(node.itertext())
        if node.tag == "head":
            level = int(re.sub(r"\D", "", node.get("rend", "h2")) or 2)
            blocks.append(Block(HEADING, text, 0, level))
        else:
            blocks.append(Block(PARAGRAPH, text))
    if not any(b.text.strip() for b in blocks):
        raise CorpusError(f"{path.name}: no article text found in the page")
    return Extraction("html", tuple(blocks), title=(root.get("title") or "").strip())
