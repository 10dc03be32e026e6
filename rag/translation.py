"""Translating English questions into Korean with the LLM, cached on disk.

The reports are Korean; BM25 cannot match English words to them and the small embedding
model matches across languages only loosely. A Korean rendering of the question lets both
retrievers work as they do for Korean questions. Translations are cached (memory, then a
JSON-lines file in the cache folder), so a repeated question costs nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .cache import append_cache, read_cache
from .glossary import Term
from .language import HANGUL_SYLLABLE

SYSTEM_PROMPT = (
    "Translate the user's question into natural Korean, as a Korean analyst would ask it. "
    "Write foreign place, person and company names in Hangul the way Korean news does "
    "(Munich = 뮌헨, Pfizer = 화이자), or as the Korean terms after the question give them. "
    "Keep numbers, years, acronyms and model names as they are. Output only the Korean "
    "question, on one line."
)
# Worked examples steady a small model; they are about other topics than any report, and
# teach the two things a question needs: a foreign name in Hangul, the term hints used.
# Term hints ride on the question, not the system prompt, so the system prompt and the
# examples stay one fixed prefix that the local model keeps evaluated between questions
# (first token in ~0.4 s instead of ~1.8 s).
_EXAMPLES = (
    ("What share of Munich's budget went to public transport in 2023?\n"
     "(Korean terms: public transport = 대중교통)",
     "2023년 뮌헨 예산 중 대중교통 분야 비중은 얼마인가?"),
    ("Which companies did the ministry name as partners for the new vaccine plant?",
     "정부 부처가 새 백신 공장의 협력 기업으로 지목한 기업은 어디인가?"),
)
_PREFIX = ({"role": "system", "content": SYSTEM_PROMPT},
           *({"role": role, "content": text} for english, korean in _EXAMPLES
             for role, text in (("user", english), ("assistant", korean))))
_VERSION = 5
_HINTS = "(Korean terms: "


def pick_translation(reply: str) -> str:
    """The Korean question in a model's reply, without preambles or runaway repetition.

    Small models sometimes open with "한국어로는 다음과 같이…:", echo the term hints, or
    repeat a word until the token limit; the translation is the longest Hangul line that
    is neither a preamble ending in a colon nor the hints.
    """
    lines = [line.strip().strip('"“”') for line in reply.splitlines()]
    lines = [line for line in lines
             if HANGUL_SYLLABLE.search(line) and not line.endswith(":")
             and not line.startswith(_HINTS)]
    if not lines:
        return ""
    words = max(lines, key=len).split()
    kept: list[str] = []
    for word in words:
        if kept[-2:] == [word, word]:
            continue  # a third repeat in a row is a runaway, not language
        kept.append(word)
    return " ".join(kept)


class Translator:
    """English → Korean question translation with a persistent cache."""

    def __init__(self, generator: Any, cache_file: Path, max_tokens: int = 96) -> None:
        self._generator = generator
        self._cache_file = Path(cache_file)
        self._max_tokens = max_tokens
        self._lock = threading.Lock()
        self._cache: dict[str, str] = read_cache(self._cache_file, "text")

    def translate(self, question: str, glossary: list[Term] | tuple[Term, ...] = ()
                  ) -> tuple[str, bool]:
        """The Korean question, and whether it came from the cache."""
        key = f"{_VERSION}\t{getattr(self._generator, 'name', '')}\t{question}"
        with self._lock:
            if key in self._cache:
                return self._cache[key], True
        content = question
        if glossary:
            # The reports' own Korean forms make the translation match their words.
            pairs = "; ".join(f"{t.english} = {t.korean}" for t in glossary)
            content = f"{question}\n{_HINTS}{pairs})"
        messages = [*_PREFIX, {"role": "user", "content": content}]
        text = pick_translation("".join(self._generator.stream(messages, self._max_tokens)))
        if not text:
            return question, False
        with self._lock:
            self._cache[key] = text
            append_cache(self._cache_file, "text", {key: text}, "translation cache")
        return text, False
