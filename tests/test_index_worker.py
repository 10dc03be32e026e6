"""The background worker for index updates: progress, one job at a time, cancel, and
failures reported as one line (a traceback only for a defect)."""

from __future__ import annotations

import logging
import threading

import pytest

from rag import render
from rag.errors import CorpusError, IndexCancelledError, IndexLockedError
from rag.index_worker import CANCELLED, DONE, FAILED, IDLE, IndexWorker, JobStatus


def test_a_job_runs_in_the_background_and_reports_its_progress() -> None:
    worker = IndexWorker()
    assert worker.status().state == IDLE
    release = threading.Event()

    def job(watch):
        watch.step("embedding", 3, 10)
        release.wait(10)
        return ["result"]

    assert worker.start(job, "indexing 1 file").running
    for _ in range(100):
        if worker.status().stage == "embedding":
            break
        threading.Event().wait(0.01)
    status = worker.status()
    assert (status.state, status.stage, status.done, status.total) == ("running", "embedding",
                                                                       3, 10)
    with pytest.raises(IndexLockedError, match="indexing 1 file is still running"):
        worker.start(job, "another")
    with pytest.raises(IndexLockedError):
        worker.check_idle()
    release.set()
    status = worker.wait(10)
    assert status.state == DONE and status.result == ["result"] and status.seconds >= 0
    assert set(status.to_dict()) == {"state", "stage", "done", "total", "message", "seconds",
                                     "stage_seconds", "stage_from"}
    worker.check_idle()  # free again


def test_cancel_stops_the_job_at_its_next_step() -> None:
    worker = IndexWorker()
    started = threading.Event()

    def job(watch):
        started.set()
        while True:
            watch.step("embedding", 0, 1)
            threading.Event().wait(0.01)

    worker.start(job, "indexing")
    started.wait(10)
    assert worker.cancel()
    status = worker.wait(10)
    assert status.state == CANCELLED and "index is unchanged" in status.message
    assert not worker.cancel()  # nothing left to cancel


def test_a_users_error_is_one_line_and_a_defect_keeps_its_traceback(caplog) -> None:
    worker = IndexWorker()

    def bad_file(watch):
        raise CorpusError("scan.pdf is damaged; save it again")

    with caplog.at_level(logging.WARNING):
        worker.start(bad_file, "indexing")
        status = worker.wait(10)
    # In both languages: the UI shows it as it is.
    assert status.state == FAILED
    assert status.message == "보고서 파일을 처리할 수 없습니다 · scan.pdf is damaged; save it again"
    assert all(r.exc_info is None for r in caplog.records)
    caplog.clear()

    def defect(watch):
        raise KeyError("chunk")

    with caplog.at_level(logging.WARNING):
        worker.start(defect, "indexing")
        status = worker.wait(10)
    assert status.state == FAILED and status.message.startswith("internal error: KeyError")
    assert any(r.exc_info for r in caplog.records)


def test_a_cancel_error_from_elsewhere_counts_as_cancelled() -> None:
    worker = IndexWorker()

    def job(watch):
        raise IndexCancelledError("indexing was cancelled; the index is unchanged")

    worker.start(job, "indexing")
    assert worker.wait(10).state == CANCELLED


def test_a_stage_has_a_rate_and_an_eta_from_its_own_progress() -> None:
    # 40 texts embedded in 8 s since the stage began at text 0: 5/s, 12 s for the other 60.
    status = JobStatus("running", "embedding", 40, 100, "indexing", 30.0, None, 8.0, 0)
    assert status.rate == 5.0 and status.eta_seconds == 12.0
    line = render.upload_progress(status)
    assert "40/100" in line and "5.0/s" in line and "ETA 0:12" in line
    # A stage just begun, or one without a total, promises nothing.
    assert JobStatus("running", "embedding", 3, 100, stage_seconds=0.5).eta_seconds is None
    assert JobStatus("running", "reading", 5, 0, stage_seconds=9.0).eta_seconds is None
    assert "ETA" not in render.upload_progress(JobStatus("running", "reading", 5, 0,
                                                         stage_seconds=9.0))
    slow = JobStatus("running", "embedding", 10, 50_000, stage_seconds=10.0)
    assert "ETA 13:53:10" in render.upload_progress(slow)


def test_the_rate_counts_from_where_the_stage_began() -> None:
    worker = IndexWorker()
    release = threading.Event()

    def job(watch):
        watch.step("chunking", 7, 7)
        watch.step("embedding", 0, 100)
        watch.step("embedding", 20, 100)
        release.wait(10)

    worker.start(job, "indexing")
    for _ in range(200):
        if worker.status().done == 20:
            break
        threading.Event().wait(0.01)
    status = worker.status()
    assert status.stage == "embedding" and status.stage_from == 0
    release.set()
    worker.wait(10)
