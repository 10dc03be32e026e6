"""Adding uploaded report files to the corpus and the index, each with its own result.

Each file is checked (size, name, read in its format, not a copy of an indexed report)
before it is copied into the corpus; one that fails is skipped with its reason and the
others are still added. If the index update fails or is cancelled, the copied files are
removed again, so the corpus and the index never disagree.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .config import Config
from .embedding import Embedder
from .errors import CorpusError
from .indexing import IndexReport, Watch, build_index
from .ingest import SUFFIXES, Document, corpus_files, make_doc_id, read_document
from .ingest.ocr import page_reader
from .store import current_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadResult:
    """What became of one uploaded file: "indexed" (as doc_id) or "skipped", and why."""

    name: str
    doc_id: str
    status: str
    detail: str


def stage_uploads(paths: Sequence[str | Path], staging: Path) -> list[Path]:
    """Move uploaded files out of the web server's temporary folder into `staging`.

    Moved, not copied: a file left in the server's upload folder stays downloadable
    there, refused or not.
    """
    staging.mkdir(parents=True, exist_ok=True)
    staged = []
    for number, path in enumerate(paths):
        source = Path(path)
        # One folder per file keeps two uploads with the same name apart.
        target = staging / str(number) / source.name
        target.parent.mkdir()
        try:
            shutil.move(source, target)
        except OSError as exc:
            # Kept in the list: add_uploads reports it as unreadable, as the file is not there.
            log.warning("cannot take the upload %s: %s", source.name, exc)
        staged.append(target)
    return staged


def add_uploads(config: Config, files: Sequence[Path], indexed: Mapping[str, Document],
                embedder: Embedder | None = None, watch: Watch | None = None
                ) -> tuple[list[UploadResult], IndexReport | None]:
    """Copy the readable `files` into the corpus and bring the index up to date.

    `indexed` is the current index's documents (their ids and text hashes). Returns a
    result per file and the index report (None when no file was added).
    """
    results: list[UploadResult] = []
    placed: list[tuple[str, str, Path, Document]] = []
    taken: set[str] = set()
    seen = {d.sha256: d.doc_id for d in indexed.values()}
    for path in files:
        try:
            name, doc_id, document = _check_upload(config, path, indexed, taken, seen)
        except CorpusError as exc:
            # The staging folder is the server's business, not the user's.
            reason = str(exc).replace(f"{path.parent}{os.sep}", "")
            results.append(UploadResult(path.name, "", "skipped", reason))
            continue
        target = config.corpus_dir / name
        shutil.copyfile(path, target)
        taken.add(doc_id)
        seen[document.sha256] = doc_id
        placed.append((name, doc_id, target, document))
    if not placed:
        return results, None
    try:
        # The documents just read are handed on: a PDF or HWP is not parsed (or read by
        # OCR, minutes for a scan) a second time.
        report = build_index(config, embedder=embedder, watch=watch,
                             read=[doc for *_, doc in placed])
    except BaseException:
        for _, _, target, _ in placed:
            target.unlink(missing_ok=True)
        raise
    counts = current_manifest(config)["documents"]
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    for name, doc_id, _, doc in placed:
        if doc_id not in counts:
            results.append(UploadResult(name, doc_id, "skipped",
                                        skipped.get(name, "it was not indexed")))
            continue
        pages = f", {len(doc.pages)} pages" if doc.pages else ""
        results.append(UploadResult(name, doc_id, "indexed",
                                    f"{doc.title} ({doc.format}{pages}): "
                                    f"{counts[doc_id]['chunks']} passages, searchable now"))
    return results, report


def safe_report_name(filename: str) -> str:
    """A file name for the corpus folder: no folders, no odd characters, a report suffix."""
    base = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUFFIXES:
        raise CorpusError(f"{base!r} is not a report file this tool reads; add "
                          f"{', '.join(SUFFIXES)}")
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-_")[:80] or "report"
    return f"{stem}.{suffix.lower()}"


def _check_upload(config: Config, path: Path, indexed: Mapping[str, Document],
                  taken: set[str], seen: Mapping[str, str]) -> tuple[str, str, Document]:
    """A safe, unused corpus file name, its document id and the document read."""
    name = safe_report_name(path.name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CorpusError(f"cannot read the upload {path.name}: {exc.strerror or exc}; "
                          "upload it again") from exc
    limit = config.max_upload_mb * 1024 * 1024
    if size > limit:
        raise CorpusError(f"{path.name} is {size:,} bytes; reports up to {limit:,} bytes "
                          f"({config.max_upload_mb} MB, setting max_upload_mb) can be added")
    # The file is read in its format first (by OCR where its pages are images, as the
    # index would): one that would break the index is refused.
    document = read_document(path, ocr=page_reader(config.ocr))
    if document.sha256 in seen:
        raise CorpusError(f"{name} has the same text as the report {seen[document.sha256]}; "
                          "nothing to add")
    corpus = config.corpus_dir
    taken = taken | {make_doc_id(p.relative_to(corpus)) for p in corpus_files(corpus)}
    taken |= set(indexed)
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 1
    while make_doc_id(Path(candidate)) in taken or (corpus / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}.{suffix}"
    doc_id = make_doc_id(Path(candidate))
    # As the index would read the file under its corpus name (the title falls back to it).
    title = Path(candidate).stem if document.title == path.stem else document.title
    return candidate, doc_id, replace(document, doc_id=doc_id, title=title,
                                      source=str(corpus / candidate))
