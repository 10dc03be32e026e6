"""Which passages answer a question: judgments (qrels) and runs, in the units TREC tools read.

A unit is a chunk id, or a document id for sets judged per document (BEIR). How a
chunk is judged depends on what the test set records (rag.eval.dataset.QAItem): the
answer span inside the chunk's offsets, the evidence phrase in its text, or, when a set
gives only answers, an answer string in its text.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..chunking import Chunk
from .dataset import QAItem

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]


def normalize(text: str) -> str:
    """NFKC with all whitespace runs collapsed to one space: how evidence is matched."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Passage:
    """What a judgment reads of a passage: where it lies and its text."""

    unit: str
    doc_id: str
    start: int
    end: int
    text: str


class Judge:
    """Judges passages for questions; built once per index (chunks grouped by document,
    texts normalised once)."""

    def __init__(self, chunks: Sequence[Chunk], unit: str = "chunk") -> None:
        self.unit = unit
        self.chunks = list(chunks)
        self._by_doc: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in self.chunks:
            self._by_doc[chunk.doc_id].append(chunk)
        self._normal: dict[str, str] = {}

    def qrels(self, items: Iterable[QAItem]) -> Qrels:
        """Every relevant unit of the index per answerable question (grade ≥ 1), and for
        graded sets the judged non-relevant ones (grade 0)."""
        out: Qrels = {}
        for item in items:
            if not item.answerable:
                continue
            if item.qrels:
                out[item.id] = {doc: grade for doc, grade in item.qrels}
            else:
                out[item.id] = {c.chunk_id: 1 for c in self._candidates(item)
                                if self.evidence_end(item, _passage(c)) is not None}
        return out

    def evidence_end(self, item: QAItem, passage: Passage) -> int | None:
        """Where in `passage.text` the evidence ends (characters read to see it), or None
        when the passage is not relevant to `item`."""
        if item.qrels:
            grade = dict(item.qrels).get(passage.doc_id, 0)
            return len(passage.text) if grade > 0 else None
        if item.spans:
            ends = [s.end - passage.start for s in item.spans if s.doc == passage.doc_id
                    and passage.start <= s.start and s.end <= passage.end]
            return min(ends) if ends else None
        text = self._normalized(passage)
        needles = [item.evidence] if item.evidence is not None else list(item.answers)
        ends = [text.find(n) + len(n) for n in map(normalize, needles) if n and n in text]
        return min(ends) if ends else None

    def _candidates(self, item: QAItem) -> list[Chunk]:
        if item.spans:
            return [c for doc in {s.doc for s in item.spans} for c in self._by_doc.get(doc, [])]
        return self.chunks

    def _normalized(self, passage: Passage) -> str:
        key = f"{passage.unit}\x00{passage.start}"
        if key not in self._normal:
            self._normal[key] = normalize(passage.text)
        return self._normal[key]


def passages_of(hits: Sequence[object]) -> list[Passage]:
    """Hits (rag.retrieval.Hit) or chunks as passages."""
    return [Passage(h.chunk_id, h.doc_id, h.start, h.end, h.text) for h in hits]  # type: ignore[attr-defined]


def ranked_units(passages: Sequence[Passage], unit: str, depth: int) -> list[Passage]:
    """The first `depth` units in rank order: passages, or documents by their best one."""
    if unit == "chunk":
        return list(passages[:depth])
    seen: dict[str, Passage] = {}
    for p in passages:
        if p.doc_id not in seen:
            seen[p.doc_id] = Passage(p.doc_id, p.doc_id, p.start, p.end, p.text)
        if len(seen) == depth:
            break
    return list(seen.values())


def run_of(ranked: Sequence[Passage]) -> dict[str, float]:
    """A TREC run row for one query. Scores fall strictly with rank, so any tool that
    sorts by score (trec_eval breaks ties by id) sees exactly this order."""
    return {p.unit: float(len(ranked) - i) for i, p in enumerate(ranked)}


def _passage(chunk: Chunk) -> Passage:
    return Passage(chunk.chunk_id, chunk.doc_id, chunk.start, chunk.end, chunk.text)
