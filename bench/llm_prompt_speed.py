"""Time to the first token of the local LLM, with and without flash attention.

Run from the repository root after `make setup llm`:

    .venv/bin/python bench/llm_prompt_speed.py [--repeats 2]

Loads the GGUF once per setting, answers one question to evaluate the fixed prompt prefix
(rules and worked examples, which llama.cpp keeps between answers), then times the first
token of three more, each over a 400-character Korean passage of the KISTEP brief (~290
new tokens: what every question pays). Feeds the flash-attention note in docs/tuning.md.
Medians from a shared 2-core machine are noisy: compare runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

from rag.config import Config
from rag.generation import build_messages
from rag.llm import assemble_gguf

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "corpus" / "kistep-global-ai-china-2025.txt"


def first_token_seconds(llm, messages: list[dict[str, str]]) -> float:
    t0 = time.perf_counter()
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=8, temperature=0,
                                            stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            break
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from llama_cpp import Llama

    path = str(assemble_gguf(Config.from_env().cache_dir))
    text = REPORT.read_text(encoding="utf-8")
    passages = [" ".join(text[i:i + 400].split()) for i in (3000, 4000, 5000, 6000)]
    # build_messages reads only the text of each evidence sentence.
    prompts = [build_messages("이 글의 요지는?", [(None, [SimpleNamespace(text=p)])], "ko")
               for p in passages]
    rows = []
    for _ in range(args.repeats):
        for flash in (False, True):
            llm = Llama(model_path=path, n_ctx=4096, n_threads=2, flash_attn=flash,
                        verbose=False)
            first_token_seconds(llm, prompts[0])
            times = [first_token_seconds(llm, m) for m in prompts[1:]]
            new_tokens = len(llm.tokenize(passages[1].encode()))
            rows.append({"flash_attn": flash, "new_tokens": new_tokens,
                         "first_token_s": [round(t, 2) for t in times],
                         "median_s": round(statistics.median(times), 2)})
            print(json.dumps(rows[-1]), flush=True)
            del llm


if __name__ == "__main__":
    main()
