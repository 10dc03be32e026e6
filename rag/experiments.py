"""One evaluation run: retrieval ablations side by side, then answers, as one JSON object."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answer import answer_question
from .config import Config
from .errors import QueryError
from .evaluation import QAItem, evaluate_answers, evaluate_retrieval, load_qa
from .llm import llm_available
from .retrieval import Retriever

EVAL_MODES = ("retrieval", "extractive", "llm")


@dataclass(frozen=True)
class Ablation:
    """A retrieval configuration compared in the ablation table."""

    label: str
    mode: str
    overrides: dict[str, Any]


def ablations(config: Config, translation: bool) -> list[Ablation]:
    """Each retriever alone, their plain fusion, the levers switched on one by one, the
    default (every lever as configured), then the default with each lever left out.

    A lever's "on" value is the one in `config`, so the table measures the settings in use.
    """
    levers = {
        "sentences": {"sentence_weight": config.sentence_weight},
        "scope": {"scope_by_name": config.scope_by_name},
        "glossary": {"glossary": config.glossary,
                     "english_bm25_weight": config.english_bm25_weight},
        "lexicon": {"lexicon": config.lexicon},
        "translation": {"translate": "on"},
    }
    off = {"sentences": {"sentence_weight": 0.0}, "scope": {"scope_by_name": False},
           "glossary": {"glossary": False, "english_bm25_weight": 1.0},
           "lexicon": {"lexicon": "off"}, "translation": {"translate": "off"}}
    if not translation:
        del levers["translation"]
    plain = {k: v for lever in off.values() for k, v in lever.items()}
    runs = [Ablation("dense", "dense", plain), Ablation("bm25", "bm25", plain),
            Ablation("hybrid", "hybrid", plain)]
    settings = dict(plain)
    for name, on in levers.items():
        settings = {**settings, **on}
        runs.append(Ablation(f"+{name}", "hybrid", settings))
    runs.append(Ablation("default", "hybrid", {}))
    runs += [Ablation(f"default −{name}", "hybrid", off[name]) for name in levers]
    return runs


def run_evaluation(config: Config, qa_path: Path, mode: str = "retrieval",
                   lang: str | None = None, with_ablations: bool = True) -> dict[str, Any]:
    """Metrics for `qa_path` under `config`: the ablation table, and answers unless
    `mode` is "retrieval"."""
    if mode not in EVAL_MODES:
        raise QueryError(f"unknown eval mode {mode!r}; use one of {', '.join(EVAL_MODES)}")
    items = [i for i in load_qa(qa_path) if not lang or i.lang == lang]
    if not items:
        raise QueryError(f"no question in {qa_path} has language {lang!r}")
    started = time.perf_counter()
    base = Retriever(config)
    base.search("모델 준비", k=1)  # Korean: a warm-up must not cost a translation
    texts = [c.text for c in base.index.chunks]
    can_translate = config.translate != "off" and llm_available(config)[0]
    runs = []
    plan = ablations(config, can_translate) if with_ablations else [
        Ablation("default", "hybrid", {})]
    for ablation in plan:
        retriever = (_variant(base, config.replace(**ablation.overrides))
                     if ablation.overrides else base)
        runs.append(evaluate_retrieval(
            items, texts, lambda q, r=retriever, m=ablation.mode: r.search(q, k=10, mode=m).hits,
            ablation.label))
    answers = None
    if mode != "retrieval":
        answers = evaluate_answers(items, lambda item: answer_question(
            base, item.question, mode).to_dict(), mode)
    return {
        "qa": str(qa_path), "mode": mode, "language": lang or "all",
        "model": config.model, "settings": config.public_dict(),
        "translation": can_translate, "retrieval": runs, "answers": answers,
        "seconds": round(time.perf_counter() - started, 1), "machine": machine(),
    }


def questions_by_id(qa_path: Path) -> dict[str, QAItem]:
    return {item.id: item for item in load_qa(qa_path)}


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "processor": _cpu_name()}


def _variant(base: Retriever, config: Config) -> Retriever:
    # Share the loaded index, model and translator: only the settings differ.
    translator = base.translator if config.translate != "off" else None
    return Retriever(config, index=base.index, embedder=base.embedder, translator=translator)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summary_rows(result: dict[str, Any]) -> Sequence[dict[str, Any]]:
    """Flat rows of the ablation table: one per run and language."""
    rows = []
    for run in result["retrieval"]:
        for lang, m in run["by_lang"].items():
            rows.append({"run": run["label"], "lang": lang, **m,
                         "p50_ms": run["latency_ms"].get("p50")})
    return rows
