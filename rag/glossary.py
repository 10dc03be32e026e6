"""A bilingual glossary mined from the reports themselves: 한글(English) pairs.

Korean reports introduce names and terms as 모더나(Moderna), 전기차(EV),
탄소 포집 저장(Carbon Capture and Storage). Those pairs let an English question reach the
Korean words BM25 indexes, exactly, for the names and terms that matter most.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .language import EXONYMS

_PAIR = re.compile(
    r"((?:[가-힣A-Za-z0-9·]+\s){0,3}[가-힣][가-힣A-Za-z0-9·]*)"
    r"\s?\(\s*([A-Za-z][A-Za-z0-9 .,&'’\-+/]{0,60}?)\s*\)"
)
# Words before a term that are not part of it: conjunctions, qualifiers, and a country's
# name ("일본 경제산업성(Ministry of Economy)" pairs the ministry, not the country).
_LEADING_NOISE = {"및", "등", "또는", "그리고", "자체", "기존", "국가", *EXONYMS.values()}


@dataclass(frozen=True)
class Term:
    """One pair: the English form and the Korean form it stands beside in a report."""

    english: str
    korean: str
    doc_id: str


def mine_glossary(texts: Iterable[tuple[str, str]]) -> list[Term]:
    """Pairs from (doc_id, text) items, first occurrence of each English form kept."""
    seen: dict[str, Term] = {}
    for doc_id, text in texts:
        # Table rows pair authors with affiliations ("김민준 (KDI)"): not terms.
        prose = "\n".join(line for line in text.split("\n") if "\t" not in line)
        for match in _PAIR.finditer(prose):
            english = " ".join(match.group(2).split()).strip(" .,")
            korean = _korean_term(match.group(1), english)
            if not korean or not _looks_like_term(english):
                continue
            seen.setdefault(english.lower(), Term(english, korean, doc_id))
    return sorted(seen.values(), key=lambda t: t.english.lower())


def expand_query(query: str, glossary: Iterable[Term]) -> list[Term]:
    """The glossary terms whose English form occurs in `query` (case-insensitive, whole words)."""
    lowered = query.lower()
    found = []
    for term in glossary:
        pattern = r"(?<![a-z0-9])" + re.escape(term.english.lower()) + r"(?![a-z0-9])"
        if re.search(pattern, lowered):
            found.append(term)
    return found


def _korean_term(prefix: str, english: str) -> str:
    words = prefix.split()
    # As many Korean words as the English has (a multi-word name), at least one, and
    # only the words directly before the parenthesis.
    n = max(1, min(len(words), len(english.split())))
    words = words[-n:]
    # The term starts after the last of them ("보고서와 미국 식품의약국" → 식품의약국).
    noise = [i for i, w in enumerate(words[:-1]) if w in _LEADING_NOISE]
    if noise:
        words = words[noise[-1] + 1:]
    term = " ".join(words)
    return term if re.search(r"[가-힣]", term) else ""


def _looks_like_term(english: str) -> bool:
    # Years, page numbers and citations in parentheses are not terms.
    if re.fullmatch(r"[\d\s.,\-–~]+", english) or len(english) < 2:
        return False
    if re.fullmatch(r"(p|pp|vol|no|fig)\.?\s*[\d\-–]+", english, re.IGNORECASE):
        return False
    return not re.search(r"\b(19|20)\d\d\b", english)
