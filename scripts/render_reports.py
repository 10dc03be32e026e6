"""Render the corpus's text reports as DOCX, HWPX and PDF, the files analysts receive.

    .venv/bin/python scripts/render_reports.py [--corpus corpus] [--out tests/fixtures/reports]

Each line of a report becomes a paragraph; a line the chunker reads as a chapter or
section heading becomes a styled heading (a chapter starts a new page), and runs of
tab-separated lines become real tables. DOCX is written by python-docx, HWPX by
python-hwpx, and the PDF by LibreOffice from the DOCX (apt-get install
libreoffice-writer-nogui fonts-nanum), so the PDF has the character placement a real
export has. The outputs are committed; this script regenerates them.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.chunking import CHAPTER, SECTION, heading_level  # noqa: E402
from rag.ingest import read_document  # noqa: E402

log = logging.getLogger("render_reports")
FONT = "NanumGothic"


def blocks(text: str) -> list[tuple[str, object]]:
    """("heading", (level, text)) / ("para", text) / ("table", rows) in order."""
    out: list[tuple[str, object]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if "\t" in line:
            cells = [c.strip() for c in line.split("\t")]
            if out and out[-1][0] == "table":
                out[-1][1].append(cells)
            else:
                out.append(("table", [cells]))
            continue
        level = heading_level(stripped)
        if level is not None and level <= SECTION + 2:
            out.append(("heading", (1 if level <= CHAPTER else 2, stripped)))
        else:
            out.append(("para", stripped))
    return out


def write_docx(parts: list[tuple[str, object]], path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    for name in ("Normal", "Heading 1", "Heading 2"):
        style = document.styles[name]
        style.font.name = FONT
        style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    first_chapter = True
    for kind, value in parts:
        if kind == "heading":
            level, text = value
            paragraph = document.add_heading(text, level=level)
            if level == 1 and not first_chapter:
                paragraph.paragraph_format.page_break_before = True
            first_chapter = first_chapter and level != 1
        elif kind == "para":
            document.add_paragraph(value)
        else:
            width = max(len(r) for r in value)
            table = document.add_table(rows=len(value), cols=width)
            table.style = "Table Grid"
            for i, row in enumerate(value):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
    document.save(str(path))


def write_hwpx(parts: list[tuple[str, object]], path: Path) -> None:
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    first_chapter = True
    for kind, value in parts:
        if kind == "heading":
            level, text = value
            extra = {"pageBreak": "1"} if level == 1 and not first_chapter else {}
            document.add_heading(text, level=level, **extra)
            first_chapter = first_chapter and level != 1
        elif kind == "para":
            # Body style (바탕글), not the style of the heading before it.
            document.add_paragraph(value, style_id_ref=0, para_pr_id_ref=0,
                                   inherit_style=False)
        else:
            width = max(len(r) for r in value)
            table = document.add_table(len(value), width)
            for i, row in enumerate(value):
                for j, cell in enumerate(row):
                    table.set_cell_text(i, j, cell)
    document.save_to_path(str(path))


def write_pdf(docx_path: Path, out_dir: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("LibreOffice is needed for the PDF: apt-get install "
                         "libreoffice-writer-nogui fonts-nanum")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(out_dir), str(docx_path)],
                       check=True, capture_output=True, timeout=300)
    return out_dir / (docx_path.stem + ".pdf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "reports")
    parser.add_argument("--formats", default="docx,hwpx,pdf")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    formats = set(args.formats.split(","))
    for fmt in formats:
        (args.out / fmt).mkdir(parents=True, exist_ok=True)
    for source in sorted(args.corpus.glob("*.txt")):
        parts = blocks(read_document(source).text)
        docx_path = args.out / "docx" / f"{source.stem}.docx"
        if formats & {"docx", "pdf"}:
            write_docx(parts, docx_path)
        if "hwpx" in formats:
            write_hwpx(parts, args.out / "hwpx" / f"{source.stem}.hwpx")
        if "pdf" in formats:
            write_pdf(docx_path, args.out / "pdf")
        log.info("rendered %s", source.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
