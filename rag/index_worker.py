"""A background thread for index updates, so questions keep being answered meanwhile.

One update runs at a time; its progress and outcome are read with `status()`, and
`cancel()` stops it before anything is published (the index stays as it was).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from .errors import IndexCancelledError, IndexLockedError, RagError, bilingual
from .indexing import Watch

log = logging.getLogger(__name__)

IDLE, RUNNING, DONE, FAILED, CANCELLED = "idle", "running", "done", "failed", "cancelled"


@dataclass(frozen=True)
class JobStatus:
    """Where the latest update stands; `result` is what the job returned once done."""

    state: str = IDLE
    stage: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    seconds: float = 0.0
    result: Any = None
    # The current stage: seconds in it, and `done` when it began (for its rate).
    stage_seconds: float = 0.0
    stage_from: int = 0

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def rate(self) -> float | None:
        """Items per second in the current stage; None until a second of it has passed."""
        if self.stage_seconds < 1.0 or self.done <= self.stage_from:
            return None
        return (self.done - self.stage_from) / self.stage_seconds

    @property
    def eta_seconds(self) -> float | None:
        """Seconds the current stage should still take at its rate so far."""
        rate = self.rate
        return None if rate is None or not self.total else max(self.total - self.done, 0) / rate

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("result")
        return data


class IndexWorker:
    """Runs one job at a time on a daemon thread; a second `start` while one runs is refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status = JobStatus()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._stage_started = 0.0

    def check_idle(self) -> None:
        """Raise IndexLockedError while a job runs."""
        with self._lock:
            self._check_idle()

    def start(self, job: Callable[[Watch], Any], what: str) -> JobStatus:
        """Run `job(watch)` in the background; `what` names it in messages."""
        with self._lock:
            self._check_idle()
            self._cancel = threading.Event()
            self._started = self._stage_started = time.monotonic()
            self._status = JobStatus(RUNNING, "starting", message=what)
            watch = Watch(self._progress, self._cancel)
            self._thread = threading.Thread(target=self._run, args=(job, watch, what),
                                            name="index-worker", daemon=True)
            self._thread.start()
            return self._status

    def status(self) -> JobStatus:
        with self._lock:
            if self._status.running:
                now = time.monotonic()
                return replace(self._status, seconds=now - self._started,
                               stage_seconds=now - self._stage_started)
            return self._status

    def cancel(self) -> bool:
        """Ask the running job to stop at its next step; False when none is running."""
        with self._lock:
            if not self._status.running:
                return False
            self._cancel.set()
            return True

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Block until the current job ends (or `timeout` passes); its status."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def _check_idle(self) -> None:
        if self._status.running:
            raise IndexLockedError(
                f"{self._status.message} is still running; wait for it to finish (or "
                "cancel it) and try again")

    def _progress(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if stage != self._status.stage:
                self._stage_started = time.monotonic()
                self._status = replace(self._status, stage_from=done)
            self._status = replace(self._status, stage=stage, done=done, total=total)

    def _run(self, job: Callable[[Watch], Any], watch: Watch, what: str) -> None:
        try:
            result = job(watch)
            state, message = DONE, what
        except RagError as exc:
            # A user's matter (a cancel, a damaged file, a full disk): one line, no traceback.
            log.warning("%s: %s", what, exc)
            result, message = None, bilingual(exc)
            state = CANCELLED if isinstance(exc, IndexCancelledError) else FAILED
        except Exception as exc:  # a defect: keep the traceback for the log
            log.exception("%s failed", what)
            result, message, state = None, f"internal error: {type(exc).__name__}: {exc}", FAILED
        with self._lock:
            self._status = replace(self._status, state=state, message=message, result=result,
                                   seconds=time.monotonic() - self._started)
