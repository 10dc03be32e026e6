"""The two llama.cpp runtimes side by side: compiled llama-cpp-python against the prebuilt
xllamacpp wheel, on the same chats, the same model and the same settings.

Run from the repository root with both runtimes and the model installed:

    .venv/bin/python bench/llm_runtime.py [--questions 12] [--seed 0] [--json]

`llama-cpp-python+lookup` is the compiled runtime with prompt-lookup decoding (drafts
copied from the prompt, checked in one step; greedy, so the answers should not change).
The chats are the real ones: answerable questions of the project's set (Korean and
English, sampled with the seed), each retrieved and cut to the evidence budget as
`rag ask --mode llm` does. Each runtime runs in its own process (two copies of ggml in
one process would share symbols), loads the GGUF once, answers one warm-up question (it
evaluates the fixed rules and examples, which both keep between questions), then answers
the rest greedily. Reported per runtime: time to the first token, prompt tokens read per
question and the prompt rate, generation rate, and the answers; then whether the two gave
the same answer to each question.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("llama-cpp-python", "xllamacpp", "llama-cpp-python+lookup")


def chats(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` answerable questions of the project's set with the chat each would send."""
    from rag.answer import score_sentences
    from rag.config import Config
    from rag.eval.dataset import load_qa
    from rag.generation import build_messages, llm_evidence
    from rag.retrieval import Retriever

    config = Config.from_env()
    retriever = Retriever(config)
    items = [q for q in load_qa(ROOT / "eval" / "qa.jsonl") if q.answers]
    picked = random.Random(seed).sample(items, count + 1)
    out = []
    for item in picked:
        result = retriever.search(item.question, k=config.answer_passages)
        scored = score_sentences(retriever, result)
        evidence = llm_evidence(retriever, scored)
        out.append({"id": item.id, "question": item.question,
                    "messages": build_messages(result.query.text, evidence,
                                               result.query.reply_language)})
    return out


def run_llama_cpp_python(model: Path, prompts: list[dict[str, Any]], threads: int,
                         lookup: bool = False) -> list[dict[str, Any]]:
    import llama_cpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    # Prompt lookup drafts tokens by matching the last ones against the prompt: an answer
    # that copies a passage's words is checked several tokens per step.
    draft = LlamaPromptLookupDecoding(num_pred_tokens=10) if lookup else None
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=4096, n_threads=threads,
                          flash_attn=True, verbose=False, draft_model=draft)
    rows = []
    for chat in prompts:
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
        t0 = time.perf_counter()
        first = None
        pieces = []
        for chunk in llm.create_chat_completion(messages=chat["messages"], max_tokens=256,
                                                temperature=0.0, top_p=1.0, seed=0,
                                                stream=True):
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                first = first or time.perf_counter() - t0
                pieces.append(piece)
        total = time.perf_counter() - t0
        perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
        rows.append(_row(chat, first, total, perf.n_p_eval, perf.t_p_eval_ms, perf.n_eval,
                         perf.t_eval_ms, "".join(pieces)))
    return rows


def run_xllamacpp(model: Path, prompts: list[dict[str, Any]], threads: int
                  ) -> list[dict[str, Any]]:
    from rag.llm import XllamacppGenerator

    generator = XllamacppGenerator(model, 4096, threads)
    rows = []
    for chat in prompts:
        t0 = time.perf_counter()
        first = None
        pieces = []
        for piece in generator.stream(chat["messages"], 256):
            first = first or time.perf_counter() - t0
            pieces.append(piece)
        total = time.perf_counter() - t0
        t = generator.last_timings
        rows.append(_row(chat, first, total, t["prompt_n"], t["prompt_ms"], t["predicted_n"],
                         t["predicted_ms"], "".join(pieces)))
    return rows


def _row(chat: dict[str, Any], first: float | None, total: float, prompt_n: int,
         prompt_ms: float, gen_n: int, gen_ms: float, text: str) -> dict[str, Any]:
    return {"id": chat["id"], "first_token_s": round(first, 3) if first else None,
            "total_s": round(total, 3), "prompt_tokens": int(prompt_n),
            "prompt_per_s": round(prompt_n / prompt_ms * 1000, 1) if prompt_ms else None,
            "generated_tokens": int(gen_n),
            "generated_per_s": round(gen_n / gen_ms * 1000, 1) if gen_ms else None,
            "answer": text.strip()}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    timed = rows[1:]  # the first question evaluates the fixed prefix

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in timed if r[key] is not None), 3)

    # The prompt-reading limit: what the new prompt tokens take at the measured rate.
    limits = [r["prompt_tokens"] / r["prompt_per_s"] for r in timed if r["prompt_per_s"]]
    return {"first_token_s_p50": median("first_token_s"), "total_s_p50": median("total_s"),
            "prompt_tokens_p50": median("prompt_tokens"),
            "prompt_per_s_p50": median("prompt_per_s"),
            "generated_per_s_p50": median("generated_per_s"),
            "prompt_limit_s_p50": round(statistics.median(limits), 3),
            "prefix_first_token_s": rows[0]["first_token_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=list(RUNTIMES))
    parser.add_argument("--out", type=Path, help="also write the report (JSON) here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=RUNTIMES, help=argparse.SUPPRESS)
    parser.add_argument("--chats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from rag.config import Config
    from rag.llm import assemble_gguf

    model = assemble_gguf(Config.from_env().cache_dir)
    if args.worker:
        prompts = json.loads(args.chats.read_text(encoding="utf-8"))
        if args.worker == "xllamacpp":
            rows = run_xllamacpp(model, prompts, args.threads)
        else:
            rows = run_llama_cpp_python(model, prompts, args.threads,
                                        lookup=args.worker.endswith("+lookup"))
        print(json.dumps(rows, ensure_ascii=False))
        return
    prompts = chats(args.questions, args.seed)
    path = Path("/tmp") / f"llm-runtime-chats-{args.seed}.json"
    path.write_text(json.dumps(prompts, ensure_ascii=False), encoding="utf-8")
    report: dict[str, Any] = {"questions": args.questions, "seed": args.seed,
                              "threads": args.threads, "load_before": _load()}
    rows: dict[str, list[dict[str, Any]]] = {}
    for runtime in args.runtimes:
        out = subprocess.run([sys.executable, __file__, "--worker", runtime, "--chats",
                              str(path), "--threads", str(args.threads)],
                             check=True, capture_output=True, text=True)
        rows[runtime] = json.loads(out.stdout.strip().splitlines()[-1])
        report[runtime] = summary(rows[runtime])
    # Each runtime's answers against the first one's (the compiled llama-cpp-python).
    base, *others = rows
    for other in others:
        pairs = list(zip(rows[base], rows[other]))
        report[other]["same_answers_as_" + base] = sum(x["answer"] == y["answer"]
                                                      for x, y in pairs)
        report[other]["different"] = [{"id": x["id"], base: x["answer"], other: y["answer"]}
                                      for x, y in pairs if x["answer"] != y["answer"]]
    report["load_after"] = _load()
    report["rows"] = rows
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for runtime in rows:
        print(runtime, json.dumps(report[runtime], ensure_ascii=False))


def _load() -> float:
    return round(float(Path("/proc/loadavg").read_text().split()[0]), 2)


if __name__ == "__main__":
    main()
