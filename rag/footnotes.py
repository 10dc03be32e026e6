"""Footnotes: the report's own citations, linked to the sentence that cites them.

A report cites its sources as a mark after a sentence ("…12%까지 증가했다.4)") and a note
further down ("4) 국민건강보험공단(NHIS), 「Health Insurance Statistics 2023」"). The note alone
shares no words with a question such as "which report is cited for the 2023 project
count?"; the citing sentence does. And the note often gives the source's English title
("Munich to launch 2 bln euro fund"), words an English question shares with no Korean
sentence. So rag/indexing.py links the two both ways, while each stays the passage cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chunking import Sentence

# A mark sits directly on the text it follows: "예정이다.1)", "(2019–2022)5)".
_MARK = re.compile(r"(?<=[^\s\d(])(\d{1,2})\)")
# A note starts a line or follows a space, and goes on to the line's end or the next note.
_NOTE = re.compile(r"(?:^|(?<=[ \t\n]))(\d{1,2})\)[ \t]+(?=\S)", re.MULTILINE)


@dataclass(frozen=True)
class Footnote:
    """Note `number`: cited by the mark at `mark`, written at ``text[start:end]``."""

    number: int
    mark: int
    start: int
    end: int


def find_footnotes(text: str) -> tuple[Footnote, ...]:
    """The notes of `text` that a mark before them cites, in reading order.

    A numbered list ("1) 목표 2) 예산") has no marks, so it is not taken for notes.
    """
    marks: dict[int, int] = {}
    events = sorted([(m.start(), "mark", m) for m in _MARK.finditer(text)]
                    + [(m.start(), "note", m) for m in _NOTE.finditer(text)],
                    key=lambda e: e[0])
    notes: list[tuple[int, int, int]] = []
    for _, kind, match in events:
        number = int(match.group(1))
        if kind == "mark":
            marks[number] = match.start()
        elif number in marks:
            notes.append((number, marks.pop(number), match.start()))
    found = []
    for i, (number, mark, start) in enumerate(notes):
        line_end = text.find("\n", start)
        end = len(text) if line_end < 0 else line_end
        if i + 1 < len(notes):
            end = min(end, notes[i + 1][2])
        found.append(Footnote(number, mark, start, start + len(text[start:end].rstrip())))
    return tuple(found)


@dataclass(frozen=True)
class NoteLink:
    """A passage's tie to a footnote outside it, at ``start:end`` of the same document:
    the note its mark cites (``kind="note"``), or the sentence citing the note it holds
    (``kind="citing"``). Search results carry these so a reader sees a figure's source."""

    number: int
    kind: str
    start: int
    end: int
    text: str


def without_marks(text: str, start: int, notes: list[Footnote]) -> str:
    """``text`` (which starts at offset `start` of its document) without the marks of the
    document's `notes` that lie in it: "개선했다.8)" quoted as a claim reads "개선했다."
    (the note itself is shown beside the passage)."""
    cuts = sorted((n.mark - start, n.mark - start + len(f"{n.number})")) for n in notes
                  if start <= n.mark and n.mark - start + len(f"{n.number})") <= len(text)
                  and text[n.mark - start:].startswith(f"{n.number})"))
    if not cuts:
        return text
    out, pos = [], 0
    for cut_start, cut_end in cuts:
        out.append(text[pos:cut_start])
        pos = cut_end
    out.append(text[pos:])
    return "".join(out)


def citing_span(text: str, note: Footnote, sentences: list[Sentence]) -> tuple[int, int]:
    """The sentence that carries the note's mark; the mark's line where no sentence does."""
    for sentence in sentences:
        if sentence.start <= note.mark < sentence.end:
            return sentence.start, sentence.end
    start = text.rfind("\n", 0, note.mark) + 1
    while start < note.mark and text[start].isspace():
        start += 1
    return start, note.mark


def citing_text(text: str, note: Footnote, sentences: list[Sentence]) -> str:
    start, end = citing_span(text, note, sentences)
    return text[start:end]


def note_links(text: str, notes: list[tuple[Footnote, int, int]], start: int, end: int
               ) -> tuple[NoteLink, ...]:
    """The links of the passage ``text[start:end]``; `notes` are the document's footnotes
    with the span of their citing sentence. Ends inside the passage need no link."""
    links = []
    for note, cite_start, cite_end in notes:
        if start <= note.mark < end and not start <= note.start < end:
            links.append(NoteLink(note.number, "note", note.start, note.end,
                                  text[note.start:note.end]))
        if start <= note.start < end and not start <= note.mark < end:
            links.append(NoteLink(note.number, "citing", cite_start, cite_end,
                                  text[cite_start:cite_end]))
    return tuple(links)
