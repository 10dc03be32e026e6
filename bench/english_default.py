"""English questions in the default install: right, honestly unsure, or confidently wrong.

Run from the repository root after `make setup` and `rag index --no-gloss`:

    .venv/bin/python bench/english_default.py [--questions 20] [--seed 19] [--json]

`make run` installs no local LLM, so English questions get neither a translation nor the
glossed lexicon. This asks the UI's English example questions and a seeded sample of the
project's answerable English questions through the same path as the UI (stream_answer,
extractive), with translation and lexicon off whatever is installed here, and sorts each
answer:

- right: it contains a gold answer and is not marked unsure;
- right, unsure: it contains one and is marked unsure (Answer.unsure);
- unsure: marked unsure, without the gold answer (the quote is shown as a lead, not a fact);
- abstained: "not in the reports";
- confident wrong: not marked unsure and without the gold answer. The goal is none.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rag.answer import Done, stream_answer
from rag.config import Config
from rag.eval import load_qa
from rag.eval.metrics import answer_contains, strip_markers
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("bench.english_default")


def verdict(answer: Any, gold: list[str] | None) -> str:
    """The answer's class (see the module docstring); `gold` None: no gold (an example)."""
    if answer.abstained:
        return "abstained"
    if gold is None:
        return "unsure" if answer.unsure else "answered"
    right = answer_contains(strip_markers(answer.answer), gold)
    if answer.unsure:
        return "right, unsure" if right else "unsure"
    return "right" if right else "confident wrong"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--qa", type=Path, default=ROOT / "eval" / "qa.jsonl")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)

    import ui  # the examples the UI shows

    config = Config.from_env().replace(translate="off", lexicon="off")
    retriever = Retriever(config)
    english = [q for q in load_qa(args.qa) if q.lang == "en" and q.answers
               and q.type != "unanswerable"]
    sample = sorted(random.Random(args.seed).sample(english, args.questions),
                    key=lambda q: q.id)
    asked = [("example", q, None) for q in ui.EXAMPLES if q.isascii()]
    asked += [(q.id, q.question, list(q.answers)) for q in sample]
    rows = []
    for ident, question, gold in asked:
        answer = None
        for event in stream_answer(retriever, question, "extractive"):
            if isinstance(event, Done):
                answer = event.answer
        assert answer is not None
        rows.append({"id": ident, "question": question, "gold": gold,
                     "verdict": verdict(answer, gold), "answer": answer.answer,
                     "unsure": answer.unsure})
    counts = Counter(r["verdict"] for r in rows if r["gold"] is not None)
    if args.json:
        json.dump({"seed": args.seed, "rows": rows, "counts": counts}, sys.stdout,
                  ensure_ascii=False, indent=1)
        print()
    for r in rows:
        log.info("%-10s %-16s %s", r["id"], r["verdict"], r["question"])
    log.info("%d sampled questions: %s", sum(counts.values()), dict(counts))
    return 1 if counts["confident wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
