"""Reading a corpus folder: every report file of a supported format, each broken one
skipped with its reason while the rest are read."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import CorpusError
from .document import Document
from .formats import SUFFIXES, document_from_bytes, read_document, read_file
from .plain import make_doc_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that could not be read, and why (one line, with what to do)."""

    path: str
    reason: str


@dataclass(frozen=True)
class CorpusReading:
    documents: tuple[Document, ...]
    skipped: tuple[SkippedFile, ...]


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The report files under `corpus_dir` (supported suffixes, no hidden paths), sorted."""
    return scan_corpus(corpus_dir)[0]


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[SkippedFile]]:
    """The report files under `corpus_dir`, sorted, and every other file or folder found
    with why it is not read (hidden, another format, a folder that cannot be opened)."""
    files: list[Path] = []
    skipped: list[SkippedFile] = []

    def unreadable(error: OSError) -> None:
        skipped.append(SkippedFile(str(error.filename), f"cannot be opened ({error.strerror}); "
                                   "fix its permissions to index what it holds"))

    for folder, subfolders, names in os.walk(corpus_dir, onerror=unreadable):
        here = Path(folder)
        for name in sorted(n for n in subfolders if n.startswith(".")):
            skipped.append(SkippedFile(str(here / name), "a hidden folder (its name starts "
                                       "with '.'); rename it to index what it holds"))
        for name in sorted(n for n in subfolders if (here / n).is_symlink()):
            # Not followed: a link can point back up the tree or out of the collection.
            skipped.append(SkippedFile(str(here / name), "a link to a folder, not followed; "
                                       "copy or move the folder itself into the corpus"))
        subfolders[:] = sorted(n for n in subfolders
                               if not n.startswith(".") and not (here / n).is_symlink())
        for name in names:
            path = here / name
            if name.startswith("."):
                skipped.append(SkippedFile(str(path), "a hidden file (its name starts with "
                                           "'.'); rename it to index it"))
            elif path.suffix.lower() not in SUFFIXES:
                skipped.append(SkippedFile(str(path), "not a report format this tool reads; "
                                           f"save it as one of {', '.join(SUFFIXES)}"))
            elif path.is_file():
                files.append(path)
    return sorted(files), sorted(skipped, key=lambda s: s.path)


def read_corpus(corpus_dir: Path, ocr: Callable[[object], str] | None = None,
                known: Mapping[str, Document] | None = None,
                on_file: Callable[[int, int], None] | None = None) -> CorpusReading:
    """Read every report under `corpus_dir`.

    A file that cannot be read is skipped with its reason; the reading fails only when
    no file could be read. `known` maps file hashes to documents read before (the
    index's): a file whose bytes are unchanged is not parsed again. `on_file(files read,
    of how many)` is called before each file and once at the end (an exception it raises,
    a cancel, ends the reading).
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder {corpus_dir} does not exist; create it and put reports in it")
    paths, skipped = scan_corpus(corpus_dir)
    if not paths:
        found = "".join(f"; {Path(s.path).name}: {s.reason}" for s in skipped[:3])
        raise CorpusError(
            f"corpus folder {corpus_dir} holds no reports ({', '.join(SUFFIXES)}); "
            f"add at least one{found}")
    documents: list[Document] = []
    seen: dict[str, str] = {}
    for number, path in enumerate(paths):
        if on_file is not None:
            on_file(number, len(paths))
        doc_id = make_doc_id(path.relative_to(corpus_dir))
        if doc_id in seen:
            skipped.append(SkippedFile(str(path), f"maps to the same document id {doc_id!r} "
                                       f"as {seen[doc_id]}; rename one of them"))
            continue
        try:
            doc = _read(path, doc_id, ocr, known)
        except CorpusError as exc:
            log.info("skipped %s: %s", path, exc)
            skipped.append(SkippedFile(str(path), str(exc)))
            continue
        seen[doc_id] = str(path)
        documents.append(doc)
    if on_file is not None:
        on_file(len(paths), len(paths))
    if not documents:
        reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped[:5])
        raise CorpusError(f"no report in {corpus_dir} could be read ({reasons})")
    return CorpusReading(tuple(documents), tuple(skipped))


def _read(path: Path, doc_id: str, ocr: Callable[[object], str] | None,
          known: Mapping[str, Document] | None) -> Document:
    """The file's document: the one read before when its bytes are unchanged, else parsed
    from the bytes already read (each file is read from disk once)."""
    if not known or path.suffix.lower() in (".txt", ".md"):
        # Text files are cheaper to parse than to hash and look up.
        return read_document(path, doc_id=doc_id, ocr=ocr)
    raw = read_file(path)
    doc = known.get(hashlib.sha256(raw).hexdigest())
    if doc is not None and doc.doc_id == doc_id:
        return replace(doc, source=str(path))
    return document_from_bytes(path, raw, doc_id, ocr)
