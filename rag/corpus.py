"""Reading report files into clean documents: decoding, web-chrome removal, ids and titles."""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .language import HANGUL_SYLLABLE

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")

# Navigation and sharing widgets that web exports of articles carry; not report content.
_CHROME_LINES = re.compile(
    r"^\s*(본문\s*바로\s*가기|SNS\s*공유\s*하기|홈으로\s*이동.*공유|인쇄\s*하기|주소\s*복사|"
    r"목록\s*보기|이전\s*글|다음\s*글|맨\s*위로|TOP|Skip to (main )?content)\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(다|음|임|함|됨|요)\.?\s*$")


@dataclass(frozen=True)
class Document:
    """One report: `text` is the stored text that chunk offsets point into."""

    doc_id: str
    title: str
    text: str
    source: str
    sha256: str
    encoding: str


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Read every report file (.txt, .md) under `corpus_dir`, sorted by path."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder {corpus_dir} does not exist; create it and put .txt reports in it"
        )
    paths = sorted(
        p for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )
    if not paths:
        raise CorpusError(
            f"corpus folder {corpus_dir} holds no .txt or .md reports; add at least one"
        )
    docs = [read_document(p, doc_id=make_doc_id(p.relative_to(corpus_dir))) for p in paths]
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.doc_id in seen:
            raise CorpusError(
                f"files {seen[doc.doc_id]} and {doc.source} map to the same document id "
                f"{doc.doc_id!r}; rename one of them"
            )
        seen[doc.doc_id] = doc.source
    return docs


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """Read and clean one report file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}; check the file") from exc
    text, encoding = decode_bytes(raw, str(path))
    text = clean_text(text)
    if not text.strip():
        raise CorpusError(f"{path} holds no text; remove it from the corpus or fill it")
    return Document(
        doc_id=doc_id or make_doc_id(Path(Path(path).name)),
        title=extract_title(text) or Path(path).stem,
        text=text,
        source=str(path),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        encoding=encoding,
    )


def decode_bytes(raw: bytes, name: str = "input") -> tuple[str, str]:
    """Decode report bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else CP949.

    CP949 is a superset of EUC-KR, the legacy encodings Korean documents often use.
    """
    text, encoding = _decode(raw, name)
    if "\x00" in text:
        raise CorpusError(f"{name} looks like a binary file, not text; remove it from the corpus")
    if encoding == "cp949":
        log.info("decoded %s as CP949/EUC-KR", name)
    return text, encoding


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    attempts: list[tuple[str, bytes, str]] = []
    if raw.startswith(codecs.BOM_UTF8):
        attempts.append(("utf-8", raw[len(codecs.BOM_UTF8):], "utf-8-sig"))
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        attempts.append(("utf-16", raw, "utf-16"))
    attempts += [("utf-8", raw, "utf-8"), ("cp949", raw, "cp949")]
    for codec, data, label in attempts:
        try:
            return data.decode(codec), label
        except UnicodeDecodeError:
            continue
    raise CorpusError(
        f"{name} is neither UTF-8 nor CP949/EUC-KR text; convert it to UTF-8 "
        "(e.g. iconv -f <encoding> -t UTF-8)"
    )


def clean_text(text: str) -> str:
    """Normalise line endings and drop web-chrome lines; everything else stays verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line for line in text.split("\n") if not _CHROME_LINES.match(line)]
    return "\n".join(lines).strip("\n") + "\n"


def extract_title(text: str) -> str | None:
    """The report's title: the first early line that reads like a Korean heading.

    A heading has several Hangul syllables and no sentence ending; a line that ends
    with ':' continues on the next line (a two-line title with a subtitle).
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()][:15]
    for i, line in enumerate(lines):
        if not (6 <= len(line) <= 100) or len(HANGUL_SYLLABLE.findall(line)) < 6:
            continue
        if _SENTENCE_END.search(line) or re.match(r"^[-•○□※\d(\[<〈]", line):
            continue
        if line.endswith(":") and i + 1 < len(lines):
            return f"{line} {lines[i + 1]}"
        return line
    return None


def make_doc_id(relative: Path) -> str:
    """A stable id from the file's path inside the corpus: lower-case, no suffix."""
    stem = str(relative.with_suffix("")).replace("\\", "/")
    slug = unicodedata.normalize("NFC", stem).lower()
    slug = re.sub(r"[^\w/.-]+", "-", slug).strip("-")
    return slug.replace("/", "--") or "document"
