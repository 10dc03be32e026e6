"""Answers at once: how soon the cited text is there, and how soon the LLM follows.

Run from the repository root after `make setup llm` and `rag index`:

    .venv/bin/python bench/progressive.py [--questions 20] [--seed 0] [--json]

Model, index and LLM loaded and warm (one untimed question of each kind), as in the UI
or a `rag ask --batch`: the same path `rag ask` takes in one process. For a sample of the
project's answerable Korean questions (seeded; English questions add a translation call
before retrieval, measured by bench/english_latency.py):

- extractive mode: question → the final answer with its markers (what the CLI prints);
- LLM mode: question → the Draft event (the cited extractive answer, shown at once), then
  Draft → the model's first piece, against the prompt-reading limit of the same runtime:
  the prompt tokens it read anew for that question ÷ its prompt rate for them. A ratio
  near 1 means nothing but the new passages and question is read before the first token.

The browser's own time to the first cited text is measured by tests/test_ui_browser.py.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from rag.answer import Done, Draft, Retrieved, stream_answer
from rag.config import Config
from rag.eval import latency_summary, load_qa
from rag.llm import load_generator, pick_runtime
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent


class Timed:
    """The generator, with the moment of its first piece kept."""

    def __init__(self, generator: Any) -> None:
        self._generator = generator
        self.name = generator.name
        self.first: float | None = None

    @property
    def last_timings(self) -> dict[str, float]:
        return getattr(self._generator, "last_timings", {})

    def stream(self, messages, max_tokens, temperature=0.0):
        self.first = None
        for piece in self._generator.stream(messages, max_tokens, temperature):
            if self.first is None:
                self.first = time.perf_counter()
            yield piece


def extractive_ms(retriever: Retriever, question: str) -> float:
    t0 = time.perf_counter()
    for event in stream_answer(retriever, question, "extractive"):
        if isinstance(event, Done):
            return (time.perf_counter() - t0) * 1000
    raise AssertionError("no answer")


def llm_row(retriever: Retriever, generator: Timed, question: str) -> dict[str, Any] | None:
    t0 = time.perf_counter()
    draft_at = retrieved_at = None
    answer = None
    for event in stream_answer(retriever, question, "llm", generator=generator):
        if isinstance(event, Retrieved):
            retrieved_at = time.perf_counter()
        elif isinstance(event, Draft):
            draft_at = time.perf_counter()
        elif isinstance(event, Done):
            answer = event.answer
    if draft_at is None or generator.first is None or answer is None:
        return None  # abstained before the model was asked
    read = generator.last_timings
    # New prompt tokens ÷ the rate the runtime read them at: its own prompt time.
    limit_s = read["prompt_ms"] / 1000 if read.get("prompt_ms") else None
    after_draft = generator.first - draft_at
    return {"question": question, "retrieval_ms": round((retrieved_at - t0) * 1000, 1),
            "draft_ms": round((draft_at - t0) * 1000, 1),
            "first_token_after_draft_s": round(after_draft, 3),
            "prompt_tokens": read.get("prompt_n"),
            "prompt_limit_s": round(limit_s, 3) if limit_s else None,
            "ratio": round(after_draft / limit_s, 3) if limit_s else None,
            "final": answer.final}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    items = [i for i in load_qa(ROOT / "eval" / "qa.jsonl") if i.lang == "ko" and i.answerable]
    questions = [i.question for i in random.Random(args.seed).sample(items, args.questions)]
    config = Config.from_env()
    retriever = Retriever(config)
    generator = Timed(load_generator(config))
    load = [round(float(x), 2) for x in Path("/proc/loadavg").read_text().split()[:3]]
    extractive_ms(retriever, "준비 질문입니다")  # the model's first call, untimed
    llm_row(retriever, generator, questions[0])  # evaluates the fixed prompt prefix
    extractive = [extractive_ms(retriever, q) for q in questions]
    rows = [r for q in questions if (r := llm_row(retriever, generator, q))]
    ratios = [r["ratio"] for r in rows if r["ratio"]]

    def measured(key: str) -> list[float]:
        # A prompt the runtime found whole in its cache has no prompt time, hence no limit.
        return [r[key] for r in rows if r[key] is not None]

    result = {
        "questions": len(questions), "seed": args.seed, "load_before": load,
        "runtime": pick_runtime(config.llm_runtime) if not config.llm_url else config.llm_url,
        "extractive_answer_ms": latency_summary(extractive),
        "llm_draft_ms": latency_summary(measured("draft_ms")),
        "llm_first_token_after_draft_s": latency_summary(
            measured("first_token_after_draft_s")),
        "prompt_tokens": latency_summary(measured("prompt_tokens")),
        "prompt_limit_s": latency_summary(measured("prompt_limit_s")),
        "ratio_to_limit": latency_summary(ratios),
        "llm_final": {k: sum(r["final"] == k for r in rows) for k in ("llm", "extractive")},
        "load_after": [round(float(x), 2) for x in Path("/proc/loadavg").read_text().split()[:3]],
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    for key in ("extractive_answer_ms", "llm_draft_ms", "llm_first_token_after_draft_s",
                "prompt_tokens", "prompt_limit_s", "ratio_to_limit", "llm_final"):
        print(f"{key}: {result[key]}")
    print(f"ratio p50 {statistics.median(ratios):.2f} over {len(ratios)} LLM answers")


if __name__ == "__main__":
    main()
