"""The embedding model on ONNX Runtime with int8 weights: a faster encoder by setting.

`RAG_EMBED_BACKEND=onnx-int8` exports the sentence-transformers model's transformer once
into the cache (TorchScript exporter, opset 17), quantizes its matrix multiplications to
int8 per output channel (dynamic quantization: activations stay float), and embeds with
ONNX Runtime, mean-pooling and normalising as the model's own modules do. Measured on
this machine: cosine to the fp32 vectors ≥ 0.99 on the reports' chunks, about 1.3× the
chunks per second (docs/benchmarks.md). Only mean-pooling models are supported.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError

log = logging.getLogger(__name__)
BACKEND = "onnx-int8"
_FILE = "model-int8.onnx"
_VERSION = 1


def onnx_model_dir(model_dir: Path) -> Path:
    return model_dir.parent / f"{model_dir.name}-{BACKEND}"


def ensure_onnx_model(model_dir: Path) -> Path:
    """The quantized ONNX file for the sentence-transformers folder `model_dir`, exported
    and quantized on first use (about a minute) and written atomically."""
    target = onnx_model_dir(model_dir)
    marker = target / "export.json"
    if marker.is_file() and json.loads(marker.read_text()).get("version") == _VERSION:
        return target / _FILE
    _check_mean_pooling(model_dir)
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ModelUnavailableError(
            f"the {BACKEND} backend needs onnx and onnxruntime ({exc}); run: pip install "
            "onnx onnxruntime, or set RAG_EMBED_BACKEND=torch") from exc
    log.info("exporting %s to ONNX with int8 weights (once)", model_dir.name)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    sample = tokenizer(["passage: 보기 문장이다.", "query: an example"], padding=True,
                       return_tensors="pt")
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=".onnx-") as tmp:
        fp32 = Path(tmp) / "model.onnx"
        torch.onnx.export(_encoder(model), (sample["input_ids"], sample["attention_mask"]),
                          str(fp32), input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in
                                        ("input_ids", "attention_mask", "last_hidden_state")})
        staged = Path(tmp) / "out"
        staged.mkdir()
        # Per-channel weights on the matrix multiplications only: the embedding table
        # stays float, and per-channel scales keep cosine to fp32 above 0.99.
        quantize_dynamic(str(fp32), str(staged / _FILE), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"])
        (staged / "export.json").write_text(json.dumps(
            {"version": _VERSION, "source": str(model_dir), "weights": "int8 per channel"}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staged, target)
    return target / _FILE


def _check_mean_pooling(model_dir: Path) -> None:
    pooling = model_dir / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text()) if pooling.is_file() else {}
    if not config.get("pooling_mode_mean_tokens"):
        raise ModelUnavailableError(
            f"the {BACKEND} backend supports mean-pooling models only, and {model_dir.name} "
            "pools otherwise; set RAG_EMBED_BACKEND=torch")


def _encoder(model):
    """The transformer as ids and mask → last hidden state, the graph the export traces
    (the model's own forward takes keyword arguments the tracer cannot pass)."""
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids,
                              attention_mask=attention_mask).last_hidden_state

    return Encoder()


class OnnxEmbedder:
    """Queries on one thread (as the torch path), passages on every core."""

    def __init__(self, model_dir: Path, name: str, batch_size: int = 16) -> None:
        try:
            import onnxruntime as ort
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise ModelUnavailableError(
                f"the {BACKEND} backend needs onnxruntime; run: pip install onnxruntime, or "
                "set RAG_EMBED_BACKEND=torch") from exc
        path = ensure_onnx_model(model_dir)
        self.name = name
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir)
        settings = json.loads((model_dir / "config_sentence_transformers.json").read_text()) \
            if (model_dir / "config_sentence_transformers.json").is_file() else {}
        self._prompts = settings.get("prompts", {}) or {}
        bert = json.loads((model_dir / "sentence_bert_config.json").read_text()) \
            if (model_dir / "sentence_bert_config.json").is_file() else {}
        self._max_tokens = int(bert.get("max_seq_length", 512))
        self._batch_size = batch_size
        self._sessions = {}
        for threads in (1, 0):
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            self._sessions[threads] = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"])
        self.dim = int(self._encode(["dim"], "", 1).shape[1])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prompts.get("query", ""), threads=1)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._prompts.get("passage", ""), threads=0)

    def _encode(self, texts: list[str], prompt: str, threads: int) -> np.ndarray:
        session = self._sessions[threads]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding
        out: np.ndarray | None = None
        for lo in range(0, len(order), self._batch_size):
            batch = order[lo:lo + self._batch_size]
            encoded = self._tokenizer([prompt + texts[i] for i in batch], padding=True,
                                      truncation=True, max_length=self._max_tokens,
                                      return_tensors="np")
            mask = encoded["attention_mask"].astype(np.int64)
            hidden = session.run(None, {"input_ids": encoded["input_ids"].astype(np.int64),
                                        "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[batch] = pooled
        return out if out is not None else np.zeros((0, getattr(self, "dim", 0)), np.float32)
