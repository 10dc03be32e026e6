"""Building the index from the corpus, re-embedding only new or changed documents."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bm25 import title_names, tokenize_korean_many
from .chunking import Chunk, Sentence, chunk_document, split_sentences
from .config import Config
from .embedding import Embedder, cache_label, encoder_precision, load_embedder
from .errors import (
    IndexCancelledError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
)
from .footnotes import citing_text, find_footnotes
from .ingest import Document, SkippedFile, read_corpus
from .ingest.ocr import page_reader
from .store import (
    Index,
    build_settings,
    current_manifest,
    index_precision,
    open_index,
    where,
    write_index,
    writing,
)
from .vector_cache import VectorCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexReport:
    """What an indexing run did."""

    index_dir: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    chunks: int
    embedded_chunks: int
    seconds: float
    skipped: tuple[SkippedFile, ...] = ()
    # Of the texts the new or changed documents needed, how many vectors the cache gave.
    cached_texts: int = 0

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.changed or self.removed)


# What a caller watching an update is told: the stage ("reading", "chunking", "embedding",
# "saving"), and how many documents or texts of how many are done.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Watch:
    """A caller's view into a running update: progress reports, and a way to stop it.

    Setting `cancel` stops the update at its next step, before anything is published:
    the index stays as it was (the vectors embedded so far stay in the vector cache).
    """

    on_progress: Progress | None = None
    cancel: threading.Event | None = None

    def step(self, stage: str, done: int = 0, total: int = 0) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise IndexCancelledError("indexing was cancelled; the index is unchanged")
        if self.on_progress is not None:
            self.on_progress(stage, done, total)


def build_index(config: Config, embedder: Embedder | None = None, rebuild: bool = False,
                progress: bool = False,
                embedder_factory: Callable[[Config], Embedder] = load_embedder,
                watch: Watch | None = None, read: Sequence[Document] = ()) -> IndexReport:
    """Bring `config.index_dir` up to date with `config.corpus_dir`.

    Documents whose text hash is unchanged keep their chunks, vectors and BM25 terms;
    when nothing changed the run returns without loading the model or writing a file.
    `read` are documents the caller has just read from files now in the corpus (an
    upload's check): a file whose bytes they match is not parsed (or OCR-read) again.
    One process at a time: IndexLockedError while another one is updating the index.
    """
    watch = watch or Watch()
    bars = _StageBars(watch.on_progress) if progress else None
    if bars is not None:
        watch = Watch(bars.step, watch.cancel)
    try:
        with writing(config):
            return _build_locked(config, embedder, rebuild, progress, embedder_factory,
                                 watch, read)
    finally:
        if bars is not None:
            bars.close()


def _build_locked(config: Config, embedder: Embedder | None, rebuild: bool, progress: bool,
                  embedder_factory: Callable[[Config], Embedder], watch: Watch,
                  read: Sequence[Document]) -> IndexReport:
    started = time.perf_counter()
    watch.step("reading")
    previous = None if rebuild else _load_previous(config)
    known = {d.file_sha256: d for d in previous.documents.values() if d.file_sha256} \
        if previous else {}
    known |= {d.file_sha256: d for d in read if d.file_sha256}
    reading = read_corpus(config.corpus_dir, ocr=page_reader(config.ocr), known=known,
                          on_file=lambda done, total: watch.step("reading", done, total))
    documents = list(reading.documents)
    old_hashes = {d.doc_id: d.sha256 for d in previous.documents.values()} if previous else {}
    new_ids = {d.doc_id for d in documents}
    unchanged = [d for d in documents if old_hashes.get(d.doc_id) == d.sha256]
    added = [d.doc_id for d in documents if d.doc_id not in old_hashes]
    changed = [d.doc_id for d in documents
               if d.doc_id in old_hashes and old_hashes[d.doc_id] != d.sha256]
    removed = sorted(set(old_hashes) - new_ids)
    if previous is not None and not (added or changed or removed):
        return IndexReport(where(config), (), (), (), tuple(d.doc_id for d in documents),
                           len(previous.chunks), 0, time.perf_counter() - started,
                           reading.skipped)

    kept_ids = {d.doc_id for d in unchanged}
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    vectors: list[np.ndarray | None] = []
    fresh: list[Chunk] = []
    fresh_texts: list[str] = []  # what the dense model reads for each fresh chunk
    sentences: list[Sentence] = []
    sentence_vectors: list[np.ndarray | None] = []
    fresh_sentences: list[str] = []
    # Rows of each kept document in the previous index, found in one pass (a scan per
    # document would be quadratic in a large collection).
    chunk_rows = _rows_by_doc(previous.chunks) if previous is not None else {}
    sentence_rows = _rows_by_doc(previous.sentences) if previous is not None else {}
    # A database keeps the vectors of unchanged documents: nothing to read or send again.
    stored = previous is not None and previous.vectors_in_store
    placeholder = np.zeros(previous.dense.dim, np.float32) if stored and previous else None
    for number, doc in enumerate(documents):
        watch.step("chunking", number, len(documents))
        if doc.doc_id in kept_ids and previous is not None:
            rows = chunk_rows.get(doc.doc_id, [])
            chunks.extend(previous.chunks[i] for i in rows)
            tokens.extend(previous.tokens[i] for i in rows)
            vectors.extend(placeholder if stored else previous.embeddings[i] for i in rows)
            rows = sentence_rows.get(doc.doc_id, [])
            sentences.extend(previous.sentences[i] for i in rows)
            sentence_vectors.extend(placeholder if stored else previous.sentence_vectors[i]
                                    for i in rows)
        else:
            doc_chunks = chunk_document(doc, config.chunk_tokens, config.chunk_overlap_tokens,
                                        config.token_encoding)
            # Sentences up to a chunk's size, so each lies inside the chunks that hold it.
            doc_sentences = split_sentences(doc, config.chunk_tokens, config.token_encoding)
            notes = find_footnotes(doc.text) if config.footnote_context else ()
            # A note is read with the sentence citing it (its chunk's BM25 terms, its
            # sentence's vector); the citing chunk's vector reads the note, often the
            # source's English title. The other two pairings cost Korean MRR (docs/tuning.md).
            citing = [(n.start, citing_text(doc.text, n, doc_sentences)) for n in notes]
            noted = [(n.mark, doc.text[n.start:n.end]) for n in notes]
            chunks.extend(doc_chunks)
            tokens.extend(index_terms(doc_chunks, citing))
            fresh.extend(doc_chunks)
            fresh_texts.extend(_attached(c.start, c.end, noted)
                               + c.embedding_text(config.embed_context) for c in doc_chunks)
            vectors.extend([None] * len(doc_chunks))
            sentences.extend(doc_sentences)
            fresh_sentences.extend(_attached(x.start, x.end, citing) + x.text
                                   for x in doc_sentences)
            sentence_vectors.extend([None] * len(doc_sentences))
    watch.step("chunking", len(documents), len(documents))
    if fresh:
        embedder = embedder or embedder_factory(config)
        name, dim = embedder.name, embedder.dim
        texts = fresh_texts + fresh_sentences
        embedded, from_cache = _embed(embedder, texts, config, progress, watch)
        new_rows = iter(embedded)
        vectors = [v if v is not None else next(new_rows) for v in vectors]
        sentence_vectors = [v if v is not None else next(new_rows) for v in sentence_vectors]
    else:
        from_cache = 0
        # Only removals: the model is not needed at all.
        assert previous is not None
        name, dim = config.model, previous.dense.dim
    embeddings = np.stack(vectors).astype(np.float32)
    sentence_matrix = (np.stack(sentence_vectors).astype(np.float32) if sentence_vectors
                       else np.zeros((0, dim), np.float32))
    # Recorded beside the settings, not among them: a search embeds its question in the
    # index's precision, and only a build compares it (see _load_previous).
    settings = {**build_settings(config, name, dim),
                "embed_precision": encoder_precision(config)}
    watch.step("saving")
    write_index(config, settings, documents, chunks, embeddings, tokens, sentences,
                sentence_matrix, time.perf_counter() - started, frozenset(kept_ids))
    report = IndexReport(where(config), tuple(added), tuple(changed), tuple(removed),
                         tuple(sorted(kept_ids)), len(chunks), len(fresh),
                         time.perf_counter() - started, reading.skipped, from_cache)
    log.info("indexed %d chunks (%d embedded) in %.1fs", report.chunks,
             report.embedded_chunks, report.seconds)
    return report


# How far glossing has got: words asked so far, and of how many.
GlossProgress = Callable[[int, int], None]


def gloss_index(config: Config, progress: bool = False, on_batch: GlossProgress | None = None,
                stop: threading.Event | None = None) -> int:
    """Gloss the current index's Korean words not yet in the lexicon cache (see
    `gloss_vocabulary`). Separate from `build_index`: the index is searchable before this
    starts, English questions use each batch as soon as it is cached, and an interrupted
    run loses at most one batch."""
    manifest = current_manifest(config)
    index = open_index(config, build_settings(config, config.model, manifest.get("dim", 0)))
    return gloss_vocabulary(config, index.tokens, progress, on_batch, stop)


def gloss_vocabulary(config: Config, tokens: list[list[str]], progress: bool = False,
                     on_batch: GlossProgress | None = None,
                     stop: threading.Event | None = None) -> int:
    """Gloss the Korean words of `tokens` not yet in the lexicon cache, most frequent first;
    how many were glossed. `stop` ends it after the batch in flight.

    Setting lexicon: "off" skips this, "auto" skips it where no LLM is installed, "on"
    raises ModelUnavailableError then. Words glossed before cost nothing.
    """
    if config.lexicon == "off":
        return 0
    from .lexicon import GlossCache, content_nouns, hangul_words
    from .llm import generator_name, llm_available, load_generator

    cache = GlossCache(config.cache_dir / "lexicon.jsonl", generator_name(config))
    unknown = cache.missing(hangul_words(tokens))
    if not unknown:
        return 0  # every word glossed or known to need none: no tagger, no LLM
    missing = content_nouns(unknown)
    cache.skip(sorted(set(unknown) - set(missing)))
    if not missing:
        return 0
    if config.lexicon == "auto" and not llm_available(config)[0]:
        log.info("no LLM installed: %d Korean words stay without English glosses",
                 len(missing))
        return 0
    log.info("glossing %d Korean words into English with the LLM (once; cached in %s)",
             len(missing), config.cache_dir)
    return cache.gloss(missing, load_generator(config, "translation"), progress, on_batch,
                       stop)


def index_terms(chunks: list[Chunk], citing: Sequence[tuple[int, str]] = ()
                ) -> list[list[str]]:
    """BM25 terms of each chunk: its section path counts, as headings name the topic, and
    so do the sentences citing the footnotes it holds (`citing`: note offset, sentence),
    and the names in its document's title (`title_names`): an article names its subject
    in its title and seldom again. The title's other words are left out: a report's
    title ("동향과 전망") would pull every question using them to that report."""
    terms = tokenize_korean_many([_attached(c.start, c.end, citing)
                                  + (f"{c.section}\n{c.text}" if c.section else c.text)
                                  for c in chunks])
    names = {title: title_names(title) for title in {c.title for c in chunks}}
    return [t + names[c.title] for t, c in zip(terms, chunks)]



def _rows_by_doc(items: Sequence[Chunk] | Sequence[Sentence]) -> dict[str, list[int]]:
    """Document id → the positions of its items, in order."""
    rows: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        rows.setdefault(item.doc_id, []).append(i)
    return rows


def _attached(start: int, end: int, extras: Sequence[tuple[int, str]]) -> str:
    """The texts attached to offsets in ``[start, end)``, one per line."""
    return "".join(f"{text}\n" for at, text in extras if start <= at < end)


_BAR_UNITS = {"reading": "file", "chunking": "doc"}


class _StageBars:
    """Progress bars (rate, ETA) on stderr for reading and chunking; embedding and
    glossing draw their own. Passes every report on to `forward`."""

    def __init__(self, forward: Progress | None) -> None:
        self._forward = forward
        self._stage = ""
        self._bar: Any = None

    def step(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self.close()
            self._stage = stage
        if self._bar is None and stage in _BAR_UNITS and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=stage, unit=_BAR_UNITS[stage], file=sys.stderr)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if done >= total:
                self.close()  # done: the next stage may take a while to start (model load)
        if self._forward is not None:
            self._forward(stage, done, total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _load_previous(config: Config) -> Index | None:
    """The current index if it can be extended; None means build from scratch."""
    try:
        manifest = current_manifest(config)
        expected = build_settings(config, config.model, manifest.get("dim", 0))
        index = open_index(config, expected)
    except IndexNotFoundError:
        return None
    except (IndexMismatchError, IndexCorruptError) as exc:
        log.warning("rebuilding the whole index: %s", exc)
        return None
    # One precision per index, so that vectors old and new compare alike (an index from
    # before the setting existed was embedded in fp32).
    built_in, wanted = index_precision(index), encoder_precision(config)
    if built_in != wanted:
        log.warning("rebuilding the whole index: it was embedded in %s and "
                    "RAG_EMBED_PRECISION now gives %s", built_in, wanted)
        return None
    return index


def _embed(embedder: Embedder, texts: list[str], config: Config, progress: bool,
           watch: Watch) -> tuple[np.ndarray, int]:
    """Passage vectors for `texts` and how many came from the vector cache; a progress
    bar (rate, ETA) on stderr when asked. Each embedded batch goes to the cache at once,
    so an interrupted run loses at most one batch."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if not texts:
        return vectors, 0
    cache = (VectorCache(config.cache_dir / "vectors", embedder.name, cache_label(config),
                         embedder.dim) if config.embed_cache else None)
    try:
        cached = cache.get(texts) if cache else {}
        for i, vector in cached.items():
            vectors[i] = vector
        # Longest first, so each batch holds texts of about one length: little padding,
        # and an ETA that starts pessimistic rather than optimistic.
        missing = sorted((i for i in range(len(texts)) if i not in cached),
                         key=lambda i: -len(texts[i]))
        step = max(config.embed_batch_size * 4, 32)
        from tqdm import tqdm

        with tqdm(total=len(texts), initial=len(cached), desc="embedding", unit="text",
                  file=sys.stderr, disable=not progress) as bar:
            for lo in range(0, len(missing), step):
                watch.step("embedding", len(cached) + lo, len(texts))
                rows = missing[lo:lo + step]
                batch = [texts[i] for i in rows]
                out = embedder.embed_passages(batch)
                vectors[rows] = out
                if cache:
                    cache.put(batch, out)
                bar.update(len(rows))
        watch.step("embedding", len(texts), len(texts))
    finally:
        if cache:
            cache.close()
    return vectors, len(cached)
