"""Plain-text reports (.txt, .md): decoding, web-chrome removal, titles and document ids."""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from pathlib import Path

from ..errors import CorpusError
from ..language import HANGUL_SYLLABLE

log = logging.getLogger(__name__)

# Navigation and sharing widgets that web exports of articles carry; not report content.
_CHROME_LINES = re.compile(
    r"^\s*(본문\s*바로\s*가기|SNS\s*공유\s*하기|홈으로\s*이동.*공유|인쇄\s*하기|주소\s*복사|"
    r"목록\s*보기|이전\s*글|다음\s*글|맨\s*위로|TOP|Skip to (main )?content)\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(다|음|임|함|됨|요)\.?\s*$")


def decode_bytes(raw: bytes, name: str = "input") -> tuple[str, str]:
    """Decode report bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else CP949.

    CP949 is a superset of EUC-KR, the legacy encodings Korean documents often use.
    """
    text, encoding = _decode(raw, name)
    if "\x00" in text:
        raise CorpusError(f"{name} looks like a binary file, not text; remove it from the corpus")
    if encoding == "cp949":
        _check_korean(raw, text, name)
        log.info("decoded %s as CP949/EUC-KR", name)
    return text, encoding


# The 40 most frequent syllables of written Korean: together a quarter or more of any
# Korean prose's Hangul (0.28–0.57 over 890 KorQuAD paragraphs, 0.36–0.43 in the reports).
_COMMON_SYLLABLES = frozenset(
    "이다의는에을하고가로기한지서도들사리자시대인정적수있해국게으보나어일성전부아")
# Below this share the "Hangul" is no Korean: GBK Chinese read as CP949 gives 0.02–0.03.
MIN_COMMON_SHARE = 0.1
# From this many syllables the share speaks for itself; a shorter text (a title, a memo)
# is refused only when Hanja also make up a fifth of its letters: GB2312 bytes read as
# CP949 fall half in KS X 1001's Hangul rows and half in its Hanja rows, while Korean
# text saved as CP949 holds few Hanja.
SURE_SYLLABLES = 50
MIN_SYLLABLES = 8
MIN_HANJA_SHARE = 0.2
_HANJA = re.compile(r"[\u4e00-\u9fff\uf900-\ufaff]")


def _check_korean(raw: bytes, text: str, name: str) -> None:
    """Refuse bytes that CP949 decodes but that are Chinese or Japanese in their own
    legacy encodings (GB2312/GBK and EUC-KR share their byte ranges: 人工智能产业 in GBK
    reads as "훙묏例콘끓撚" in CP949, syllables Korean text hardly uses)."""
    syllables = HANGUL_SYLLABLE.findall(text)
    if len(syllables) < MIN_SYLLABLES:
        return
    share = sum(1 for s in syllables if s in _COMMON_SYLLABLES) / len(syllables)
    if share >= MIN_COMMON_SHARE:
        return
    if len(syllables) < SURE_SYLLABLES:
        hanja = len(_HANJA.findall(text))
        if hanja < MIN_HANJA_SHARE * (hanja + len(syllables)):
            return
    guess = next((codec for codec in ("gbk", "big5", "shift_jis") if _decodes(raw, codec)),
                 None)
    named = f"; it decodes as {guess.upper().replace('_', '-')}" if guess else ""
    raise CorpusError(
        f"{name} is not Korean text in CP949/EUC-KR (only {share:.0%} of its syllables are "
        f"common Korean ones{named}); if it is a report, convert it to UTF-8 "
        "(e.g. iconv -f GBK -t UTF-8)")


def _decodes(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


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
    if b"\x00" in raw:
        # No text encoding this tool reads puts NUL bytes in text (UTF-16 has a BOM).
        raise CorpusError(f"{name} looks like a binary file, not text; remove it from the corpus")
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
