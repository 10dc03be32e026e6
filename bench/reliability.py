"""Reliability under load: questions during an upload, parallel questions, readers during
index updates, user errors in the log, and memory per request.

Run from the repository root after `make setup`:

    .venv/bin/python bench/reliability.py [--upload-kb 1024] [--json]

It copies corpus/ into a temporary folder, builds its index with the real model, and
serves the real UI (ui.launch) on a free local port. Then, over HTTP with gradio_client:

1. /search latency, idle, then while a report of --upload-kb KB is being indexed by the
   app's background worker (the same path a browser upload takes after the file has
   arrived); after --during samples the upload is cancelled, and the corpus and index
   must be as they were.
2. --parallel /ask requests at once: errors and latency.
3. bad requests (k "five", 2.5, 0, 10**9, doc_ids of numbers, an empty question):
   each must fail with one message, and the server's log must hold no traceback.
4. --requests /search calls: the process's RSS growth per request after a warm-up.
5. --readers threads that each load the index afresh and search, while the index is
   updated --updates times (a report added each time): every load must be a consistent
   index (checksums, counts) and every hit from that index.

Numbers on a shared 2-core machine are noisy: read the medians, with the load printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ["화웨이 어센드 910C 칩의 생산 수율은?", "중국의 생성형 AI 특허 출원 수는 몇 건인가?",
             "선전시의 AI 펀드 규모는?", "딥시크 V3 모델의 개발 비용은?",
             "How many generative AI users did China have in February 2025?"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-kb", type=int, default=1024)
    parser.add_argument("--during", type=int, default=30, help="searches during the upload")
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--requests", type=int, default=250)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--log", type=Path, help="keep a copy of the server's log here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        log_path = root / "server.log"
        with _stderr_to(log_path):
            logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                                format="%(levelname)s %(name)s: %(message)s")
            # Gradio prints to stdout ("Closing server…"): into the log, so --json is pure.
            with contextlib.redirect_stdout(sys.stderr):
                results = _run(args, root)
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        if args.log:
            shutil.copyfile(log_path, args.log)
        results["log"] = {"lines": log_text.count("\n"),
                          "tracebacks": log_text.count("Traceback (most recent call last)")}
    results["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        _print(results)


def _run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from gradio_client import Client

    import ui
    from rag.config import Config

    corpus = shutil.copytree(ROOT / "corpus", root / "corpus")
    config = Config.from_env(corpus_dir=corpus, index_dir=root / "index",
                             cache_dir=Path(os.environ.get("RAG_CACHE_DIR", Config().cache_dir)),
                             translate="off", lexicon="off", embed_cache=False)
    ui.prepare_index(config)
    app = ui.ReportApp(config)
    app.warm_up()
    port = _free_port()
    demo, url = ui.launch(app, port=port, block=False)
    try:
        client = Client(url, verbose=False)
        out: dict[str, Any] = {}
        out["upload"] = _search_during_upload(app, client, root, args)
        out["parallel_ask"] = _parallel_ask(url, args.parallel)
        out["bad_requests"] = _bad_requests(client)
        out["memory"] = _rss_per_request(client, args.requests)
        out["readers"] = _readers_during_updates(app, config, args.readers, args.updates)
        return out
    finally:
        demo.close()


def _search_during_upload(app: Any, client: Any, root: Path, args: argparse.Namespace
                          ) -> dict[str, Any]:
    idle = [_timed_search(client, QUESTIONS[i % len(QUESTIONS)]) for i in range(20)]
    corpus_before = sorted(p.name for p in app.config.corpus_dir.iterdir())
    generation = app.base.index.generation
    report = root / "upload" / "large-report.txt"
    report.parent.mkdir()
    report.write_text(_large_report(app, args.upload_kb * 1024), encoding="utf-8")
    size = report.stat().st_size
    started = time.perf_counter()
    app.start_upload([str(report)])
    while app.worker.status().stage != "embedding" and app.worker.status().running:
        time.sleep(0.2)
    during = []
    for i in range(args.during):
        if not app.worker.status().running:
            break
        during.append(_timed_search(client, QUESTIONS[i % len(QUESTIONS)]))
        time.sleep(0.5)
    progress = app.worker.status()
    asked = time.perf_counter()
    app.worker.cancel()
    final = app.worker.wait(600)
    return {
        "bytes": size,
        "idle_search_ms": _summary(idle),
        "search_during_upload_ms": _summary(during),
        "median_difference_ms": round(statistics.median(during) - statistics.median(idle), 1)
        if during else None,
        "embedded_when_cancelled": [progress.done, progress.total],
        "seconds_indexing_before_cancel": round(asked - started, 1),
        "cancel_seconds": round(time.perf_counter() - asked, 2),
        "state": final.state,
        "corpus_unchanged": sorted(p.name for p in app.config.corpus_dir.iterdir())
        == corpus_before,
        "index_unchanged": app.base.index.generation == generation,
    }


def _large_report(app: Any, size: int) -> str:
    # The seed reports' sentences, each with its own numbers, until the size is reached:
    # Korean report prose of the real kind, none of it a copy of an indexed text.
    sentences = [s.text for s in app.base.index.sentences if len(s.text) > 20]
    lines, total, n = ["대규모 업로드 시험 보고서", ""], 0, 0
    while total < size:
        text = f"{n + 1}. {sentences[n % len(sentences)]} (사례 {n + 1}: {n * 37 % 1000}건)"
        lines.append(text)
        total += len(text.encode("utf-8")) + 1
        n += 1
    return "\n".join(lines) + "\n"


def _parallel_ask(url: str, count: int) -> dict[str, Any]:
    from gradio_client import Client

    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def ask(i: int) -> None:
        client = Client(url, verbose=False)
        t0 = time.perf_counter()
        try:
            answer = client.predict(QUESTIONS[i % len(QUESTIONS)], api_name="/ask")
            assert answer["citations"] or answer["abstained"]
        except Exception as exc:  # counted: this is what the measurement is about
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
            return
        with lock:
            times.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": count, "errors": len(errors), "first_errors": errors[:3],
            "latency_ms": _summary(times), "wall_s": round(time.perf_counter() - t0, 1)}


def _bad_requests(client: Any) -> dict[str, Any]:
    cases = {"k='five'": {"k": "five"}, "k=2.5": {"k": 2.5}, "k=0": {"k": 0},
             "k=10**9": {"k": 10**9}, "doc_ids=[1, 2]": {"doc_ids": [1, 2]},
             "unknown doc id": {"doc_ids": ["no-such-report"]}}
    messages = {}
    for name, arguments in cases.items():
        for api in ("/search", "/ask"):
            messages[f"{api} {name}"] = _error_of(
                lambda a=arguments, e=api: client.predict(QUESTIONS[0], api_name=e, **a))
    messages["/ask empty question"] = _error_of(lambda: client.predict("  ", api_name="/ask"))
    return {"cases": len(messages), "refused": sum(m is not None for m in messages.values()),
            "messages": messages}


def _error_of(call: Any) -> str | None:
    try:
        call()
    except Exception as exc:  # the refusal is the expected outcome
        return str(exc).splitlines()[0][:160]
    return None


def _rss_per_request(client: Any, count: int) -> dict[str, Any]:
    for i in range(50):
        client.predict(QUESTIONS[i % len(QUESTIONS)], api_name="/search")
    # RSS after each quarter: a leak grows by the same step every quarter, while the
    # allocator's and Gradio's warm-up growth flattens out.
    before = _rss_kb()
    quarters = []
    for i in range(count):
        client.predict(f"{QUESTIONS[i % len(QUESTIONS)]} {i}", api_name="/search")
        if (i + 1) % max(1, count // 4) == 0:
            quarters.append(_rss_kb())
    after = _rss_kb()
    steps = [b - a for a, b in zip([before, *quarters], quarters, strict=False)]
    return {"requests": count, "rss_before_mb": round(before / 1024, 1),
            "rss_after_mb": round(after / 1024, 1),
            "kb_per_request": round((after - before) / count, 1),
            "kb_per_quarter": steps}


def _readers_during_updates(app: Any, config: Any, readers: int, updates: int
                            ) -> dict[str, Any]:
    from rag.indexing import build_index
    from rag.retrieval import Retriever

    embedder = app.base.embedder
    stop = threading.Event()
    loads: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def read(number: int) -> None:
        while not stop.is_set():
            try:
                retriever = Retriever(config, embedder=embedder)
                index = retriever.index
                counts = index.manifest["counts"]
                consistent = (len(index.chunks) == counts["chunks"] == index.dense.size
                              and len(index.documents) == counts["documents"])
                hits = retriever.search(QUESTIONS[number % len(QUESTIONS)], k=5).hits
                foreign = [h.doc_id for h in hits if h.doc_id not in index.documents]
                with lock:
                    loads.append(index.generation.name)
                    if not consistent or foreign:
                        problems.append(f"{index.generation.name}: consistent={consistent}, "
                                        f"hits from elsewhere={foreign}")
            except Exception as exc:  # counted: any failure is what this part measures
                with lock:
                    problems.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    for n in range(updates):
        (config.corpus_dir / f"update-{n}.txt").write_text(
            f"갱신 보고서 {n}\n\n{n + 1}차 갱신에서 지역 도서관 {n + 12}곳이 새로 문을 열었다.\n",
            encoding="utf-8")
        build_index(config, embedder=embedder)
    stop.set()
    for t in threads:
        t.join()
    return {"readers": readers, "updates": updates, "loads": len(loads),
            "generations_seen": sorted(set(loads)), "problems": len(problems),
            "first_problems": problems[:3], "wall_s": round(time.perf_counter() - t0, 1)}


def _timed_search(client: Any, question: str) -> float:
    t0 = time.perf_counter()
    client.predict(question, api_name="/search")
    return (time.perf_counter() - t0) * 1000


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(values), "p50": round(statistics.median(ordered), 1),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
            "max": round(ordered[-1], 1)}


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _stderr_to(path: Path):
    """The server's log (everything written to stderr) into `path`."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("w") as f:
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _print(results: dict[str, Any]) -> None:
    up, par, bad = results["upload"], results["parallel_ask"], results["bad_requests"]
    mem, rd, log = results["memory"], results["readers"], results["log"]
    print(f"load average {', '.join(f'{x:.2f}' for x in results['load_average'])}")
    print(f"search idle p50 {up['idle_search_ms'].get('p50')} ms; during a "
          f"{up['bytes'] / 1024:.0f} KB upload p50 {up['search_during_upload_ms'].get('p50')} "
          f"ms (max {up['search_during_upload_ms'].get('max')}), difference "
          f"{up['median_difference_ms']} ms; cancelled after {up['embedded_when_cancelled']} "
          f"texts in {up['cancel_seconds']} s: {up['state']}, corpus unchanged "
          f"{up['corpus_unchanged']}, index unchanged {up['index_unchanged']}")
    print(f"{par['requests']} parallel /ask: {par['errors']} errors, p50 "
          f"{par['latency_ms'].get('p50')} ms, wall {par['wall_s']} s")
    print(f"bad requests: {bad['refused']} of {bad['cases']} refused with a message")
    for name, message in bad["messages"].items():
        print(f"  {name}: {message}")
    print(f"memory: {mem['kb_per_request']} KB per request over {mem['requests']} "
          f"({mem['rss_before_mb']} → {mem['rss_after_mb']} MB)")
    print(f"{rd['readers']} readers during {rd['updates']} updates: {rd['loads']} loads of "
          f"{len(rd['generations_seen'])} generations, {rd['problems']} problems")
    print(f"server log: {log['lines']} lines, {log['tracebacks']} tracebacks")


if __name__ == "__main__":
    main()
