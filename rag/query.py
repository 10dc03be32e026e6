"""The question, read once: one frozen `Query` that retrieval and answering are given.

What a question is (its language, the language to answer in, its names, what kind of
answer it asks for and of what, its verbs, its BM25 terms) is read here, from the text
alone; what the corpus adds (the report it names, its 한글(English) pairs, the glossed
English words) and what the local LLM adds (a Korean translation) is set by the
retriever (`Retriever.read`, `Retriever.search`). Nothing downstream reads the text again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .answer_kind import asked_slot, focus_of, kind_of
from .bm25 import morphemes, tokenize_korean
from .glossary import Term
from .language import detect_language, reply_language
from .lexicon import Lexicon
from .names import names_of
from .references import asks_about_sources
from .scope import Scope

# A question asking for a title: the report's title line is then the answer, not noise.
_ASKS_FOR_TITLE = re.compile(r"제목|표제|\btitled?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    """One question and everything read from it."""

    # The question searched: as typed, or made standalone from a follow-up.
    text: str
    # As typed, and the follow-up rule that rewrote it ("" if none; rag.conversation).
    asked: str = ""
    rewrite: str = ""
    # "ko", "en" or "mixed", and the language an answer is written in ("ko" or "en").
    language: str = "ko"
    reply_language: str = "ko"
    # The text's BM25 terms, names (rag.names), the kind of answer asked for
    # (rag.answer_kind), its asked-for noun and the words for what it asks a figure of.
    terms: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    kind: str | None = None
    slot: str | None = None
    focus: tuple[str, ...] = ()
    # A Korean question's verbs and adjectives (how the asker words the event).
    predicates: frozenset[str] = frozenset()
    # Whether it asks about what the reports cite, or for a title.
    asks_sources: bool = False
    asks_title: bool = False
    # Set by the retriever: the report the question names and the text searched without
    # that name, the corpus's pairs whose English the question writes, and the glossed
    # English words (word → Korean terms of the reports).
    scope: Scope | None = None
    searched: str = ""
    glossary: tuple[Term, ...] = ()
    lexicon: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Set by the search: the LLM's Korean rendering of an English question, whether it
    # came from the cache, or why there is none.
    translation: str = ""
    translation_cached: bool = False
    translation_error: str = ""

    @property
    def korean(self) -> bool:
        return self.language == "ko"


def read_query(text: str, lexicon: Lexicon | None = None, asked: str = "",
               rewrite: str = "") -> Query:
    """`text` (a validated question) read: what it asks, from its words alone.

    `lexicon` (English word → Korean words of the reports) reads an English question's
    focus; `asked` and `rewrite` record the follow-up it was made from, if any.
    """
    language = detect_language(text)
    kind = kind_of(text)
    focus = focus_of(text, lexicon if language != "ko" else None) if kind else ()
    predicates = frozenset(form for form, tag in morphemes(text) if tag in ("VV", "VA")) \
        if language == "ko" else frozenset()
    return Query(
        text=text, asked=asked or text, rewrite=rewrite, language=language,
        reply_language=reply_language(text),
        terms=tuple(tokenize_korean(text)), names=tuple(names_of(text, language)),
        kind=kind, slot=asked_slot(text) if language == "ko" else None, focus=focus,
        predicates=predicates, asks_sources=asks_about_sources(text),
        asks_title=bool(_ASKS_FOR_TITLE.search(text)),
        searched=text)
