"""An English → Korean word lexicon of the reports' own vocabulary, glossed by the LLM.

BM25 cannot match "talent" to 인재, and a 1.5B model translating a whole English question
often picks the wrong Korean word (talent → 태어난 사람). Glossing single Korean words into
English is the easier direction for such a model, and the reports' vocabulary is small
(about 700 content nouns for two reports). So each content noun of the index is glossed
once (`rag index`; cached per word, so new reports gloss only their new words) and an
English question's words are looked up in the inverted lexicon: a word-by-word Korean
BM25 query that needs no LLM at question time.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import append_cache, read_cache

log = logging.getLogger(__name__)

_VERSION = 1
_BATCH = 40
# Common nouns and roots; proper nouns are left to the glossary (a small model glosses
# transliterated names wildly, as some English word of a like sound).
_GLOSSED_TAGS = ("NNG", "XR")
_SYSTEM = ("You are a Korean-English dictionary. For each Korean term, write one line: the "
           "term, '=', then up to three different English translations separated by commas. "
           "Nothing else.")
_EXAMPLE = ("정부\n반도체\n유치",
            "정부 = government, state, administration\n반도체 = semiconductor, chip\n"
            "유치 = attraction, recruitment, hosting")
# English words too common to say which Korean word is meant.
_STOP_WORDS = (
    "a an the of to in on for by with and or at as is are was were be been being from that "
    "this these those it its into over under what which who whom whose when where why how "
    "does do did done has have had per than more most about not no any all some such "
    "can could will would may might shall should there their they them his her he she we "
    "our you your one etc")
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Lexicon:
    """English word keys → the Korean terms whose glosses contain them."""

    entries: dict[str, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.entries)

    def glosses(self, word: str) -> tuple[str, ...]:
        """The Korean terms an English word glosses (none for a stop word)."""
        return () if word.lower() in _STOP else self.entries.get(english_key(word), ())

    def lookup(self, text: str) -> dict[str, tuple[str, ...]]:
        """Each English word of `text` that the lexicon knows → its Korean terms."""
        found: dict[str, tuple[str, ...]] = {}
        for word in re.findall(r"[A-Za-z][A-Za-z'’-]*", text):
            if word in found:
                continue
            terms = self.glosses(word)
            if terms:
                found[word] = terms
        return found


def is_stop_word(word: str) -> bool:
    """Whether an English word is too short or too common to say which Korean word is
    meant."""
    return len(word) < 3 or is_function_word(word)


def is_function_word(word: str) -> bool:
    """Whether an English word is one of the common words that name nothing (who, the)."""
    return word.lower() in _STOP


def english_key(word: str) -> str:
    """A crude stem, so "talents", "recruiting", "recruited" and "resources" meet
    "talent", "recruit" and "resource"."""
    w = re.sub(r"['’]s?$", "", word.lower())
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif re.search(r"(ss|x|z|ch|sh)es$", w):
        w = w[:-2]
    elif w.endswith("s") and not re.search(r"(ss|us|is)$", w) and len(w) > 3:
        w = w[:-1]
    elif w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    # A final e comes and goes with the suffixes (manufacture, manufacturing).
    return w[:-1] if w.endswith("e") and len(w) > 3 else w


def build_lexicon(glosses: dict[str, tuple[str, ...]]) -> Lexicon:
    """Invert Korean term → English glosses into English key → Korean terms."""
    inverted: dict[str, set[str]] = {}
    for korean, english in glosses.items():
        for gloss in english:
            for word in re.findall(r"[A-Za-z][A-Za-z'’-]*", gloss):
                if is_stop_word(word):
                    continue
                inverted.setdefault(english_key(word), set()).add(korean)
    return Lexicon({key: tuple(sorted(terms)) for key, terms in sorted(inverted.items())})


def hangul_words(index_terms: Iterable[Sequence[str]]) -> list[str]:
    """The Hangul terms of two or more syllables in an index, most frequent first
    (one-syllable nouns carry too little to gloss)."""
    counts: dict[str, int] = {}
    for terms in index_terms:
        for term in set(terms):
            if len(term) >= 2 and re.fullmatch(r"[가-힣]+", term):
                counts[term] = counts.get(term, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))


def content_nouns(words: Sequence[str]) -> list[str]:
    """The common nouns and roots among `words`, tagged on their own (index terms
    already are single morphemes)."""
    from .bm25 import tag_words

    tags = tag_words(list(words))
    return [w for w in words if tags.get(w) in _GLOSSED_TAGS]


def parse_glosses(reply: str, asked: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Glosses of the `asked` terms in a reply of "term = a, b, c" lines."""
    wanted = set(asked)
    out: dict[str, tuple[str, ...]] = {}
    for line in reply.splitlines():
        korean, sep, english = line.partition("=")
        korean = korean.strip().strip("-*•0123456789. ")
        if not sep or korean not in wanted or korean in out:
            continue
        glosses: list[str] = []
        for gloss in english.split(","):
            gloss = " ".join(gloss.split()).strip(" .;\"'").lower()
            if gloss and re.fullmatch(r"[a-z][a-z '’\-]{1,40}", gloss) and gloss not in glosses:
                glosses.append(gloss)
        if glosses:
            out[korean] = tuple(glosses[:3])
    return out


class GlossCache:
    """Korean term → English glosses, per generator, in a JSON-lines file."""

    def __init__(self, cache_file: Path, model: str) -> None:
        self._file = Path(cache_file)
        self._model = model
        self._lock = threading.Lock()
        self._glosses = self._read()

    def get(self, terms: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The glosses of `terms` (words the model could not gloss are left out)."""
        return {t: self._glosses[t] for t in terms if self._glosses.get(t)}

    def missing(self, terms: Iterable[str]) -> list[str]:
        return [t for t in terms if t not in self._glosses]

    def gloss(self, terms: Sequence[str], generator: Any, progress: bool = False,
              on_batch: Callable[[int, int], None] | None = None,
              stop: threading.Event | None = None) -> int:
        """Gloss `terms` with `generator`, in batches; returns how many got glosses.
        `on_batch(asked so far, of how many)` follows each cached batch; `stop` ends the run
        before the next batch.

        A term the model skips is asked once more alone, then cached as having no gloss
        (logged), so it is not asked again: a word without a gloss only loses this lever,
        never the search.
        """
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(terms), desc="glossing", unit="term", file=sys.stderr)
        done = 0
        try:
            for i in range(0, len(terms), _BATCH):
                if stop is not None and stop.is_set():
                    break
                batch = list(terms[i:i + _BATCH])
                found = parse_glosses(_ask(generator, batch), batch)
                for term in [t for t in batch if t not in found]:
                    found.update(parse_glosses(_ask(generator, [term]), [term]))
                done += len(found)
                skipped = [t for t in batch if t not in found]
                if skipped:
                    log.info("no English gloss for %s", ", ".join(skipped))
                self._add({**dict.fromkeys(skipped, ()), **found})
                if bar is not None:
                    bar.update(len(batch))
                if on_batch is not None:
                    on_batch(i + len(batch), len(terms))
        finally:
            if bar is not None:
                bar.close()
        return done

    def skip(self, terms: Iterable[str]) -> None:
        """Remember `terms` as needing no gloss, so later runs need not look at them."""
        self._add(dict.fromkeys(terms, ()))

    def _add(self, glosses: dict[str, tuple[str, ...]]) -> None:
        with self._lock:
            self._glosses.update(glosses)
            append_cache(self._file, "english",
                         {self._key(k): list(v) for k, v in glosses.items()}, "gloss cache")

    def _key(self, korean: str) -> str:
        return f"{_VERSION}\t{self._model}\t{korean}"

    def _read(self) -> dict[str, tuple[str, ...]]:
        prefix = self._key("")
        return {key[len(prefix):]: tuple(str(e) for e in english)
                for key, english in read_cache(self._file, "english").items()
                if key.startswith(prefix) and isinstance(english, list)}


def _ask(generator: Any, terms: list[str]) -> str:
    messages = [{"role": "system", "content": _SYSTEM},
                {"role": "user", "content": _EXAMPLE[0]},
                {"role": "assistant", "content": _EXAMPLE[1]},
                {"role": "user", "content": "\n".join(terms)}]
    # About 15 tokens a line; the margin lets a verbose line end instead of cutting it.
    return "".join(generator.stream(messages, 20 * len(terms) + 40))
