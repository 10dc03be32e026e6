"""Ingestion benchmark: pages per second per format, and how faithfully each format's
text reproduces the text version's sentences.

    .venv/bin/python bench/ingest.py [--fixtures tests/fixtures/reports] [--repeat 3]

For every rendering of the corpus's reports (PDF, DOCX, HWPX under --fixtures), it
reads the file `--repeat` times (the embedding step is not part of this) and reports
the median seconds, pages per second, and the share of the .txt version's sentences
found verbatim in the file's stored text (and with spaces ignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.chunking import split_sentences  # noqa: E402
from rag.ingest import read_document  # noqa: E402

log = logging.getLogger("bench.ingest")


def fidelity(reference: str, text: str, sentences: list[str]) -> tuple[float, float]:
    squeezed = re.sub(r"\s+", "", text)
    exact = sum(s in text for s in sentences) / len(sentences)
    loose = sum(re.sub(r"\s+", "", s) in squeezed for s in sentences) / len(sentences)
    return exact, loose


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures" / "reports")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for fmt_dir in sorted(p for p in args.fixtures.iterdir() if p.is_dir()):
        for path in sorted(fmt_dir.iterdir()):
            reference = read_document(args.corpus / f"{path.stem}.txt")
            sentences = [s.text for s in split_sentences(reference) if len(s.text) >= 20]
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                doc = read_document(path)
                times.append(time.perf_counter() - started)
            seconds = statistics.median(times)
            pages = len(doc.pages) or 1
            exact, loose = fidelity(reference.text, doc.text, sentences)
            rows.append({"format": fmt_dir.name, "file": path.name, "pages": len(doc.pages),
                         "seconds": round(seconds, 3), "pages_per_s": round(pages / seconds, 1),
                         "sentences": len(sentences), "verbatim": round(exact, 3),
                         "verbatim_ignoring_spaces": round(loose, 3)})
    load = os.getloadavg()[0]
    print(f"{'format':6} {'file':36} {'pages':>5} {'s':>7} {'pages/s':>8} "
          f"{'verbatim':>8} {'no-space':>8}   (load {load:.2f}, {os.cpu_count()} cores)")
    for r in rows:
        print(f"{r['format']:6} {r['file']:36} {r['pages']:5d} {r['seconds']:7.3f} "
              f"{r['pages_per_s']:8.1f} {r['verbatim']:8.3f} {r['verbatim_ignoring_spaces']:8.3f}")
    if args.json:
        args.json.write_text(json.dumps({"load": load, "rows": rows}, ensure_ascii=False,
                                        indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
