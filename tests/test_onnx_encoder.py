"""The int8 ONNX encoder against the fp32 model it was exported from, on real Korean and
English text: the fidelity a faster backend must keep."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.chunking import chunk_document
from rag.config import Config
from rag.embedding import default_model_dir, load_embedder
from rag.errors import ModelUnavailableError
from rag.ingest import read_corpus
from rag.onnx_encoder import OnnxEmbedder, ensure_onnx_model

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def both():
    config = Config()
    return load_embedder(config), load_embedder(config.replace(embed_backend="onnx-int8"))


def test_int8_vectors_stay_within_cosine_0_99_of_fp32(both):
    fp32, int8 = both
    assert isinstance(int8, OnnxEmbedder) and int8.dim == fp32.dim == 384
    docs = read_corpus(ROOT / "corpus").documents
    passages = [c.embedding_text(True) for d in docs for c in chunk_document(d, 200, 40)][:48]
    questions = ["중국의 생성형 AI 특허 출원 수는 몇 건인가?",
                 "How much did DeepSeek spend to develop its V3 model?",
                 "선전시의 AI 펀드 규모는?", "Which city hosts the East China computing hub?"]
    for a, b in ((fp32.embed_passages(passages), int8.embed_passages(passages)),
                 (fp32.embed_queries(questions), int8.embed_queries(questions))):
        cosines = (a * b).sum(axis=1)
        assert cosines.min() >= 0.99, cosines.min()
        assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)


def test_the_export_is_made_once_and_reused():
    folder = default_model_dir(Config())
    path = ensure_onnx_model(folder)
    stamp = path.stat().st_mtime_ns
    assert ensure_onnx_model(folder) == path and path.stat().st_mtime_ns == stamp


def test_a_model_that_is_not_a_local_folder_is_refused():
    with pytest.raises(ModelUnavailableError, match="local folder"):
        load_embedder(Config(model="some/hub-model", embed_backend="onnx-int8"))
