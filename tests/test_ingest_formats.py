"""Reading real report files: HWP/HWPX samples made by Hancom Office, the two reports
rendered as PDF (LibreOffice), DOCX and HWPX, and every kind of broken file."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from sample_files import broken_files, scanned_pdf

from rag.chunking import chunk_document, split_sentences
from rag.errors import CorpusError
from rag.ingest import read_corpus, read_document, sniff
from rag.ingest.ocr import page_reader, tesseract_languages

FIXTURES = Path(__file__).parent / "fixtures"
REPORTS = FIXTURES / "reports"
ROOT = Path(__file__).resolve().parents[1]
STEMS = ("kistep-global-ai-china-2025", "klid-china-ai-policy-2025")


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- Hancom's own files ---------------------------------------------------------------

def _hancom_preview(path: Path) -> list[str]:
    """The text Hancom Office itself saved as the file's preview (PrvText), by line."""
    if path.suffix == ".hwpx":
        with zipfile.ZipFile(path) as archive:
            text = archive.read("Preview/PrvText.txt").decode("utf-8")
    else:
        import olefile

        with olefile.OleFileIO(str(path)) as ole:
            text = ole.openstream("PrvText").read().decode("utf-16-le")
    return [line.strip("<> \r") for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["sample_document.hwp", "sample_document.hwpx"])
def test_hancom_samples_read_as_hancom_shows_them(name):
    doc = read_document(FIXTURES / "hwp" / name)
    lines = [line for line in doc.text.split("\n") if line.strip()]
    assert lines == _hancom_preview(FIXTURES / "hwp" / name)
    assert doc.format == name.rsplit(".", 1)[1]


def test_hwpx_table_cells_and_page():
    doc = read_document(FIXTURES / "hwp" / "sample_document.hwpx")
    # The chorus is a one-cell table: its own line, on the one page the file has.
    assert "무궁화 삼천리 화려 강산 대한 사람 대한으로 길이 보전하세\n" in doc.text
    assert doc.pages == (0,) and doc.page_at(len(doc.text) - 2) == 1


def test_english_hwp_sample_keeps_its_paragraphs():
    doc = read_document(FIXTURES / "hwp" / "example.hwp")
    assert doc.text.startswith("HWP test file\n")
    assert "John Doe" in doc.text and "License: Attribution-ShareAlike 3.0 Unported" in doc.text
    assert not doc.pages  # HWP 5.0 keeps no page map without a layout


def test_hwpx_written_with_outline_headings_tables_and_footnotes(tmp_path):
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    document.add_heading("재정 건전성 점검", level=1)
    paragraph = document.add_paragraph("국가채무 비율은 2024년 47.4%로 집계되었다.")
    document.notes.add_footnote("기획재정부(2025), 국가재정운용계획", paragraph=paragraph)
    table = document.add_table(2, 2)
    for i, row in enumerate([["연도", "비율"], ["2024", "47.4%"]]):
        for j, cell in enumerate(row):
            table.set_cell_text(i, j, cell)
    document.add_heading("지방 재정", level=1, pageBreak="1")
    document.add_paragraph("지방채 발행은 전년보다 줄었다.")
    path = tmp_path / "fiscal.hwpx"
    document.save_to_path(str(path))
    doc = read_document(path)
    assert "국가채무 비율은 2024년 47.4%로 집계되었다.1)" in doc.text
    assert "1) 기획재정부(2025), 국가재정운용계획" in doc.text
    assert "연도\t비율\n2024\t47.4%" in doc.text
    chunks = chunk_document(doc, 200, 40)
    by_text = {c.section for c in chunks if "지방채" in c.text}
    assert by_text == {"지방 재정"}
    assert doc.page_at(doc.text.index("지방채")) == 2
    assert doc.page_at(doc.text.index("국가채무")) == 1


# --- the reports rendered as the files analysts receive ---------------------------------

@pytest.mark.parametrize("fmt", ["pdf", "docx", "hwpx"])
@pytest.mark.parametrize("stem", STEMS)
def test_renderings_reproduce_the_text_version(fmt, stem):
    reference = read_document(ROOT / "corpus" / f"{stem}.txt")
    doc = read_document(REPORTS / fmt / f"{stem}.{fmt}")
    sentences = [s.text for s in split_sentences(reference)
                 if len(s.text) >= 20 and "\t" not in s.text]
    verbatim = sum(s in doc.text for s in sentences) / len(sentences)
    squeezed = _squeeze(doc.text)
    spaced = sum(_squeeze(s) in squeezed for s in sentences) / len(sentences)
    # PDF: words rebuilt from glyph boxes; the rest carry the text as it was written.
    assert verbatim >= (0.9 if fmt == "pdf" else 1.0)
    assert spaced >= (0.97 if fmt == "pdf" else 1.0)
    assert doc.doc_id == stem and doc.format == fmt
    assert doc.title == reference.title


@pytest.mark.parametrize("stem", STEMS)
def test_pdf_page_map_matches_each_page(stem):
    """Every page's stored text is on that page of the PDF (compared without spaces)."""
    import pypdfium2 as pdfium

    path = REPORTS / "pdf" / f"{stem}.pdf"
    doc = read_document(path)
    pdf = pdfium.PdfDocument(str(path))
    try:
        assert len(doc.pages) == len(pdf)
        for n in range(len(pdf)):
            start = doc.pages[n]
            end = doc.pages[n + 1] if n + 1 < len(pdf) else len(doc.text)
            # Reading order is rebuilt, so the page's characters are compared as a
            # multiset: none of the stored page's text comes from another page.
            printed = Counter(_squeeze(pdf[n].get_textpage().get_text_bounded()))
            stored = Counter(_squeeze(doc.text[start:end]).replace("-", ""))
            assert not stored - printed, (n + 1, stored - printed)
            assert sum(stored.values()) >= 0.95 * sum(printed.values()) - 40, n + 1
    finally:
        pdf.close()


def test_pdf_tables_come_out_as_rows():
    doc = read_document(REPORTS / "pdf" / "kistep-global-ai-china-2025.pdf")
    rows = [line for line in doc.text.split("\n") if "\t" in line]
    assert "구분\t시기\t정책명" in rows
    assert "인재양성\t2020.7.\t쌍인류 대학 학제 융합 및 AI 대학원 과정 육성 강화 방안" in rows


@pytest.mark.parametrize("fmt", ["docx", "hwpx", "pdf"])
def test_styled_headings_become_section_paths(fmt):
    doc = read_document(REPORTS / fmt / f"klid-china-ai-policy-2025.{fmt}")
    sections = {c.section for c in chunk_document(doc, 200, 40)}
    assert any(s.startswith("Ⅰ. 글로벌 및 중국의 AI 산업 동향") for s in sections)


def test_html_reads_the_article_without_navigation(tmp_path):
    page = tmp_path / "brief.html"
    nav = "".join(f'<li><a href="/m{i}">메뉴 항목 {i}</a></li>' for i in range(12))
    body = "".join(f"<p>해상 풍력 발전 단지의 설비 용량은 {i}차 계획에서 꾸준히 늘어났으며 "
                   f"지역 주민 수용성 확보가 과제로 남아 있다.</p>" for i in range(1, 6))
    page.write_text(
        f"<!doctype html><html><head><title>해상 풍력 브리프</title></head><body>"
        f"<nav><ul>{nav}</ul></nav><main><article><h1>해상 풍력 동향</h1>{body}"
        f"<table><tr><td>연도</td><td>용량</td></tr><tr><td>2024</td><td>1.2GW</td></tr>"
        f"</table></article></main><footer>저작권 © 2025 어느 연구원. 무단 전재 금지</footer>"
        f"</body></html>", encoding="utf-8")
    doc = read_document(page)
    assert doc.format == "html"
    assert "1차 계획에서 꾸준히 늘어났으며" in doc.text and "메뉴 항목" not in doc.text
    assert "2024\t1.2GW" in doc.text
    assert {c.section for c in chunk_document(doc, 200, 40)} >= {"해상 풍력 동향"}


# --- broken and unusable files ----------------------------------------------------------

def test_every_broken_kind_is_skipped_with_one_clear_line(tmp_path):
    expected = broken_files(tmp_path)
    (tmp_path / "good.docx").write_bytes(
        (REPORTS / "docx" / "klid-china-ai-policy-2025.docx").read_bytes())
    reading = read_corpus(tmp_path)
    assert [d.doc_id for d in reading.documents] == ["good"]
    reasons = {Path(s.path).name: s.reason for s in reading.skipped}
    assert set(reasons) == set(expected)
    for name, fragment in expected.items():
        assert fragment in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name] and "Traceback" not in reasons[name]


def test_unchanged_files_are_not_parsed_again(tmp_path):
    source = REPORTS / "pdf" / "klid-china-ai-policy-2025.pdf"
    (tmp_path / "a.pdf").write_bytes(source.read_bytes())
    first = read_corpus(tmp_path).documents[0]
    known = {first.file_sha256: first}
    (tmp_path / "a.pdf").touch()
    again = read_corpus(tmp_path, known=known).documents[0]
    assert again is not first and again == first  # reused, not re-read (same source)


def test_format_is_read_from_content_not_only_the_suffix(tmp_path):
    assert sniff(Path("x.bin"), b"%PDF-1.7\n") == "pdf"
    assert sniff(Path("x.txt"), b"<!DOCTYPE html><html>") == "html"
    hwpx = tmp_path / "report.zip"
    hwpx.write_bytes((FIXTURES / "hwp" / "sample_document.hwpx").read_bytes())
    assert sniff(hwpx, hwpx.read_bytes()[:8]) == "hwpx"
    with pytest.raises(CorpusError, match="old Office binary"):
        sniff(Path("old.doc"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    with pytest.raises(CorpusError, match="password-protected"):
        sniff(Path("locked.docx"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def test_a_zip_that_unpacks_to_more_than_a_report_is_refused(tmp_path):
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"")
        with archive.open("filler.bin", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 24)
            for _ in range(33):  # 528 MiB of zeros, a few hundred KiB packed
                member.write(chunk)
    assert bomb.stat().st_size < 5_000_000
    with pytest.raises(CorpusError, match="unpacks to"):
        read_document(bomb)


@pytest.mark.integration
@pytest.mark.skipif("kor" not in tesseract_languages(),
                    reason="Tesseract with its Korean model is not installed (make test "
                           "installs tesseract-ocr-kor)")
def test_scanned_pages_are_read_by_ocr_with_their_pages(tmp_path):
    scan = scanned_pdf(REPORTS / "pdf" / "klid-china-ai-policy-2025.pdf",
                       tmp_path / "scan.pdf", pages=2)
    doc = read_document(scan, ocr=page_reader("on"))
    assert len(doc.pages) == 2
    first, second = doc.text[:doc.pages[1]], doc.text[doc.pages[1]:]
    # Each page's text where it is printed: page 2 opens with the paragraph's end.
    assert "개발 정책과 사례" in first and "데이터센터" in first
    assert "소프트웨어 융합 솔루션" in second and "소프트웨어 융합 솔루션" not in first
    assert "개발 정책과 사례" not in second


def test_docx_footnotes_and_outline_levels_from_libreoffice():
    # notes.docx: LibreOffice's conversion of notes.fodt beside it (two footnotes).
    doc = read_document(FIXTURES / "docx" / "notes.docx")
    assert "집계되었다.1) 양식 생산은 늘었다.\n\n1) 해양수산부(2025), 어업생산동향조사" in doc.text
    assert "넘었다.2)\n\n2) 관세청 수출입무역통계" in doc.text
    sections = {c.section for c in chunk_document(doc, 200, 40) if "김 수출액" in c.text}
    assert sections == {"해양 수산 동향 › 수출"}
