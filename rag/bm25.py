"""Lexical retrieval: Korean morphological tokens (kiwipiepy) scored with BM25 (bm25s)."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorruptError, ModelUnavailableError
from .lexicon import is_function_word

log = logging.getLogger(__name__)

# Content-bearing parts of speech: nouns (one-syllable ones too: 물, 쌀), numerals, roots,
# verb/adjective stems, and foreign, Chinese-character and number tokens.
_KEEP_TAGS = {"NNG", "NNP", "NNB", "NR", "XR", "SL", "SH", "SN", "VV", "VA", "MM"}
# Bound nouns and determiners that carry no topic on their own.
_STOP = {"것", "수", "등", "때", "중", "바", "데", "듯", "뿐", "이", "그", "저", "총", "약"}
_BM25_DIR = "bm25"


@lru_cache(maxsize=1)
def _kiwi() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError as exc:
        raise ModelUnavailableError(
            "the Korean tokenizer kiwipiepy is not installed; run: pip install kiwipiepy"
        ) from exc
    return Kiwi()


def respace(texts: list[str]) -> list[str]:
    """Kiwi's spacing of each text, its existing spaces kept: where Korean grammar puts
    a space between words written together."""
    return [str(t) for t in _kiwi().space(texts, reset_whitespace=False)]


def tokenize_korean_many(texts: list[str]) -> list[list[str]]:
    """`tokenize_korean` for many texts; Kiwi analyses them in parallel."""
    normalised = [unicodedata.normalize("NFKC", t) for t in texts]
    return [_terms(tokens) for tokens in _kiwi().tokenize(normalised)]


def tag_words(words: list[str]) -> dict[str, str]:
    """The part-of-speech tag of each word that Kiwi reads as one morpheme on its own."""
    tags = {}
    for word, tokens in zip(words, _kiwi().tokenize(words)):
        if len(tokens) == 1 and tokens[0].form == word:
            tags[word] = tokens[0].tag
    return tags


def morphemes(text: str) -> list[tuple[str, str]]:
    """Kiwi's morphemes of `text`, each as (form, part-of-speech tag)."""
    return [(t.form, t.tag) for t in _kiwi().tokenize(unicodedata.normalize("NFKC", text))]


def name_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` names something, by Kiwi: its proper nouns and the nouns it does not
    know (an unknown noun is nearly always a name: 모더나, 리비안), each run of nouns
    written together counted as one (세종 + 대왕 as 세종대왕), and a Latin word with a
    Korean noun attached (LG전자). Offsets into `text`."""
    spans: list[tuple[int, int]] = []
    run: tuple[int, int] | None = None
    named = latin = False  # the run holds a name; it began with a Latin word
    for t in _kiwi().tokenize(text):
        noun = t.tag.startswith("NN") or t.tag == "XSN"
        name = t.tag == "NNP" or (t.tag == "NNG" and t.oov)
        if run is not None and noun and t.start == run[1]:
            run, named = (run[0], t.start + t.len), named or name or latin
            continue
        if run is not None and named:
            spans.append(run)
        run, named, latin = None, False, False
        if name or t.tag == "SL":
            run, named, latin = (t.start, t.start + t.len), name, t.tag == "SL"
    if run is not None and named:
        spans.append(run)
    return spans


def proper_names(texts: list[str]) -> list[set[str]]:
    """The names in each text: Kiwi's proper nouns (모더나, 뮌헨) and Latin words (Spikevax),
    lower-cased. One-letter Latin tokens ("A" of A320) are parts of model names, not names."""
    normalised = [unicodedata.normalize("NFKC", t) for t in texts]
    return [{t.form.lower() for t in tokens
             if t.tag == "NNP" or (t.tag == "SL" and len(t.form) > 1)}
            for tokens in _kiwi().tokenize(normalised)]


def title_names(title: str) -> list[str]:
    """The BM25 terms of a document's title that are names (Kiwi's proper nouns, Latin
    words): what indexing.index_terms adds to each of the document's passages. English
    function words are no names unless capitalised as an acronym (WHO): a report filed
    as "who-…" would otherwise be found by every question asking "Who …"."""
    found = proper_names([title])[0]
    acronyms = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", title) if w.isupper()}
    return [t for t in tokenize_korean(title) if t.lower() in found
            and not (t.isascii() and is_function_word(t) and t not in acronyms)]


def tokenize_korean(text: str) -> list[str]:
    """BM25 terms of `text`: Korean morphemes plus lower-cased Latin terms and numbers.

    Adjacent Latin/number pieces are also joined ("300C" gives 300, c and 300c;
    "A320" gives a, 320 and a320) so model names match as written; thousands
    separators are dropped so "45,000" matches "45000".
    """
    return _terms(_kiwi().tokenize(unicodedata.normalize("NFKC", text)))


def _terms(tokens: Any) -> list[str]:
    terms: list[str] = []
    run: list[str] = []
    run_end = -1
    for token in tokens:
        tag = token.tag.split("-")[0]
        form = token.form.lower().replace(",", "") if tag in ("SL", "SN") else token.form
        if tag in ("SL", "SN"):
            if run and token.start == run_end:
                run.append(form)
            else:
                _flush_run(run, terms)
                run = [form]
            run_end = token.start + token.len
        else:
            _flush_run(run, terms)
            run = []
        if tag not in _KEEP_TAGS or form in _STOP:
            continue
        terms.append(form)
    _flush_run(run, terms)
    return terms


def _flush_run(run: list[str], terms: list[str]) -> None:
    if len(run) > 1:
        terms.append("".join(run))


class BM25Index:
    """BM25 over pre-tokenised chunks; scores every chunk for a query."""

    def __init__(self, retriever: Any) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, tokens: list[list[str]], k1: float, b: float) -> BM25Index:
        bm25s = _bm25s()
        retriever = bm25s.BM25(k1=k1, b=b)
        # bm25s needs at least one term per document; an empty chunk gets a placeholder.
        retriever.index([t or ["\u2205"] for t in tokens], show_progress=False)
        return cls(retriever)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk (zeros when no query term is in the vocabulary)."""
        known = [t for t in query_terms if t in self._retriever.vocab_dict]
        n = self._retriever.scores["num_docs"]
        if not known:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def save(self, index_dir: Path) -> None:
        self._retriever.save(str(Path(index_dir) / _BM25_DIR), show_progress=False)

    @classmethod
    def load(cls, index_dir: Path) -> BM25Index:
        bm25s = _bm25s()
        folder = Path(index_dir) / _BM25_DIR
        try:
            retriever = bm25s.BM25.load(str(folder), show_progress=False)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise IndexCorruptError(
                f"the BM25 files in {folder} cannot be read ({exc}); "
                "rebuild with: rag index --rebuild"
            ) from exc
        return cls(retriever)

    @property
    def size(self) -> int:
        return int(self._retriever.scores["num_docs"])


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG on import, which would flood stderr.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
