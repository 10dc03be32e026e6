"""One command from a SQuAD-format file to its scores: wall time and peak memory.

Converts the KorQuAD 1.0 dev articles in ../shared/datasets/korquad-dev (JSON lines, not
part of this repository: CC BY-ND, read it from there) back into SQuAD JSON, then runs

    rag eval --qa <file> --corpus-from-qa --corpus <dir> --index <dir> \
             --mode extractive --no-ablations --report <dir> --json

in a child process, from an empty corpus and index folder (so writing the articles,
indexing them with the real model and asking every question are all timed), and prints
what it took and the headline numbers; then it scores the report's TREC files again with
pytrec_eval and counts the questions whose numbers differ from the report's (0 expected).
The SQuAD file, corpus, index and report go to --work (default /tmp/rag-squad-eval), never
into the repository.

    .venv/bin/python bench/squad_eval.py --articles 20          # about 2 minutes on 2 cores
    .venv/bin/python bench/squad_eval.py --out docs/squad_eval.json   # all 126 articles
    .venv/bin/python bench/squad_eval.py --rescore /tmp/rag-squad-eval/report

`--articles N` takes the first N articles in file order (every question of each).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

log = logging.getLogger("bench.squad_eval")
ROOT = Path(__file__).resolve().parent.parent
KORQUAD = ROOT.parent / "shared" / "datasets" / "korquad-dev"


def korquad_to_squad(source: Path, target: Path, articles: int | None = None) -> dict:
    """Write the JSONL articles and questions in `source` as one SQuAD 1.1 file."""
    rows = [json.loads(line) for line in
            (source / "articles.jsonl").read_text(encoding="utf-8").splitlines() if line]
    if articles:
        rows = rows[:articles]
    questions: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for line in (source / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line:
            q = json.loads(line)
            questions[(q["article_index"], q["paragraph_index"])].append(q)
    data = []
    n = 0
    for article in rows:
        paragraphs = []
        for p, context in enumerate(article["paragraphs"]):
            qas = [{"id": q["id"], "question": q["question"],
                    # KorQuAD gives one start for its (single) answer.
                    "answers": [{"text": q["answers"][0], "answer_start": q["answer_start"]}]}
                   for q in questions[(article["article_index"], p)]]
            n += len(qas)
            paragraphs.append({"context": context, "qas": qas})
        data.append({"title": article["title"], "paragraphs": paragraphs})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"version": "KorQuAD_v1.0_dev", "data": data},
                                 ensure_ascii=False), encoding="utf-8")
    return {"articles": len(data), "questions": n,
            "characters": sum(len(p["context"]) for a in data for p in a["paragraphs"])}


def run_eval(squad: Path, work: Path, mode: str, limit: int | None) -> tuple[dict, float, float]:
    """Run `rag eval` on `squad` from empty folders; its result, wall seconds, peak MB."""
    for name in ("corpus", "index", "report"):
        shutil.rmtree(work / name, ignore_errors=True)
    command = [str(Path(sys.executable).parent / "rag"), "eval", "--qa", str(squad),
               "--corpus-from-qa", "--corpus", str(work / "corpus"), "--index",
               str(work / "index"), "--mode", mode, "--no-ablations", "--no-progress",
               "--report", str(work / "report"), "--json"]
    if limit:
        command += ["--limit", str(limit)]
    log.info("running %s", " ".join(command))
    started = time.perf_counter()
    # The vector cache would make a second run's indexing time a cache read, not a build.
    env = {**os.environ, "RAG_EMBED_CACHE": "false"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"rag eval failed ({done.returncode}):\n{done.stderr[-3000:]}")
    # The largest resident set of any child waited for: the rag process.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(done.stdout), seconds, peak_mb


def rescore(report: Path) -> dict:
    """Score the report's TREC files again with pytrec_eval's own parsers and evaluator:
    the per-question numbers must be the ones `rag eval` reported."""
    import pytrec_eval

    result = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    run = result["retrieval"][0]
    with open(report / "qrels.txt", encoding="utf-8") as f:
        qrels = pytrec_eval.parse_qrel(f)
    with open(report / "run-default.txt", encoding="utf-8") as f:
        ranking = pytrec_eval.parse_run(f)
    scored = pytrec_eval.RelevanceEvaluator(
        qrels, {"success.1,5,10", "recip_rank", "ndcg_cut.10"}).evaluate(ranking)
    pairs = {"recall@1": "success_1", "recall@5": "success_5", "recall@10": "success_10",
             "mrr@10": "recip_rank", "ndcg@10": "ndcg_cut_10"}
    differ = 0
    for row in run["per_query"]:
        m = scored.get(row["id"], {})  # not in qrels: nothing relevant, reported as 0
        differ += any(abs(row[ours] - m.get(theirs, 0.0)) > 1e-9
                      for ours, theirs in pairs.items())
    return {"questions": len(run["per_query"]), "judged": len(qrels),
            "questions_that_differ": differ}


def headline(result: dict) -> dict:
    run = result["retrieval"][0]["overall"]
    out = {k: run[k] for k in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10",
                               "recall@1000ch")}
    if result["answers"]:
        ko = result["answers"]["by_lang"].get("ko", {})
        out.update({k: ko.get(k) for k in ("answer_contains", "exact_match", "char_f1",
                                           "token_f1", "false_abstention")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--korquad", type=Path, default=KORQUAD)
    parser.add_argument("--articles", type=int, help="only the first N articles")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--mode", default="extractive", choices=("retrieval", "extractive"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-squad-eval"))
    parser.add_argument("--out", type=Path, help="also write the measurements as JSON here")
    parser.add_argument("--rescore", type=Path, metavar="REPORT",
                        help="only re-score an existing report's TREC files with pytrec_eval")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.rescore:
        sys.stdout.write(json.dumps(rescore(args.rescore), indent=2) + "\n")
        return
    if not (args.korquad / "articles.jsonl").is_file():
        raise SystemExit(f"no KorQuAD dev set in {args.korquad} (articles.jsonl, "
                         "questions.jsonl); give its folder with --korquad")
    squad = args.work / "korquad-dev.json"
    load_before = os.getloadavg()[0]
    size = korquad_to_squad(args.korquad, squad, args.articles)
    result, seconds, peak_mb = run_eval(squad, args.work, args.mode, args.limit)
    bench = {
        "command": f"bench/squad_eval.py --articles {args.articles or 'all'} --mode {args.mode}"
                   + (f" --limit {args.limit}" if args.limit else ""),
        **size, "asked": result["n_questions"], "mode": args.mode,
        "wall_s": round(seconds, 1), "eval_reported_s": result["seconds"],
        "peak_rss_mb": round(peak_mb, 1),
        "index_note": next((n for n in result["notes"] if n.startswith("indexed")), None),
        "load_1m_before": round(load_before, 2), "load_1m_after": round(os.getloadavg()[0], 2),
        "machine": result["machine"], "metrics": headline(result),
        "pytrec_eval_rescored": rescore(args.work / "report"),
        "report": result.get("report"),
    }
    text = json.dumps(bench, ensure_ascii=False, indent=2)
    sys.stdout.write(text + "\n")
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
