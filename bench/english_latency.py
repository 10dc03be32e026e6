"""End-to-end search latency of English questions with the translation step.

Run from the repository root after `make setup llm` and `rag index`:

    .venv/bin/python bench/english_latency.py [--every 5] [--json]

Takes every n-th English question of eval/qa.jsonl and searches it three ways, model and
LLM loaded (load time excluded): new (an empty translation cache, so the LLM translates),
an exact repeat (translation and query vectors cached, what a user asking again pays),
and Korean questions for comparison. Medians from a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rag.config import Config
from rag.eval import latency_summary, load_qa
from rag.llm import load_generator
from rag.retrieval import Retriever
from rag.translation import Translator

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=5, help="take every n-th English question")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    items = load_qa(ROOT / "eval" / "qa.jsonl")
    english = [i.question for i in items if i.lang == "en" and i.answerable][1::args.every]
    korean = [i.question for i in items if i.lang == "ko" and i.answerable][1::args.every]
    config = Config.from_env(translate="on")
    with tempfile.TemporaryDirectory() as tmp:
        retriever = Retriever(config, translator=Translator(load_generator(config),
                                                            Path(tmp) / "translations.jsonl"))
        retriever.search("모델 준비", k=1)
        retriever.search("Which model is ready?", k=1)  # the LLM's first call, untimed
        new = [_time(retriever, q) for q in english]
        repeat = [_time(retriever, q) for q in english]
        ko = [_time(retriever, q) for q in korean]
    result = {"questions": len(english), "new_ms": latency_summary(new),
              "new_median_s": round(statistics.median(new) / 1000, 2),
              "repeat_ms": latency_summary(repeat), "korean_ms": latency_summary(ko)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:14} {value}")


def _time(retriever: Retriever, question: str) -> float:
    t = time.perf_counter()
    retriever.search(question, k=5)
    return (time.perf_counter() - t) * 1000


if __name__ == "__main__":
    main()
