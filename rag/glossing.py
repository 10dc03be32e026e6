"""Glossing an index's new Korean words in the background, so a server answers at once.

`rag index` glosses in the foreground (it says so and can be stopped); a server publishes
the index first and glosses here, on a thread of its own, one run at a time. Each batch
is cached as it is glossed, and retrievers re-read the cache when it grows, so English
questions use the lexicon as far as it is built.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from .config import Config
from .errors import RagError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GlossStatus:
    """Where background glossing stands: words asked so far, of how many."""

    running: bool = False
    done: int = 0
    total: int = 0
    glossed: int = 0
    error: str = ""


class BackgroundGlossing:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._status = GlossStatus()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> bool:
        """Gloss the current index's new words unless a run is going; whether one started."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._stop.clear()
            self._status = GlossStatus(running=True)
            self._thread = threading.Thread(target=self._run, name="rag-glossing",
                                            daemon=True)
            self._thread.start()
            return True

    def status(self) -> GlossStatus:
        with self._lock:
            return self._status

    def wait(self, timeout: float | None = None) -> GlossStatus:
        """The status once the run in flight has finished (or `timeout` seconds passed)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def stop(self, timeout: float | None = None) -> GlossStatus:
        """Stop after the batch in flight (waiting up to `timeout` seconds for it)."""
        self._stop.set()
        return self.wait(timeout)

    def _run(self) -> None:
        from .indexing import gloss_index

        glossed, error = 0, ""
        try:
            glossed = gloss_index(self._config, on_batch=self._progress, stop=self._stop)
        except RagError as exc:
            error = str(exc)
            log.warning("glossing for English questions stopped: %s", exc)
        except Exception as exc:  # the model's own failure: said in the UI and the log
            error = f"{type(exc).__name__}: {exc}"
            log.exception("glossing for English questions failed")
        with self._lock:
            self._status = GlossStatus(False, self._status.done, self._status.total,
                                       glossed, error)
        if glossed:
            log.info("glossed %d Korean words for English questions", glossed)

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._status = GlossStatus(True, done, total)
