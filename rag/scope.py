"""Questions that name their source: "per the KDI brief", "NPS 글에 따르면".

Analysts often say which report they mean. That name is mostly an instruction about
where to look: embedded or translated with the question, "per the KDI brief" pulls the
brief's list of other KDI publications above the passage that answers. A named document
therefore narrows the search to itself, and its name leaves the text that is embedded and
translated. The question's own BM25 words keep it: there it matches only where a report
writes it, and for "저자 김민준의 KDI 내 소속은?" that line (KDI 재정연구부 김민준)
is the answer (the project's own case of this is measured in docs/tuning.md).

A document's names are the acronyms of its file name that the document itself writes
in capitals (kdi-pension-reform-2024 → KDI) and that do not name every document.
A question scopes only when it writes the name as the document does (capitals: "Who"
is not the WHO) and next to a word that points at a document, since the same acronym
also names an organisation or a subject the other documents discuss ("ESP가 설립된 해는?",
"저자의 KDI 내 소속은?"). The cues are general Korean and English ways of citing a
text: a document noun after the name (NPS 글, KDI 브리프, the NPS article, NPS's
Table 2), 에 따르면/에 의하면 after it, "per"/"according to" before it, or a citing verb
("the article NPS cites").
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


# Nouns for a text or a part of one, in Korean and English.
_KO_DOC_NOUNS = ("보고서", "브리프", "글", "자료", "문서", "리포트", "기사", "논문", "원고",
                 "발간물", "간행물", "결론", "서론", "표", "그림", "부록")
_EN_DOC_NOUNS = ("report", "brief", "briefing", "article", "paper", "document", "study",
                 "publication", "piece", "text", "issue", "table", "figure", "chapter",
                 "section", "conclusion", "introduction", "summary", "appendix")
_EN_CITING_VERBS = ("cite", "cites", "cited", "say", "says", "said", "write", "writes",
                    "wrote", "report", "reports", "reported", "state", "states", "list",
                    "lists", "mention", "mentions", "note", "notes", "estimate", "estimates",
                    "conclude", "concludes", "describe", "describes")
# A noun ends where its word does or a particle starts (글의, 글에, 브리프는), not inside a
# longer word (글로벌).
_KO_NOUN_END = r"(?=$|[^가-힣]|의|에|은|는|이|가|을|를|과|와|도)"
# A quoted title may stand between the name and its noun: NPS '연금 개혁 방향' 글.
_QUOTED_TITLE = r"(?:\s*['‘\"“「『][^'’\"”」』]{1,80}['’\"”」』](?:의)?)?"


def find_scope(query: str, names: Mapping[str, frozenset[str]]) -> Scope | None:
    """The documents `query` cites by name; None when it cites none, or several that
    belong to different documents (a comparison across reports)."""
    # Every name the question writes counts, so "the KDI and NPS reports" compares two
    # documents; but one of them must be cited as a text for the question to scope.
    used = [name for name in names if _pattern(name).search(query)]
    if not any(_cited(query, name) for name in used):
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


def _cited(query: str, name: str) -> bool:
    """Whether `query` writes `name` as a document's name, beside a citing cue."""
    n = re.escape(name)
    ko_nouns = "|".join(_KO_DOC_NOUNS)
    # English cue words in any case ("According to"); the name only as written.
    en_nouns = "(?i:" + "|".join(_EN_DOC_NOUNS) + ")"
    verbs = "(?i:" + "|".join(_EN_CITING_VERBS) + ")"
    cues = (
        # NPS 글, KDI 브리프, NPS '…' 글, NPS에 따르면, NPS에서 발간한
        rf"(?<![A-Za-z0-9]){n}{_QUOTED_TITLE}\s*(?:의\s*)?(?:{ko_nouns}){_KO_NOUN_END}",
        rf"(?<![A-Za-z0-9]){n}(?:의\s*)?(?:{ko_nouns})?\s*(?:에\s*따르면|에\s*의하면|에서\s*발간)",
        # the NPS article, NPS's Table 2, NPS's (possessive: the text's own parts)
        rf"(?<![A-Za-z0-9]){n}(?:['’]s)?\s+(?:{en_nouns})\b",
        rf"(?<![A-Za-z0-9]){n}['’]s(?![A-Za-z0-9])",
        # per the KDI brief, according to NPS, in/from the KDI …
        rf"\b(?i:per|according\s+to|citing|from|in)\s+(?i:the\s+)?{n}(?![A-Za-z0-9])",
        # the article NPS cites, does NPS say
        rf"(?<![A-Za-z0-9]){n}\s+(?:{verbs})\b",
    )
    return any(re.search(cue, query) for cue in cues)


def _pattern(name: str) -> re.Pattern[str]:
    # Stripping takes the name as the question wrote it: capitals, as _cited matched it.
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?:['’]s)?(?![A-Za-z0-9])")
