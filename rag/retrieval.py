"""Hybrid retrieval: dense and BM25 rankings fused into cited hits."""

from __future__ import annotations

import bisect
import logging
import math
import time
import unicodedata
from bisect import bisect_right
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from .bm25 import title_names, tokenize_korean
from .chunking import Sentence
from .config import Config
from .conversation import resolve_followup
from .embedding import Embedder, load_embedder
from .errors import ModelUnavailableError, QueryError
from .footnotes import Footnote, NoteLink, citing_span, find_footnotes, note_links
from .fusion import Ranking, fuse
from .glossary import Term, expand_query, mine_glossary
from .language import detect_language
from .lexicon import GlossCache, Lexicon, build_lexicon
from .query import Query, read_query
from .references import in_references
from .scope import Scope, document_names, find_scope, strip_names
from .store import Index, build_settings, check_dimension, index_precision, open_index
from .translation import Translator

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "bm25")
_QUERY_CACHE = 512


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its exact place in the source document."""

    rank: int
    score: float
    chunk_id: str
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    text: str
    # Footnotes tied to the passage from outside it: the note a mark in it cites, or the
    # sentence citing a note it holds (rag/footnotes.py).
    notes: tuple[NoteLink, ...] = ()
    # The pages the passage lies on (empty for a file without pages), their printed
    # labels, and the offsets where its later pages begin.
    pages: tuple[int, ...] = ()
    page_labels: tuple[str, ...] = ()
    page_starts: tuple[int, ...] = ()

    @property
    def page(self) -> int | None:
        return self.pages[0] if self.pages else None

    def page_at(self, offset: int) -> tuple[int | None, str]:
        """The page of a document offset inside the passage, and its printed label."""
        if not self.pages:
            return None, ""
        i = bisect_right(self.page_starts, offset)
        return self.pages[i], self.page_labels[i]

    def to_dict(self) -> dict[str, Any]:
        out = {**asdict(self), "notes": [asdict(n) for n in self.notes], "page": self.page,
               "pages": list(self.pages), "page_labels": list(self.page_labels)}
        del out["page_starts"]
        return out


@dataclass(frozen=True)
class SearchResult:
    """The hits for one query, with what was searched and how long each stage took."""

    query: Query
    mode: str
    hits: tuple[Hit, ...]
    variants: tuple[dict[str, Any], ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.query.language

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query.text,
            "language": self.language,
            "mode": self.mode,
            "hits": [h.to_dict() for h in self.hits],
            "variants": list(self.variants),
            "timings_ms": self.timings_ms,
        }


# The most passages one search returns or one answer reads.
MAX_K = 1000


def validate_k(k: object, default: int) -> int:
    """`k` as a whole number from 1 to MAX_K (None: `default`); anything else, a string,
    a fraction or a bool included, raises QueryError (an API sends whatever it is given)."""
    if k is None:
        return default
    if isinstance(k, float) and k.is_integer():
        k = int(k)  # a UI slider or a JSON client may send 5.0
    if isinstance(k, bool) or not isinstance(k, int):
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, not {_shown(k)}")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be from 1 to {MAX_K}, not {k:,}")
    return k


def validate_doc_ids(doc_ids: object) -> tuple[str, ...] | None:
    """The document filter as a tuple of ids (None or empty: every document); one string
    is one id, never its characters. Whether the ids exist is checked against the index."""
    if doc_ids is None:
        return None
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    if not isinstance(doc_ids, list | tuple | set | frozenset) or \
            not all(isinstance(d, str) for d in doc_ids):
        raise QueryError(f"doc_ids must be a list of document ids, not {_shown(doc_ids)}")
    return tuple(doc_ids) or None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def validate_query(query: str, max_chars: int) -> str:
    """The question, stripped, other control characters as spaces; an empty or over-long
    question, one that is no valid text, or one without a letter or digit (only emoji or
    punctuation: nothing to search for) raises QueryError."""
    if not isinstance(query, str):
        raise QueryError(f"the question must be text, not {_shown(query)}")
    if not query.strip():
        raise QueryError("the question is empty; type a question in Korean or English")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QueryError("the question holds characters that are not valid text (a lone "
                         "surrogate, e.g. from a broken copy); type it again") from exc
    # Control characters other than whitespace (a bell, an escape) are no text.
    query = "".join(" " if unicodedata.category(ch) == "Cc" and not ch.isspace() else ch
                    for ch in query).strip()
    if not any(unicodedata.category(ch)[0] in "LN" for ch in query):
        raise QueryError("the question has no words to search for (only symbols or emoji); "
                         "ask in Korean or English words")
    if len(query) > max_chars:
        raise QueryError(
            f"the question is {len(query):,} characters long; the limit is {max_chars:,} "
            "(setting max_query_chars); shorten it"
        )
    return query


class Retriever:
    """Searches one index; the model and index load on first use and stay loaded."""

    def __init__(self, config: Config, index: Index | None = None,
                 embedder: Embedder | None = None, translator: Translator | None = None
                 ) -> None:
        self.config = config
        self._index = index
        self._embedder = embedder
        self._glossary: list[Term] | None = None
        self._query_vectors: dict[str, np.ndarray] = {}
        self._derived: dict[str, Any] = {}
        self._translator: Translator | None = translator

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._load_embedder(self.index)
        return self._embedder

    def _load_embedder(self, index: Index) -> Embedder:
        # Questions in the index's own arithmetic: an fp32 index searched with bf16
        # questions moved one English citation of the own set.
        return load_embedder(self.config.replace(embed_precision=index_precision(index)))

    @property
    def index(self) -> Index:
        if self._index is None:
            # The settings are checked before the model loads; the dimension after.
            expected = build_settings(self.config, self.config.model, 0)
            index = open_index(self.config, expected)
            if self._embedder is None:
                self._embedder = self._load_embedder(index)
            check_dimension(index, self._embedder.dim)
            self._index = index
        return self._index

    def forget_queries(self) -> None:
        """Drop the cached query vectors (benchmarks time uncached questions)."""
        self._query_vectors.clear()

    def sharing(self, config: Config | None = None, index: Index | None = None) -> Retriever:
        """A Retriever with this one's loaded model and translator, on `index` (None: the
        index on disk, loaded on first use) and with `config` (None: this one's).

        A Retriever never changes its index: a newer one on disk is searched by a new
        Retriever, so a search that is under way reads one index from start to end.
        """
        return Retriever(config or self.config, index, self._embedder, self._translator)

    @property
    def glossary(self) -> list[Term]:
        if self._glossary is None:
            self._glossary = mine_glossary(
                (d.doc_id, d.text) for d in self.index.documents.values())
        return self._glossary

    @property
    def idf(self) -> dict[str, float]:
        """BM25-style inverse document frequency of every indexed term, over the passages'
        own text: the names of a document's title, added to each of its passages' terms
        for search (indexing.index_terms), would make an article's subject look common."""
        if "idf" not in self._derived:
            df: dict[str, int] = {}
            added: dict[str, int] = {}
            for chunk, terms in zip(self.index.chunks, self.index.tokens, strict=True):
                if chunk.title not in added:
                    added[chunk.title] = len(title_names(chunk.title))
                for t in set(terms[:len(terms) - added[chunk.title]]):
                    df[t] = df.get(t, 0) + 1
            n = len(self.index.tokens)
            self._derived["idf"] = {t: math.log(1 + (n - d + 0.5) / (d + 0.5))
                                    for t, d in df.items()}
        return self._derived["idf"]

    @property
    def footnotes(self) -> dict[str, list[tuple[Footnote, int, int]]]:
        """Each document's footnotes with the span of the sentence citing them."""
        if "footnotes" not in self._derived:
            found = {}
            for d in self.index.documents.values():
                notes = find_footnotes(d.text)
                sentences = [self.index.sentences[r]
                             for r in self.sentences_in(d.doc_id, 0, len(d.text))] if notes else []
                found[d.doc_id] = [(n, *citing_span(d.text, n, sentences)) for n in notes]
            self._derived["footnotes"] = found
        return self._derived["footnotes"]

    def _hit(self, rank: int, row: int, score: float) -> Hit:
        c = self.index.chunks[row]
        notes = self.footnotes.get(c.doc_id)
        links = (note_links(self.index.documents[c.doc_id].text, notes, c.start, c.end)
                 if notes else ())
        doc = self.index.documents[c.doc_id]
        pages = doc.pages_of(c.start, c.end)
        return Hit(rank, round(score, 6), c.chunk_id, c.doc_id, c.title, c.section, c.start,
                   c.end, c.text, links, pages, tuple(doc.page_label(p) for p in pages),
                   doc.page_starts_in(c.start, c.end))

    @property
    def lexicon(self) -> Lexicon:
        """English words → Korean words of the index, from the glosses cached so far.

        Glossing runs after an index is published (the UI glosses in the background), so
        the lexicon is read again whenever the cache file has grown: a stat per English
        question, a re-read per finished batch.
        """
        path = self.config.cache_dir / "lexicon.jsonl"
        try:
            stat = path.stat()
            stamp = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            stamp = None
        if "lexicon" not in self._derived or self._derived.get("lexicon_stamp") != stamp:
            glosses: dict[str, tuple[str, ...]] = {}
            if self.config.lexicon != "off":
                from .llm import generator_name

                cache = GlossCache(path, generator_name(self.config))
                glosses = cache.get({t for terms in self.index.tokens for t in terms})
                # Where a report writes a word's English itself (모더나(Moderna)), that
                # beats the model's gloss.
                for term in self.glossary:
                    if term.korean in glosses:
                        glosses[term.korean] = (term.english.lower(),)
            self._derived["lexicon"] = build_lexicon(glosses)
            self._derived["lexicon_stamp"] = stamp
        return self._derived["lexicon"]

    def scope_of(self, query: str) -> Scope | None:
        """The documents `query` names by name, if any (setting scope_by_name)."""
        if not self.config.scope_by_name:
            return None
        if "names" not in self._derived:
            self._derived["names"] = document_names(
                (d.doc_id, d.text) for d in self.index.documents.values())
        return find_scope(query, self._derived["names"])

    def chunk_row(self, chunk_id: str) -> int:
        if "rows" not in self._derived:
            self._derived["rows"] = {c.chunk_id: i for i, c in enumerate(self.index.chunks)}
        return self._derived["rows"][chunk_id]

    def sentences_in(self, doc_id: str, start: int, end: int) -> list[int]:
        """Rows of the indexed sentences lying inside [start, end) of a document."""
        if "sentences" not in self._derived:
            by_doc: dict[str, tuple[list[int], list[int]]] = {}
            for row, x in enumerate(self.index.sentences):
                starts, rows = by_doc.setdefault(x.doc_id, ([], []))
                starts.append(x.start)
                rows.append(row)
            self._derived["sentences"] = by_doc
        starts, rows = self._derived["sentences"].get(doc_id, ([], []))
        out = []
        for i in range(bisect.bisect_left(starts, start), len(starts)):
            sentence = self.index.sentences[rows[i]]
            if sentence.start >= end:
                break
            if sentence.end <= end:
                out.append(rows[i])
        return out

    # --- what the answer layer reads of the passages found --------------------------

    def sentence(self, row: int) -> Sentence:
        """The indexed sentence at `row` (rows from `sentences_in`)."""
        return self.index.sentences[row]

    def sentence_vectors(self, rows: list[int]) -> np.ndarray:
        """The embeddings of the sentences at `rows`, one per row."""
        return self.index.sentence_vectors[rows]

    def passage_vectors(self, hits: Collection[Hit]) -> np.ndarray:
        """The embeddings of the hits' passages, one per hit."""
        return self.index.embeddings[[self.chunk_row(h.chunk_id) for h in hits]]

    def passage_terms(self, hit: Hit) -> list[str]:
        """The BM25 terms of a hit's passage (with its title's names, as searched)."""
        return self.index.tokens[self.chunk_row(hit.chunk_id)]

    def document_text(self, doc_id: str) -> str:
        """The whole text of an indexed document."""
        return self.index.documents[doc_id].text

    def _translate(self, query: str, found: list[Term]) -> tuple[str, bool, str]:
        """The Korean rendering, whether it was cached, and why there is none ("")."""
        try:
            return (*self.translator.translate(query, found), "")
        except ModelUnavailableError as exc:
            if self.config.translate == "on":
                raise
            # "auto" asked for translation only where it works: search without it.
            log.warning("searching without translation: %s", exc)
            return "", False, str(exc)

    @property
    def translator(self) -> Translator:
        if self._translator is None:
            from .llm import load_generator

            self._translator = Translator(load_generator(self.config, "translation"),
                                          self.config.cache_dir / "translations.jsonl")
        return self._translator

    def _translation_enabled(self) -> bool:
        setting = self.config.translate
        if setting == "off":
            return False
        if setting == "on" or self._translator is not None:
            return True
        from .llm import llm_available

        # "auto": translate where an LLM is installed or configured, and only then.
        if "llm" not in self._derived:
            self._derived["llm"] = llm_available(self.config)[0]
        return bool(self._derived["llm"])

    def _dense_rankings(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None,
                        weight: float, variant: dict[str, Any]) -> list[Ranking]:
        """The chunks nearest to `vector`, and (setting sentence_weight) the chunks
        whose best sentence is nearest."""
        rankings = [_dense_ranking(self.index, vector, depth, allowed, weight)]
        variant["retrievers"].append("dense")
        if self.config.sentence_weight > 0 and len(self.index.sentences):
            rankings.append(self._sentence_ranking(vector, depth, allowed,
                                                   weight * self.config.sentence_weight))
            variant["retrievers"].append("sentences")
        return rankings

    def _sentence_ranking(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None,
                          weight: float) -> Ranking:
        if self.index.sentence_search is not None:
            return self._stored_sentence_ranking(vector, depth, allowed, weight)
        if "chunk_sentences" not in self._derived:
            # Sentence rows of every chunk, flattened for one reduceat per query; a chunk
            # without a whole sentence (a heading) borrows nothing and scores -1.
            flat: list[int] = []
            starts: list[int] = []
            for c in self.index.chunks:
                starts.append(len(flat))
                flat.extend(self.sentences_in(c.doc_id, c.start, c.end) or [-1])
            self._derived["chunk_sentences"] = (np.array(flat), np.array(starts))
        flat, starts = self._derived["chunk_sentences"]
        cosines = np.append(self.index.sentence_vectors @ vector, -1.0)
        best = np.maximum.reduceat(cosines[flat], starts)
        if allowed is not None:
            best = np.where(allowed, best, -np.inf)
        order = np.lexsort((np.arange(len(best)), -best))[:depth]
        order = order[np.isfinite(best[order])]
        return Ranking("sentences", tuple(int(r) for r in order),
                       tuple(float(best[r]) for r in order), weight)

    def _stored_sentence_ranking(self, vector: np.ndarray, depth: int,
                                 allowed: np.ndarray | None, weight: float) -> Ranking:
        """The same ranking from a database's sentence search: walk the nearest
        sentences, each chunk scored by the first (best) of its sentences met."""
        if "sentence_chunks" not in self._derived:
            holders: dict[int, list[int]] = {}
            for row, c in enumerate(self.index.chunks):
                for s in self.sentences_in(c.doc_id, c.start, c.end):
                    holders.setdefault(s, []).append(row)
            self._derived["sentence_chunks"] = holders
        holders = self._derived["sentence_chunks"]
        search = self.index.sentence_search
        wanted = min(depth, len(self.index.chunks) if allowed is None else int(allowed.sum()))
        fetch = depth * 4
        while True:
            rows, scores = search.search(vector, fetch)
            best: dict[int, float] = {}
            for s, score in zip(rows.tolist(), scores.tolist(), strict=True):
                for c in holders.get(s, ()):
                    if c not in best and (allowed is None or allowed[c]):
                        best[c] = score
                if len(best) >= wanted:
                    break
            if len(best) >= wanted:
                break
            if fetch >= search.size:
                # Every sentence seen: chunks without a whole one score -1, as in memory.
                for c in range(len(self.index.chunks)):
                    if c not in best and (allowed is None or allowed[c]):
                        best[c] = -1.0
                break
            fetch *= 4
        order = sorted(best, key=lambda c: (-best[c], c))[:depth]
        return Ranking("sentences", tuple(order), tuple(best[c] for c in order), weight)

    def _weigh_references(self, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """`ranked` with the scores of reference-list passages (rag.references) times
        `reference_weight`, re-sorted. Only for an English question searched by its English
        words alone: those match a Korean report's Latin-script bibliography lines first.
        With a lexicon or a translation the Korean terms lead and the weight cost the own
        set's English answers (contains 0.900 -> 0.891, docs/tuning.md)."""
        weight = self.config.reference_weight
        if weight == 1.0:
            return ranked
        if "references" not in self._derived:
            self._derived["references"] = frozenset(
                row for row, c in enumerate(self.index.chunks)
                if in_references(c.section))
        rows = self._derived["references"]
        if not rows:
            return ranked
        # A non-positive score (a cosine below zero) is lowered, not raised, by the weight.
        weighed = [(row, score * weight if score > 0 else score - (1 - weight))
                   if row in rows else (row, score) for row, score in ranked]
        order = sorted(range(len(weighed)), key=lambda i: (-weighed[i][1], i))
        return [weighed[i] for i in order]

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector, cached: follow-ups, answers and repeats reuse it."""
        vector = self._query_vectors.get(text)
        if vector is None:
            vector = self.embedder.embed_queries([text])[0]
            if len(self._query_vectors) >= _QUERY_CACHE:
                self._query_vectors.pop(next(iter(self._query_vectors)))
            self._query_vectors[text] = vector
        return vector

    def read(self, text: str, doc_ids: Collection[str] | None = None,
             previous: str | None = None) -> Query:
        """`text` read once into a Query, with what this index knows: a follow-up made
        standalone against `previous` (the last turn's question), the report it names
        (unless `doc_ids` filters the search), and for an English question the corpus's
        한글(English) pairs and glossed words it writes. QueryError for a text that is no
        question (empty, too long, only symbols)."""
        text = validate_query(text, self.config.max_query_chars)
        asked, rewrite = text, ""
        if previous:
            resolution = resolve_followup(text, previous, self.glossary)
            text, rewrite = resolution.question, resolution.rule
        # The lexicon reads an English question's focus; a Korean one needs none.
        lexicon = None if detect_language(text) == "ko" else self.lexicon
        query = read_query(text, lexicon, asked, rewrite)
        scope = None if validate_doc_ids(doc_ids) else self.scope_of(text)
        if scope is not None:
            query = replace(query, scope=scope, searched=strip_names(text, scope.names) or text)
        if lexicon is not None:
            found = expand_query(query.searched, self.glossary) if self.config.glossary else []
            query = replace(query, glossary=tuple(found), lexicon=lexicon.lookup(query.searched))
        return query

    def search(self, query: str | Query, k: int | None = None, mode: str = "hybrid",
               doc_ids: Collection[str] | None = None) -> SearchResult:
        """Top-`k` passages for `query`, optionally only from the documents `doc_ids`.

        A question naming one report searches that report (rag.scope). English (or
        mixed) questions are also searched through the glossed lexicon and an LLM
        translation where those are on, else with the glossary's Korean terms and a
        lighter BM25; `variants` records every query searched and by which retriever.
        The result's query carries the translation, so nothing after reads the text again.
        """
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        k = validate_k(k, self.config.top_k)
        doc_ids = validate_doc_ids(doc_ids)
        if not isinstance(query, Query):
            query = self.read(query, doc_ids)  # validated there: a number, say, is no text
        index = self.index
        language = query.language
        variants: list[dict[str, Any]] = []
        # An explicit document filter wins; a named report narrows an unfiltered search.
        scope = None if doc_ids else query.scope
        searched = query.text
        if scope is not None:
            doc_ids = scope.doc_ids
            searched = query.searched
            variants.append({"kind": "scope", "names": list(scope.names),
                             "doc_ids": sorted(scope.doc_ids), "retrievers": []})
        allowed = _allowed_rows(index, doc_ids)
        depth = max(self.config.candidates, k)
        timings: dict[str, float] = {}
        rankings: list[Ranking] = []
        original: dict[str, Any] = {"kind": "original", "text": searched, "retrievers": []}
        variants.insert(0, original)
        if mode in ("hybrid", "dense"):
            t0 = time.perf_counter()
            vector = self.embed_query(searched)
            timings["embed"] = _ms(t0)
            t0 = time.perf_counter()
            rankings += self._dense_rankings(vector, depth, allowed, self.config.dense_weight,
                                             original)
            timings["dense"] = _ms(t0)
        korean = ""
        translation: dict[str, Any] = {}
        found = list(query.glossary)
        if found:
            variants.append({"kind": "glossary", "retrievers": ["bm25"],
                             "mapping": {t.english: t.korean for t in found},
                             "bm25_terms": tokenize_korean(" ".join(t.korean for t in found))})
        lexical = query.lexicon
        lexicon_terms = list(dict.fromkeys(t for terms in lexical.values() for t in terms))
        lexicon_variant: dict[str, Any] = {
            "kind": "lexicon", "retrievers": [], "bm25_terms": lexicon_terms,
            "mapping": {w: list(ts) for w, ts in lexical.items()}}
        if lexical:
            variants.append(lexicon_variant)
        if language != "ko" and self._translation_enabled():
            t0 = time.perf_counter()
            korean, cached, error = self._translate(query.text, found)
            timings["translation"] = _ms(t0)
            if error:
                variants.append({"kind": "translation", "error": error, "retrievers": []})
            if korean and scope is not None:
                korean = strip_names(korean, scope.names)
            query = replace(query, translation=korean, translation_cached=cached,
                            translation_error=error)
            if korean:
                translation = {"kind": "translation", "text": korean, "cached": cached,
                               "retrievers": []}
                variants.append(translation)
                if mode in ("hybrid", "dense"):
                    rankings += self._dense_rankings(
                        self.embed_query(korean), depth, allowed,
                        self.config.dense_weight * self.config.translation_weight, translation)
        if mode in ("hybrid", "bm25"):
            t0 = time.perf_counter()
            terms = list(query.terms)
            original["bm25_terms"] = list(terms)
            if korean:
                # With a Korean rendering, BM25 searches it: the English words and the
                # glossary's terms (already hints to the translation) only add noise
                # (docs/tuning.md).
                translated = tokenize_korean(korean)
                translation["bm25_terms"] = translated
                translation["retrievers"].append("bm25")
                rankings.append(_bm25_ranking(
                    index, translated, depth, allowed,
                    self.config.bm25_weight * self.config.translation_weight))
            if lexicon_terms:
                # Alone, the glossed words are the BM25 query; beside a translation, whose
                # words are in context, they are a second, lighter one.
                rankings.append(_bm25_ranking(
                    index, lexicon_terms, depth, allowed,
                    self.config.bm25_weight * (self.config.lexicon_weight if korean else 1.0)))
                lexicon_variant["retrievers"].append("bm25")
            if korean or lexicon_terms:
                for v in variants:
                    if v["kind"] == "glossary":
                        v["retrievers"] = ["translation"] if korean else []
            else:
                weight = self.config.bm25_weight * (
                    1.0 if language == "ko" else self.config.english_bm25_weight)
                glossary_terms = [t for v in variants if v["kind"] == "glossary"
                                  for t in v["bm25_terms"]]
                rankings.append(_bm25_ranking(index, terms + glossary_terms, depth, allowed,
                                              weight))
                original["retrievers"].append("bm25")
            timings["bm25"] = _ms(t0)
        t0 = time.perf_counter()
        if len(rankings) == 1:
            # One retriever alone keeps its own scores (cosine or BM25), not fused ones.
            fused = list(zip(rankings[0].rows, rankings[0].scores))
        else:
            fused = fuse(rankings, self.config.fusion, self.config.rrf_k)
        if english_words_alone(language, variants) and not query.asks_sources:
            fused = self._weigh_references(fused)
        fused = fused[:k]
        timings["fusion"] = _ms(t0)
        hits = tuple(self._hit(rank, row, score) for rank, (row, score) in enumerate(fused, 1))
        return SearchResult(query, mode, hits, tuple(variants), timings)


# Searches that carry an English question's words over to the reports' Korean ones.
_BRIDGES = ("lexicon", "translation")


def english_words_alone(language: str, variants: Collection[dict[str, Any]]) -> bool:
    """Whether an English question was searched by its English words alone: no lexicon
    glosses and no translation reached BM25 or the embeddings (the local LLM that makes
    both is not installed, or glossing has not reached the question's words yet)."""
    return language == "en" and not any(
        v["kind"] in _BRIDGES and v.get("retrievers") for v in variants)


def _allowed_rows(index: Index, doc_ids: Collection[str] | None) -> np.ndarray | None:
    if not doc_ids:
        return None
    unknown = set(doc_ids) - set(index.documents)
    if unknown:
        raise QueryError(
            f"unknown document id(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(index.documents))}"
        )
    wanted = set(doc_ids)
    return np.array([c.doc_id in wanted for c in index.chunks], dtype=bool)


def _dense_ranking(index: Index, vector: np.ndarray, depth: int, allowed: np.ndarray | None,
                   weight: float) -> Ranking:
    if index.vectors_in_store:  # the database applies the filter itself
        rows, scores = index.dense.search(vector, depth, allowed)
        return Ranking("dense", tuple(int(r) for r in rows), tuple(float(s) for s in scores),
                       weight)
    # A document filter may drop most of the nearest rows, so search all of them then.
    rows, scores = index.dense.search(vector, index.dense.size if allowed is not None else depth)
    if allowed is not None:
        keep = allowed[rows]
        rows, scores = rows[keep][:depth], scores[keep][:depth]
    return Ranking("dense", tuple(int(r) for r in rows), tuple(float(s) for s in scores), weight)


def _bm25_ranking(index: Index, terms: list[str], depth: int, allowed: np.ndarray | None,
                  weight: float) -> Ranking:
    scores = index.bm25.scores(terms)
    if allowed is not None:
        scores = np.where(allowed, scores, 0.0)
    candidates = np.flatnonzero(scores > 0)
    # Stable sort on (-score, row) keeps equal scores in row order.
    order = candidates[np.lexsort((candidates, -scores[candidates]))][:depth]
    return Ranking("bm25", tuple(int(r) for r in order),
                   tuple(float(scores[r]) for r in order), weight)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)
