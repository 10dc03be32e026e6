"""Questions that name their source: "per the KISTEP brief", "KLID 글에 따르면".

Analysts often say which report they mean. That name is mostly an instruction about
where to look: embedded or translated with the question, "per the KISTEP brief" pulls the
brief's list of other KISTEP publications above the passage that answers. A named document
therefore narrows the search to itself, and its name leaves the text that is embedded and
translated. The question's own BM25 words keep it: there it matches only where a report
writes it, and for "저자 서행아의 KISTEP 내 소속은?" that line (KISTEP 글로벌R&D혁신센터 서행아)
is the answer (measured in docs/tuning.md).

A document's names are the acronyms of its file name that the document itself writes
in capitals (kistep-global-ai-china-2025 → KISTEP) and that do not name every document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """The documents a question names, and the names it used."""

    names: tuple[str, ...]
    doc_ids: frozenset[str]


def document_names(documents: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """name → the ids of the documents it names, from (doc_id, text) items."""
    docs = list(documents)
    names: dict[str, set[str]] = {}
    for doc_id, text in docs:
        for part in re.split(r"[^A-Za-z]+", doc_id):
            if len(part) < 3:
                continue
            name = part.upper()
            if re.search(rf"(?<![A-Za-z0-9]){name}(?![A-Za-z0-9])", text):
                names.setdefault(name, set()).add(doc_id)
    # A name shared by every document (a publisher of the whole corpus) narrows nothing.
    return {name: frozenset(ids) for name, ids in names.items() if len(ids) < len(docs)}


def find_scope(query: str, names: Mapping[str, frozenset[str]]) -> Scope | None:
    """The documents `query` names; None when it names none, or names several that
    belong to different documents (a comparison across reports)."""
    used = [name for name in names if _pattern(name).search(query)]
    if not used:
        return None
    doc_ids = frozenset.intersection(*(names[name] for name in used))
    if not doc_ids:
        return None
    return Scope(tuple(sorted(used)), doc_ids)


def strip_names(text: str, names: Iterable[str]) -> str:
    """`text` without the document names (and an English possessive after them)."""
    for name in names:
        text = _pattern(name).sub(" ", text)
    return " ".join(text.split())


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?:['’]s)?(?![A-Za-z0-9])",
                      re.IGNORECASE)
