"""Unanswerable questions for any corpus, without writing one: leave documents out.

N documents that have questions are drawn (seeded); an index of the corpus without them
is made from the full one (an incremental build that only removes, so nothing is
embedded again), and their questions are asked of it. Since only the left-out
documents answer them, every one should abstain.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import Config
from ..errors import QueryError
from ..indexing import build_index
from ..ingest import read_corpus
from ..store import in_database
from .dataset import QAItem


@dataclass(frozen=True)
class Holdout:
    """The documents left out, the index without them, and their questions."""

    doc_ids: tuple[str, ...]
    config: Config
    items: tuple[QAItem, ...]


def sources_of(item: QAItem) -> set[str]:
    """The documents that answer `item` (empty when the set does not say)."""
    docs = {s.doc for s in item.spans} | {d for d, g in item.qrels if g > 0}
    if not docs and item.doc:
        docs = {item.doc}
    return docs


def hold_out(config: Config, items: Sequence[QAItem], n: int, seed: int, work_dir: Path
             ) -> Holdout:
    """Leave `n` documents out of `config`'s corpus and index; their answerable
    questions, relabelled unanswerable, with ids ending in "@holdout"."""
    by_doc: dict[str, list[QAItem]] = {}
    for item in items:
        docs = sources_of(item)
        if item.answerable and len(docs) == 1:
            by_doc.setdefault(next(iter(docs)), []).append(item)
    documents = list(read_corpus(config.corpus_dir).documents)
    known = {d.doc_id for d in documents}
    candidates = sorted(d for d in by_doc if d in known)
    if n >= len(known) or n > len(candidates):
        raise QueryError(f"cannot leave {n} document(s) out: the corpus has {len(known)} and "
                         f"{len(candidates)} have questions; --holdout-docs must be smaller")
    chosen = sorted(random.Random(seed).sample(candidates, n))
    work_dir = Path(work_dir)
    corpus, index = work_dir / "corpus", work_dir / "index"
    shutil.rmtree(work_dir, ignore_errors=True)
    corpus.mkdir(parents=True)
    for doc in documents:
        if doc.doc_id not in chosen:
            target = corpus / Path(doc.source).relative_to(config.corpus_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(doc.source, target)
    # Start from the full index: the build sees only removals and embeds nothing.
    if in_database(config):
        from ..pg.store import copy_to_schema

        held = config.replace(corpus_dir=corpus, store=copy_to_schema(config.store,
                                                                      "rag_holdout"))
    else:
        shutil.copytree(config.index_dir, index)
        held = config.replace(corpus_dir=corpus, index_dir=index)
    build_index(held)
    questions = tuple(replace(q, id=f"{q.id}@holdout", doc=None, evidence=None, answers=(),
                              spans=(), qrels=(), type="holdout")
                      for d in chosen for q in by_doc[d])
    return Holdout(tuple(chosen), held, questions)
