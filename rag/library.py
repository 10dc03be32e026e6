"""The report library: every indexed report as a row, and taking reports out of the index.

Used by the UI's library panel; the index itself is only ever changed by build_index, so a
removal is a file leaving the corpus folder and an incremental update.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .embedding import Embedder
from .errors import CorpusError
from .indexing import IndexReport, Watch, build_index
from .ingest import Document
from .store import Index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LibraryRow:
    """One indexed report as the library lists it."""

    doc_id: str
    title: str
    format: str
    pages: int | None
    passages: int
    added: float | None  # the file's modification time; None when the file is gone
    state: str  # "indexed", or "file missing" when the corpus no longer holds it


def library_rows(index: Index) -> list[LibraryRow]:
    """Every report of `index`, by title."""
    passages = Counter(c.doc_id for c in index.chunks)
    rows = []
    for d in index.documents.values():
        try:
            added: float | None = Path(d.source).stat().st_mtime
        except OSError:
            added = None
        rows.append(LibraryRow(d.doc_id, d.title or d.doc_id, d.format,
                               len(d.pages) or None, passages[d.doc_id], added,
                               "indexed" if added is not None else "file missing"))
    return sorted(rows, key=lambda r: (r.title.casefold(), r.doc_id))


def remove_reports(config: Config, doc_ids: Collection[str], indexed: Mapping[str, Document],
                   embedder: Embedder | None = None, watch: Watch | None = None
                   ) -> tuple[list[Path], IndexReport]:
    """Take the reports `doc_ids` out of the corpus and the index.

    Their files are moved, not deleted, to ``<corpus>-removed/<time>/`` beside the corpus
    folder (returned), so a removal by mistake loses nothing and is found where the reports
    are; if the update fails they go back. CorpusError for an
    unknown id or a file outside the corpus folder.
    """
    unknown = sorted(set(doc_ids) - set(indexed))
    if unknown or not doc_ids:
        raise CorpusError(f"no indexed report {', '.join(unknown) or '(none given)'}; pick "
                          "one of the library's reports")
    corpus = config.corpus_dir.resolve()
    sources = []
    for doc_id in sorted(set(doc_ids)):
        source = Path(indexed[doc_id].source).resolve()
        if corpus not in source.parents:
            raise CorpusError(f"{doc_id}'s file {source.name} is not in the corpus folder "
                              f"{config.corpus_dir}; remove it there and run rag index")
        sources.append(source)
    folder = (config.corpus_dir.parent / f"{config.corpus_dir.name}-removed"
              / time.strftime("%Y%m%d-%H%M%S"))
    folder.mkdir(parents=True, exist_ok=True)
    moved: list[tuple[Path, Path]] = []
    try:
        for source in sources:
            if source.exists():
                target = folder / source.relative_to(corpus)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
                moved.append((source, target))
        report = build_index(config, embedder=embedder, watch=watch)
    except BaseException:
        for source, target in moved:
            source.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(target, source)
        raise
    log.info("removed %s; their files are in %s", ", ".join(sorted(doc_ids)), folder)
    return [target for _, target in moved], report
