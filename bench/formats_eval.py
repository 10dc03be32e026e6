"""Retrieval and answers on the reports as PDF, DOCX and HWPX, against the text corpus.

    .venv/bin/python bench/formats_eval.py [--out docs/formats_eval.json] [--work DIR]

For the .txt corpus and each rendering under tests/fixtures/reports/<format>/ it builds
an index (in --work, outside the repository), runs `rag eval` on eval/qa.jsonl in
extractive mode, and prints Recall@5 and MRR@10 by language, answer contains and
false abstention, with each format's difference from the text corpus. For the PDF
index it then checks every citation's page: the cited sentence must be printed on the
page the citation names (compared without spaces against PDFium's text of that page).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAG = str(Path(sys.executable).with_name("rag"))
FORMATS = {"txt": ROOT / "corpus", "pdf": ROOT / "tests/fixtures/reports/pdf",
           "docx": ROOT / "tests/fixtures/reports/docx",
           "hwpx": ROOT / "tests/fixtures/reports/hwpx"}
log = logging.getLogger("bench.formats")


def run_format(fmt: str, corpus: Path, work: Path, qa: Path) -> dict:
    index = work / fmt / "index"
    # No vector cache: each format's build time is a real build.
    env = {**os.environ, "RAG_CORPUS_DIR": str(corpus), "RAG_INDEX_DIR": str(index),
           "RAG_EMBED_CACHE": "false"}
    started = time.perf_counter()
    subprocess.run([RAG, "index", "--rebuild", "--no-progress"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    indexed = time.perf_counter() - started
    out = subprocess.run([RAG, "eval", "--qa", str(qa), "--mode", "extractive",
                          "--no-ablations", "--json", "--no-progress"], env=env, check=True,
                         cwd=ROOT, capture_output=True, text=True).stdout
    metrics = json.loads(out)
    default = metrics["retrieval"][0]
    row = {"format": fmt, "index_seconds": round(indexed, 1)}
    for lang in ("ko", "en"):
        r = default["by_lang"][lang]
        a = metrics["answers"]["by_lang"][lang]
        row[lang] = {"recall@5": r["recall@5"], "mrr@10": r["mrr@10"],
                     "answer_contains": a["answer_contains"],
                     "false_abstention": a["false_abstention"],
                     "abstention_recall": a["abstention_recall"]}
    return row


def check_pdf_pages(work: Path, qa: Path, sample: int) -> dict:
    """Ask every answerable question of `qa` against the PDF index and check each
    citation's page on the PDF itself."""
    import pypdfium2 as pdfium

    sys.path.insert(0, str(ROOT))
    from rag.answer import answer_question
    from rag.config import Config
    from rag.retrieval import Retriever

    config = Config.from_env(corpus_dir=FORMATS["pdf"], index_dir=work / "pdf" / "index")
    retriever = Retriever(config)
    pages: dict[str, list[str]] = {}
    for path in FORMATS["pdf"].glob("*.pdf"):
        pdf = pdfium.PdfDocument(str(path))
        pages[path.stem] = [re.sub(r"\s+", "", pdf[i].get_textpage().get_text_bounded())
                            for i in range(len(pdf))]
        pdf.close()
    checked, wrong, shown = 0, [], []
    for line in qa.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if not item.get("answers"):
            continue
        answer = answer_question(retriever, item["question"], "extractive")
        for c in answer.citations:
            quote = c.text if c.quote_start is None else \
                c.text[c.quote_start - c.start:c.quote_end - c.start]
            # The quote's first 25 characters (a quote may run onto the next page; a
            # table row's cells may be printed in another order: its first cell).
            probe = re.sub(r"\s+", "", quote.split("\t")[0])[:25].replace("-", "")
            printed = pages[c.doc_id][c.page - 1].replace("\x02", "").replace("-", "")
            checked += 1
            if probe not in printed:
                wrong.append({"id": item["id"], "doc": c.doc_id, "page": c.page,
                              "quote": quote[:80]})
            if len(shown) < sample:
                shown.append({"id": item["id"], "doc": c.doc_id, "page": c.page,
                              "quote": quote[:90]})
    return {"citations": checked, "wrong": wrong, "sample": shown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, default=ROOT / "eval" / "qa.jsonl")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-formats-eval"))
    parser.add_argument("--out", type=Path, help="write the table as JSON here")
    parser.add_argument("--sample", type=int, default=20, help="citations listed to check by eye")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = [run_format(fmt, corpus, args.work, args.qa) for fmt, corpus in FORMATS.items()]
    base = rows[0]
    print(f"{'format':6} {'lang':4} {'R@5':>6} {'ΔR@5':>7} {'MRR@10':>7} {'ΔMRR':>7} "
          f"{'contains':>8} {'false-abst':>10} {'abst-recall':>11} {'index s':>8}")
    for row in rows:
        for lang in ("ko", "en"):
            r, b = row[lang], base[lang]
            print(f"{row['format']:6} {lang:4} {r['recall@5']:6.3f} "
                  f"{r['recall@5'] - b['recall@5']:+7.3f} {r['mrr@10']:7.3f} "
                  f"{r['mrr@10'] - b['mrr@10']:+7.3f} {r['answer_contains']:8.3f} "
                  f"{r['false_abstention']:10.3f} {r['abstention_recall']:11.3f} "
                  f"{row['index_seconds']:8.1f}")
    pages = check_pdf_pages(args.work, args.qa, args.sample)
    print(f"\nPDF citations: {pages['citations']} checked, {len(pages['wrong'])} with a page "
          f"that does not print the quote")
    for w in pages["wrong"]:
        print(f"  ✗ {w['id']} {w['doc']} p. {w['page']}: {w['quote']}")
    print(f"\nfirst {len(pages['sample'])} citations, to check against the printed PDF:")
    for s in pages["sample"]:
        print(f"  {s['id']} {s['doc']} p. {s['page']}: {s['quote']}")
    if args.out:
        args.out.write_text(json.dumps({"load": os.getloadavg()[0], "rows": rows,
                                        "pdf_pages": pages}, ensure_ascii=False, indent=1)
                            + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
