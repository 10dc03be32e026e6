"""The index folder as numbered generations under one writer lock (git's and SQLite's rules).

Layout of an index folder::

    LOCK            held (flock) by the one process writing; holds its pid and start time
    gen-000007/     the current index: the highest-numbered generation holding a manifest
    gen-000006/     the one before, kept so a reader that just opened it can finish
    tmp-<pid>-<n>/  a generation being written; never read, removed by the next writer

A writer fills a ``tmp-`` folder, flushes it to disk, and publishes it with one rename
to the next ``gen-`` number: readers see the old complete index or the new complete one,
never a gap and never a mix. A crash at any step leaves the previous generation current;
the next writer removes what the crash left. Folders written by earlier versions (the
index files directly in the folder, or hidden ``.NAME.old-*`` siblings left by a crash
between two renames) are read and recovered.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import IndexCorruptError, IndexLockedError, IndexWriteError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LOCK = "LOCK"
_GENERATION = re.compile(r"gen-(\d{6,})")
_TEMPORARY = re.compile(r"tmp-\d+-\d+")
# What earlier versions wrote directly into the index folder.
_LEGACY = ("documents.jsonl", "chunks.jsonl", "embeddings.npy", "dense.faiss",
           "bm25_tokens.jsonl", "bm25", "sentences.jsonl", "sentence_embeddings.npy")


def _no_fault(step: str) -> None:
    """Called after each step of a commit; a crash test replaces it to die right there."""


reach: Callable[[str], None] = _no_fault


def current_dir(index_dir: Path) -> Path | None:
    """The folder holding the current index, or None where there is none."""
    index_dir = Path(index_dir)
    for _number, folder in reversed(_generations(index_dir)):
        if (folder / MANIFEST).is_file():
            return folder
    if (index_dir / MANIFEST).is_file():
        return index_dir  # written by an earlier version, before generations
    return None


def check_replaceable(index_dir: Path) -> None:
    """Raise unless `index_dir` is absent, empty, or holds only what an index holds."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexCorruptError(
            f"{index_dir} is a file, not an index folder: refusing to move it aside; "
            "choose another --index path or remove the file")
    if not index_dir.is_dir() or (index_dir / MANIFEST).is_file():
        return
    foreign = sorted(p.name for p in index_dir.iterdir() if not _ours(p.name))
    if foreign:
        shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
        raise IndexCorruptError(
            f"{index_dir} is not an index folder (it holds {shown}): refusing to write an "
            "index over it; choose another --index folder")


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock; IndexLockedError at once if another process holds it.

    The lock is an flock, so the kernel releases it when its holder dies, kill -9 included:
    a crash never leaves a stale lock behind. On entry, what an earlier crash left is
    cleaned up or recovered.
    """
    index_dir = Path(index_dir)
    check_replaceable(index_dir)
    path = index_dir / LOCK
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexWriteError(
            f"cannot write the index at {index_dir} ({exc.strerror or exc}); fix the "
            "folder's permissions or choose another --index folder") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise IndexLockedError(
                f"another process ({holder}) is updating the index at {index_dir}; "
                "try again when it has finished") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}".encode(), 0)
        _recover(index_dir)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def new_folder(index_dir: Path) -> Path:
    """An empty folder, inside the index folder, to write the next generation into."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(index_dir) / f"tmp-{os.getpid()}-{time.time_ns()}"
    folder.mkdir()
    return folder


def publish(index_dir: Path, folder: Path) -> Path:
    """Make the fully written `folder` the current generation; return its new path.

    The caller holds the writer lock. Files reach the disk before the rename that makes
    them current, and the rename before anything older is removed, so a power cut leaves
    either generation complete.
    """
    index_dir = Path(index_dir)
    for path in sorted(folder.rglob("*")):
        _fsync(path)
    _fsync(folder)
    reach("flushed")
    target = _next_generation(index_dir)
    os.rename(folder, target)
    _fsync(index_dir)
    reach("published")
    _remove_old(index_dir)
    return target


def discard(folder: Path) -> None:
    """Remove a generation that failed before it was published."""
    shutil.rmtree(folder, ignore_errors=True)


def _generations(index_dir: Path) -> list[tuple[int, Path]]:
    if not index_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in index_dir.iterdir()
             if (m := _GENERATION.fullmatch(p.name)) and p.is_dir()]
    return sorted(found)


def _next_generation(index_dir: Path) -> Path:
    numbers = [n for n, _ in _generations(index_dir)]
    return index_dir / f"gen-{(max(numbers, default=0) + 1):06d}"


def _ours(name: str) -> bool:
    return (name in (LOCK, MANIFEST, *_LEGACY) or bool(_GENERATION.fullmatch(name))
            or bool(_TEMPORARY.fullmatch(name)))


def _kept(index_dir: Path) -> list[Path]:
    """The current index and the one before it: a reader that opened that one a moment
    ago can finish (and one that was slower reads the current one instead)."""
    complete = [p for _, p in reversed(_generations(index_dir)) if (p / MANIFEST).is_file()]
    if (index_dir / MANIFEST).is_file():
        complete.append(index_dir)  # an earlier version's layout is the oldest
    return complete[:2]


def _remove_old(index_dir: Path) -> None:
    """Remove all but the kept indexes: older generations, unpublished folders, an
    earlier version's layout and the folders its crashes left beside the index."""
    keep = _kept(index_dir)
    if not keep:
        return
    legacy = index_dir / MANIFEST
    if index_dir not in keep and legacy.is_file():
        legacy.unlink()  # first, so a half-removed legacy index never looks complete
    for path in sorted(index_dir.iterdir()):
        stale = ((_GENERATION.fullmatch(path.name) or _TEMPORARY.fullmatch(path.name))
                 and path not in keep)
        if stale or (path.name in _LEGACY and index_dir not in keep):
            reach("removing")
            _remove(path)
    for sibling in _crash_siblings(index_dir):
        _remove(sibling)


def _recover(index_dir: Path) -> None:
    """Under the lock: adopt an index an earlier version's crash left beside the folder,
    then remove what crashes left."""
    if current_dir(index_dir) is None:
        for sibling in reversed(_crash_siblings(index_dir)):
            if ".old-" in sibling.name and (sibling / MANIFEST).is_file():
                log.warning("recovering the index left at %s by an interrupted update",
                            sibling)
                os.rename(sibling, _next_generation(index_dir))
                _fsync(index_dir)
                break
    _remove_old(index_dir)


def _crash_siblings(index_dir: Path) -> list[Path]:
    """Hidden ``.NAME.tmp-*`` and ``.NAME.old-*`` folders, oldest first."""
    parent, prefix = index_dir.parent, f".{index_dir.name}."
    if not parent.is_dir():
        return []
    found = [p for p in parent.iterdir() if p.is_dir()
             and (p.name.startswith(prefix + "tmp-") or p.name.startswith(prefix + "old-"))]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns)


def _remove(path: Path) -> None:
    # A leftover that cannot be removed costs disk space, not data: the next writer tries
    # again, so the update that is already published does not fail for it.
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove %s (%s); the next index update tries again", path, exc)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
