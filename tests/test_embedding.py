"""The torch encoder's precision: bf16 where the CPU computes it natively, and vectors that
stay within 1e-4 of fp32 on real Korean and English text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.chunking import chunk_document
from rag.config import Config
from rag.embedding import cache_label, cpu_flags, load_embedder, resolve_precision
from rag.ingest import read_corpus

ROOT = Path(__file__).resolve().parents[1]
_X86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 avx512f {}\n"


@pytest.mark.parametrize(("flags", "expected"), [
    ("avx512_bf16 avx512_vnni", "bf16"),
    ("amx_bf16 amx_tile", "bf16"),
    ("avx512_vnni", "fp32"),  # int8 dot products, no bf16
    ("", "fp32"),
])
def test_auto_is_bf16_only_where_the_cpu_has_it_natively(flags, expected):
    assert resolve_precision("auto", _X86.format(flags)) == expected


def test_an_explicit_precision_is_kept_whatever_the_cpu():
    assert resolve_precision("bf16", _X86.format("")) == "bf16"
    assert resolve_precision("fp32", _X86.format("avx512_bf16")) == "fp32"


def test_cpu_flags_read_arm_features_and_nothing_from_an_unknown_text():
    assert "asimd" in cpu_flags("processor\t: 0\nFeatures\t: fp asimd bf16\n")
    assert cpu_flags("no flags here") == frozenset()


def test_cached_vectors_are_kept_apart_by_backend_and_precision():
    labels = {cache_label(Config(embed_precision="fp32")),
              cache_label(Config(embed_precision="bf16")),
              cache_label(Config(embed_backend="onnx-int8"))}
    assert labels == {"torch", "torch-bf16", "onnx-int8"}


@pytest.mark.integration
def test_bf16_vectors_stay_within_1e_4_of_fp32_and_rank_alike():
    config = Config()
    fp32 = load_embedder(config.replace(embed_precision="fp32"))
    bf16 = load_embedder(config.replace(embed_precision="bf16"))
    docs = read_corpus(ROOT / "corpus").documents
    passages = [c.embedding_text(True) for d in docs for c in chunk_document(d, 200, 40)]
    questions = ["해양 수산 자원의 어획량은 몇 톤인가?", "백신 접종률이 가장 높은 지역은?",
                 "What did the central bank do with interest rates?",
                 "기준금리를 동결한 이유는 무엇인가?"]
    a, b = fp32.embed_passages(passages), bf16.embed_passages(passages)
    qa, qb = fp32.embed_queries(questions), bf16.embed_queries(questions)
    for x, y in ((a, b), (qa, qb)):
        assert 1 - (x * y).sum(axis=1).min() <= 1e-4
        assert np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-5)
    for q32, q16 in zip(qa, qb, strict=True):
        assert list(np.argsort(-(a @ q32))[:3]) == list(np.argsort(-(b @ q16))[:3])
