"""Time to the first token of the local LLM under llama.cpp settings, side by side.

Run from the repository root after `make setup llm`:

    .venv/bin/python bench/llm_prompt_speed.py [--repeats 2] [--settings flash no-flash ...]

Loads the GGUF once per setting, answers one question to evaluate the fixed prompt prefix
(rules and worked examples, which llama.cpp keeps between answers), then times the first
token of three more, each over a 400-character Korean passage of the KISTEP brief (~300
new tokens: what every question pays). Settings:

- `flash`: what rag/llm.py runs (flash attention, 2 threads, llama.cpp's default batches);
- `no-flash`: flash attention off;
- `threads1`: one thread instead of two;
- `ubatch128`: llama.cpp's micro-batch of 128 tokens instead of 512;
- `kv-q8`: the attention cache kept as q8_0 instead of f16;
- `q4_0`, `q8_0`: the shipped Q4_K_M weights requantized (into a temporary folder) to a
  type llama.cpp has other CPU kernels for.

Feeds the speed notes in docs/tuning.md. Medians from a shared 2-core machine are noisy:
compare runs made side by side.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rag.config import Config
from rag.generation import build_messages
from rag.llm import assemble_gguf

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "corpus" / "kistep-global-ai-china-2025.txt"
SETTINGS: dict[str, dict[str, Any]] = {
    "flash": {},
    "no-flash": {"flash_attn": False},
    "threads1": {"n_threads": 1},
    "ubatch128": {"n_ubatch": 128},
    "kv-q8": {"type_k": 8, "type_v": 8},  # GGML_TYPE_Q8_0
    "q4_0": {},
    "q8_0": {},
}


def first_token_seconds(llm, messages: list[dict[str, str]]) -> float:
    t0 = time.perf_counter()
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=8, temperature=0,
                                            stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            break
    return time.perf_counter() - t0


def requantize(source: Path, kind: str, folder: Path) -> Path:
    """`source` rewritten with every quantized tensor as `kind` (q4_0 or q8_0)."""
    import llama_cpp

    target = folder / f"{kind}.gguf"
    if not target.exists():
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
                        "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}[kind]
        params.allow_requantize = True
        if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(),
                                          ctypes.byref(params)):
            raise SystemExit(f"llama.cpp could not requantize {source} to {kind}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS),
                        default=["no-flash", "flash"])
    args = parser.parse_args()
    from llama_cpp import Llama

    source = assemble_gguf(Config.from_env().cache_dir)
    text = REPORT.read_text(encoding="utf-8")
    passages = [" ".join(text[i:i + 400].split()) for i in (3000, 4000, 5000, 6000)]
    # build_messages reads only the text of each evidence sentence.
    prompts = [build_messages("이 글의 요지는?", [(None, [SimpleNamespace(text=p)])], "ko")
               for p in passages]
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):
            for name in args.settings:
                path = (requantize(source, name, Path(scratch)) if name in ("q4_0", "q8_0")
                        else source)
                options = {"n_ctx": 4096, "n_threads": 2, "flash_attn": True,
                           **SETTINGS[name]}
                llm = Llama(model_path=str(path), verbose=False, **options)
                first_token_seconds(llm, prompts[0])
                times = [first_token_seconds(llm, m) for m in prompts[1:]]
                print(json.dumps({
                    "setting": name, "new_tokens": len(llm.tokenize(passages[1].encode())),
                    "first_token_s": [round(t, 2) for t in times],
                    "median_s": round(statistics.median(times), 2)}), flush=True)
                del llm


if __name__ == "__main__":
    main()
