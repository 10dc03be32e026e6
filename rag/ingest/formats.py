"""Which format a report file is in, by its content first (magic bytes) and its suffix
second, and reading it into a `Document`."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..errors import CorpusError
from .document import Document
from .layout import Extraction, assemble
from .plain import clean_text, decode_bytes, extract_title, make_doc_id

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".pdf", ".hwp", ".hwpx", ".docx", ".html", ".htm")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Report files larger than this are refused before parsing: no report is this large,
# and a parser handed one can exhaust memory.
MAX_FILE_BYTES = 512 * 1024 * 1024


def sniff(path: Path, head: bytes) -> str:
    """The file's format: "pdf", "hwp", "hwpx", "docx", "html" or "text"."""
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF-") or (b"%PDF-" in head[:1024] and suffix == ".pdf"):
        return "pdf"
    if head.startswith(_OLE):
        if suffix in (".doc", ".xls", ".ppt"):
            raise CorpusError(f"{path.name} is an old Office binary file; save it as .docx "
                              "or PDF and add that")
        if suffix in (".docx", ".hwpx"):
            # Office and Hancom wrap a password-protected document in an OLE container.
            raise CorpusError(f"{path.name} is password-protected (an encrypted container); "
                              "save an unprotected copy and add that")
        return "hwp"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if suffix in (".pdf", ".hwp", ".hwpx", ".docx"):
        raise CorpusError(f"{path.name} does not hold {suffix[1:].upper()} content (its "
                          "first bytes say otherwise); the file is damaged or misnamed")
    lowered = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if suffix in (".html", ".htm") or lowered.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            mimetype = archive.read("mimetype")[:64] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorpusError(f"{path.name} is a damaged zip archive ({exc}); open and save it "
                          "again in the program that made it") from exc
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_FILE_BYTES:
        raise CorpusError(f"{path.name} unpacks to {unpacked:,} bytes, more than a report "
                          "holds; the file is refused")
    if b"hwp" in mimetype or "Contents/section0.xml" in names:
        return "hwpx"
    if "word/document.xml" in names:
        return "docx"
    raise CorpusError(f"{path.name} is a zip archive but neither HWPX nor DOCX; add the "
                      "reports inside it instead")


def read_document(path: Path, doc_id: str | None = None,
                  ocr: Callable[[object], str] | None = None) -> Document:
    """Read one report file of any supported format into a document."""
    return document_from_bytes(Path(path), read_file(Path(path)), doc_id, ocr)


def read_file(path: Path) -> bytes:
    """A report file's bytes, refused before reading when it is larger than a report."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(f"{path.name} is {size:,} bytes, more than {MAX_FILE_BYTES:,}; "
                              "split it or add a text export")
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}; check the file") from exc


def document_from_bytes(path: Path, raw: bytes, doc_id: str | None = None,
                        ocr: Callable[[object], str] | None = None) -> Document:
    """The document the bytes `raw` of the file at `path` hold."""
    if not raw:
        raise CorpusError(f"{path} is empty (0 bytes); remove it or add the real file")
    doc_id = doc_id or make_doc_id(Path(path.name))
    file_sha = hashlib.sha256(raw).hexdigest()
    kind = sniff(path, raw[:4096])
    if kind == "text":
        text, encoding = decode_bytes(raw, str(path))
        text = clean_text(text)
        if not text.strip():
            raise CorpusError(f"{path} holds no text; remove it from the corpus or fill it")
        return Document(doc_id=doc_id, title=extract_title(text) or path.stem, text=text,
                        source=str(path), sha256=_sha(text), encoding=encoding,
                        format="text", file_sha256=file_sha)
    extraction = _extract(kind, path, raw, ocr)
    for note in extraction.notes:
        log.warning("%s: %s", path.name, note)
    layout = assemble(extraction.blocks, extraction.n_pages)
    labels = extraction.page_labels
    if labels and all(label == str(i + 1) for i, label in enumerate(labels)):
        labels = ()  # labels that only repeat the page numbers add nothing
    title = extraction.title if _is_title(extraction.title) else ""
    return Document(doc_id=doc_id, title=title or extract_title(layout.text) or path.stem,
                    text=layout.text, source=str(path), sha256=_sha(layout.text),
                    encoding="", format=extraction.format, file_sha256=file_sha,
                    pages=layout.pages, page_labels=labels, headings=layout.headings)


def _extract(kind: str, path: Path, raw: bytes,
             ocr: Callable[[object], str] | None) -> Extraction:
    if kind == "pdf":
        from .pdf import read_pdf

        return read_pdf(path, ocr)
    if kind == "hwp":
        from .hwp import read_hwp

        return read_hwp(path)
    if kind == "hwpx":
        from .hwpx import read_hwpx

        return read_hwpx(path)
    if kind == "docx":
        from .word import read_docx

        return read_docx(path)
    from .web import read_html

    return read_html(path, raw)


def _is_title(title: str) -> bool:
    # Generators fill the metadata title with a file name or "Microsoft Word - x.docx".
    return bool(title) and len(title) <= 200 and not title.lower().endswith(
        (".doc", ".docx", ".hwp", ".hwpx", ".pdf", ".txt")) and "untitled" not in title.lower()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
