"""PDFs made for tests: a scan (pages as images only) and a text layer whose font has
no Unicode map (Korean bytes shown through a Latin font)."""

from __future__ import annotations

from pathlib import Path


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
