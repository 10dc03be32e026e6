"""Files made for tests: a scanned PDF (pages as images only), a PDF whose font has no
Unicode map (Korean bytes shown through a Latin font), and a folder of every kind of
broken report file."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
REPORTS = FIXTURES / "reports"


def scanned_pdf(source: Path, target: Path, pages: int = 2, scale: float = 300 / 72) -> Path:
    """`target`: the first `pages` pages of `source` rendered to images, no text layer."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(source))
    try:
        images = [pdf[i].render(scale=scale).to_pil().convert("RGB")
                  for i in range(min(pages, len(pdf)))]
    finally:
        pdf.close()
    images[0].save(target, "PDF", resolution=scale * 72, save_all=True,
                   append_images=images[1:])
    return target


def latin_font_pdf(text: str, target: Path) -> Path:
    """A one-page PDF drawing `text`'s CP949 bytes with Helvetica (WinAnsi): the text
    layer of a Korean PDF whose fonts lost their Unicode map."""
    data = text.encode("cp949").replace(b"\\", b"").replace(b"(", b"").replace(b")", b"")
    stream = b"BT /F1 12 Tf 72 720 Td (" + data + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    target.write_bytes(out)
    return target


def broken_files(folder: Path) -> dict[str, str]:
    """Each broken kind → a fragment its message must hold."""
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "truncated.pdf").write_bytes(
        (REPORTS / "pdf" / "klid-china-ai-policy-2025.pdf").read_bytes()[:2000])
    (folder / "protected.pdf").write_bytes((FIXTURES / "broken" / "protected.pdf").read_bytes())
    (folder / "protected.hwp").write_bytes(
        (FIXTURES / "hwp" / "protected_document.hwp").read_bytes())
    (folder / "damaged.hwpx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (folder / "damaged.docx").write_bytes(
        (REPORTS / "docx" / "klid-china-ai-policy-2025.docx").read_bytes()[:3000])
    (folder / "misnamed.pdf").write_text("PDF가 아닌 그냥 글이다.\n", encoding="utf-8")
    latin_font_pdf("중국의 인공지능 산업은 빠르게 성장하고 있으며 정부는 대규모 투자를 "
                   "계획하고 있다", folder / "nounicode.pdf")
    scanned_pdf(REPORTS / "pdf" / "klid-china-ai-policy-2025.pdf", folder / "scan.pdf",
                pages=1, scale=1.0)
    return {
        "empty.pdf": "0 bytes", "truncated.pdf": "not a readable PDF",
        "protected.pdf": "password-protected", "protected.hwp": "password-protected",
        "damaged.hwpx": "damaged zip", "damaged.docx": "damaged zip",
        "misnamed.pdf": "does not hold PDF content", "nounicode.pdf": "does not decode",
        "scan.pdf": "no text layer",
    }
