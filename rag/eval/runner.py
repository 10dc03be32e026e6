"""One evaluation run: retrieval ablations side by side, then answers, as one JSON object.

The test set may be any format rag.eval.dataset reads. A set that carries its own
documents (SQuAD, BEIR) is written into a corpus folder and indexed first
(`corpus_from_qa`), so a public set is one command from its file to its scores.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import re
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..answer import answer_question
from ..config import Config
from ..errors import QueryError
from ..indexing import build_index, gloss_index
from ..llm import llm_available
from ..retrieval import Retriever
from .calibration import calibration
from .dataset import EvalSet, QAItem, load_eval_set
from .holdout import hold_out, sources_of
from .materialize import resolve_items, write_corpus
from .metrics import (
    DEPTH,
    answer_contains,
    budget_recall,
    char_f1,
    exact_match,
    latency_summary,
    mean_metrics,
    score_runs,
    share,
    token_f1,
)
from .relevance import Judge, Qrels, Run, normalize, passages_of, ranked_units, run_of

log = logging.getLogger(__name__)

EVAL_MODES = ("retrieval", "extractive", "llm")
# Chunks searched per question when documents are ranked by their best chunk (BEIR).
_DOC_UNIT_CHUNKS = 50


@dataclass(frozen=True)
class Ablation:
    """A retrieval configuration compared in the ablation table."""

    label: str
    mode: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    """The questions, judged against the index they are asked of."""

    eval_set: EvalSet
    config: Config
    items: tuple[QAItem, ...]
    notes: tuple[str, ...]
    # The index just built, loaded to resolve the spans: evaluated as it is.
    retriever: Retriever | None = None


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


def corpus_home(config: Config, qa_path: Path) -> Path:
    """Where a test set's documents and index live by default: the cache, keyed by the
    set's name and content, so a changed file never reuses an old index."""
    qa_path = Path(qa_path)
    digest = hashlib.sha256()
    for file in sorted(qa_path.rglob("*")) if qa_path.is_dir() else [qa_path]:
        if file.is_file():
            digest.update(file.read_bytes())
    name = re.sub(r"[^\w.-]+", "-", qa_path.stem or qa_path.name).strip("-") or "set"
    return config.cache_dir / "eval" / f"{name}-{digest.hexdigest()[:10]}"


def prepare(config: Config, qa_path: Path, corpus_from_qa: bool = False,
            corpus_dir: Path | None = None, index_dir: Path | None = None,
            fmt: str | None = None, progress: bool = False) -> Prepared:
    """Read the set; for a set with its own documents, write and index them."""
    eval_set = load_eval_set(qa_path, fmt)
    notes = list(eval_set.notes)
    if not eval_set.documents:
        if corpus_from_qa:
            raise QueryError(f"{qa_path} ({eval_set.format} format) carries no documents; "
                             "--corpus-from-qa is for SQuAD files and BEIR folders")
        return Prepared(eval_set, config, eval_set.items, tuple(notes))
    if not corpus_from_qa:
        raise QueryError(f"{qa_path} carries its own documents ({eval_set.format} format); "
                         "add --corpus-from-qa to write them into a corpus folder and index them")
    home = corpus_home(config, qa_path)
    config = config.replace(corpus_dir=corpus_dir or home / "corpus",
                            index_dir=index_dir or home / "index")
    english = sum(1 for i in eval_set.items if i.lang == "en")
    if config.lexicon == "auto" and not english:
        # Glossing serves English questions only; a Korean set would wait for it for nothing.
        config = config.replace(lexicon="off")
        notes.append("lexicon off: every question is Korean, so the vocabulary was not glossed")
    elif config.lexicon != "off":
        log.info("%d English question(s): the set's vocabulary is glossed with the local LLM "
                 "first when one is installed (slow for a large set; RAG_LEXICON=off skips it)",
                 english)
    ids = write_corpus(eval_set, config.corpus_dir)
    report = build_index(config, progress=progress)
    glossed = gloss_index(config, progress=progress)
    if glossed:
        notes.append(f"glossed {glossed} Korean words for the English questions")
    notes.append(f"indexed {len(ids)} documents into {config.index_dir}: {report.chunks} "
                 f"chunks, {report.embedded_chunks} embedded ({report.seconds:.1f} s)")
    retriever = Retriever(config)
    items, moved = resolve_items(eval_set, ids, retriever.index.documents)
    if moved:
        notes.append(f"{moved} answer span(s) were found again in the stored text")
    return Prepared(eval_set, config, tuple(items), tuple(notes), retriever)


def run_evaluation(config: Config, qa_path: Path, mode: str = "retrieval",
                   lang: str | None = None, with_ablations: bool = True, *,
                   corpus_from_qa: bool = False, corpus_dir: Path | None = None,
                   index_dir: Path | None = None, fmt: str | None = None,
                   holdout_docs: int = 0, seed: int = 0, limit: int | None = None,
                   progress: bool = False, report_dir: Path | None = None) -> dict[str, Any]:
    """Metrics for the test set at `qa_path`: the ablation table, answers unless `mode` is
    "retrieval", and `holdout_docs` documents' questions asked without them; with
    `report_dir`, the report (rag.eval.report) is written there too."""
    if mode not in EVAL_MODES:
        raise QueryError(f"unknown eval mode {mode!r}; use one of {', '.join(EVAL_MODES)}")
    if holdout_docs and mode == "retrieval":
        raise QueryError("--holdout-docs measures abstention; use it with --mode extractive "
                         "or --mode llm")
    started = time.perf_counter()
    prepared = prepare(config, qa_path, corpus_from_qa, corpus_dir, index_dir, fmt, progress)
    config = prepared.config
    items = [i for i in prepared.items if not lang or i.lang == lang]
    if not items:
        raise QueryError(f"no question in {qa_path} has language {lang!r}")
    if limit:
        items = items[:limit]
    base = prepared.retriever or Retriever(config)
    base.search("모델 준비", k=1)  # Korean: a warm-up must not cost a translation
    unit = prepared.eval_set.unit
    judge = Judge(base.index.chunks, unit)
    qrels = judge.qrels(items)
    can_translate = config.translate != "off" and llm_available(config)[0]
    runs = []
    plan = ablations(config, can_translate) if with_ablations else [
        Ablation("default", "hybrid", {})]
    k = DEPTH if unit == "chunk" else _DOC_UNIT_CHUNKS
    for ablation in plan:
        retriever = (_variant(base, config.replace(**ablation.overrides))
                     if ablation.overrides else base)
        runs.append(evaluate_retrieval(
            items, judge,
            lambda q, r=retriever, m=ablation.mode: r.search(q, k=k, mode=m).hits,
            ablation.label, qrels, progress))
    answers = None
    asked = [(item, base) for item in items]
    if mode != "retrieval":
        holdout = None
        if holdout_docs:
            work = hashlib.sha256(str(config.index_dir.resolve()).encode()).hexdigest()[:10]
            holdout = hold_out(config, items, holdout_docs, seed,
                               config.cache_dir / "eval-holdout" / work)
            held = Retriever(holdout.config, embedder=base.embedder)
            asked += [(item, held) for item in holdout.items]
        retriever_of = {item.id: retriever for item, retriever in asked}
        answers = evaluate_answers(
            [item for item, _ in asked],
            lambda item: answer_question(retriever_of[item.id], item.question, mode).to_dict(),
            mode, progress)
        if holdout:
            answers["holdout"] = {"doc_ids": list(holdout.doc_ids), "seed": seed,
                                  "questions": len(holdout.items)}
    result = {
        "qa": str(qa_path), "format": prepared.eval_set.format, "unit": unit,
        "corpus": str(config.corpus_dir), "index": str(config.index_dir),
        "mode": mode, "language": lang or "all", "n_questions": len(items),
        "model": config.model, "settings": config.public_dict(),
        "translation": can_translate, "notes": list(prepared.notes),
        "qrels": qrels, "retrieval": runs, "answers": answers,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": _peak_rss_mb(), "machine": machine(),
    }
    if report_dir is not None:
        from .report import write_report

        path = write_report(result, report_dir, {item.id: item for item, _ in asked},
                            {c.chunk_id: c for c in base.index.chunks})
        result["report"] = str(path)
    return result


def evaluate_retrieval(items: Sequence[QAItem], judge: Judge,
                       search: Callable[[str], Sequence[Any]], label: str,
                       qrels: Qrels | None = None, progress: bool = False) -> dict[str, Any]:
    """Metrics of one retrieval configuration over the answerable items; `search`
    returns the hits in rank order (`qrels`: the items' judgments, when already made)."""
    qrels = judge.qrels(items) if qrels is None else qrels
    rows: list[dict[str, Any]] = []
    run: Run = {}
    latencies = []
    budgets = []
    for item in _bar([i for i in items if i.answerable], f"retrieval {label}", progress):
        t0 = time.perf_counter()
        found = list(search(item.question))
        latencies.append((time.perf_counter() - t0) * 1000)
        passages = passages_of(found)
        ranked = ranked_units(passages, judge.unit, DEPTH)
        run[item.id] = run_of(ranked)
        read = passages if judge.unit == "chunk" else ranked
        budgets.append(budget_recall([judge.evidence_end(item, p) for p in read],
                                     [len(p.text) for p in read]))
        rows.append({"id": item.id, "lang": item.lang, "type": item.type,
                     "n_relevant": sum(1 for g in qrels.get(item.id, {}).values() if g > 0),
                     "retrieved": [p.unit for p in ranked]})
    scored = score_runs(qrels, run)
    per_query = [{**{k: v for k, v in row.items() if k != "retrieved"}, **scored[row["id"]],
                  **budget, "retrieved": row["retrieved"]} for row, budget in zip(rows, budgets)]
    return {**summarize(per_query, latencies, label), "run": run}


_NOT_METRICS = ("id", "lang", "type", "retrieved", "n_relevant")


def summarize(per_query: list[dict[str, Any]], latencies: list[float], label: str
              ) -> dict[str, Any]:
    metric_keys = [k for k in per_query[0] if k not in _NOT_METRICS] if per_query else []
    by: dict[str, dict[str, list[dict[str, float]]]] = {"lang": defaultdict(list),
                                                        "type": defaultdict(list)}
    for row in per_query:
        numbers = {k: row[k] for k in metric_keys}
        by["lang"][row["lang"]].append(numbers)
        by["type"][row["type"]].append(numbers)
    return {
        "label": label,
        "n": len(per_query),
        "n_without_relevant": sum(1 for r in per_query if not r["n_relevant"]),
        "overall": mean_metrics([{k: r[k] for k in metric_keys} for r in per_query]),
        "by_lang": {k: {"n": len(v), **mean_metrics(v)} for k, v in sorted(by["lang"].items())},
        "by_type": {k: {"n": len(v), **mean_metrics(v)} for k, v in sorted(by["type"].items())},
        "latency_ms": latency_summary(latencies),
        "per_query": per_query,
    }


def citation_correct(passage: str, item: QAItem) -> bool:
    """A cited passage is right when it holds the evidence phrase or a stated answer."""
    if item.evidence and normalize(item.evidence) in normalize(passage):
        return True
    return answer_contains(passage, item.answers)


def evaluate_answers(items: Sequence[QAItem], answer: Callable[[QAItem], dict[str, Any]],
                     label: str, progress: bool = False) -> dict[str, Any]:
    """Answer metrics over `items`; `answer(item)` returns an Answer.to_dict()."""
    per_query = []
    stages: dict[str, list[float]] = defaultdict(list)
    # LLM mode: the prompt tokens read anew per question and the rate they were read at.
    prompt: dict[str, list[float]] = defaultdict(list)
    for item in _bar(items, f"answers {label}", progress):
        t0 = time.perf_counter()
        result = answer(item)
        total = (time.perf_counter() - t0) * 1000
        timings = dict(result.get("timings", {}))
        for key in ("prompt_tokens", "prompt_tokens_per_s"):
            if key in timings:
                prompt[key].append(timings.pop(key))
        for stage, ms in {**timings, "total": total}.items():
            stages[stage].append(ms)
        translation = result.get("search", {}).get("timings_ms", {}).get("translation")
        if translation is not None:
            stages["translation"].append(translation)
        citations = result.get("citations", [])
        evidence = result.get("search", {}).get("evidence", {})
        row = {
            "id": item.id, "lang": item.lang, "type": item.type,
            "docs": sorted(sources_of(item)), "answerable": item.answerable,
            "abstained": result["abstained"],
            "final": result.get("final"),
            "correct_abstention": result["abstained"] != item.answerable,
            "answer": result["answer"],
            "cited": [c["chunk_id"] for c in citations],
            "closest": [h["chunk_id"] for h in result.get("closest", [])],
            "coverage": evidence.get("coverage"),
            "confidence": result.get("confidence"),
            "unsure": bool(result.get("unsure")),
            # The abstention features, so a confidence model can be fitted on the rows.
            "evidence": evidence,
        }
        if item.answerable:
            answered = not result["abstained"]
            row["contains"] = answered and answer_contains(result["answer"], item.answers)
            row["f1"] = token_f1(result["answer"], item.answers) if answered else 0.0
            row["char_f1"] = char_f1(result["answer"], item.answers) if answered else 0.0
            row["exact_match"] = exact_match(result["answer"], item.answers) if answered \
                else 0.0
            row["citations_correct"] = [citation_correct(c["text"], item) for c in citations]
        per_query.append(row)
    # The fitted confidence where the answers carry one (every Korean answer shows it,
    # whichever decides), else the evidence coverage the rules decide on.
    of = "confidence" if any(r["confidence"] is not None for r in per_query) else "coverage"
    scored = [r for r in per_query if r[of] is not None]
    cal = calibration([r[of] for r in scored], [r["answerable"] for r in scored])
    return {"label": label, "by_lang": _answer_summary(per_query),
            "calibration": cal and {"of": of, **cal},
            "latency_ms": {k: latency_summary(v) for k, v in sorted(stages.items())},
            "llm_prompt": {k: latency_summary(v) for k, v in sorted(prompt.items())},
            "peak_rss_mb": _peak_rss_mb(), "per_query": per_query}


def _answer_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in sorted({r["lang"] for r in rows}):
        answerable = [r for r in rows if r["lang"] == lang and r["answerable"]]
        unanswerable = [r for r in rows if r["lang"] == lang and not r["answerable"]]
        held = [r for r in unanswerable if r["type"] == "holdout"]
        marks = [ok for r in answerable for ok in r["citations_correct"]]
        abstained = [r for r in rows if r["lang"] == lang and r["abstained"]]
        answered = [r for r in rows if r["lang"] == lang and not r["abstained"]]
        out[lang] = {
            "n_answerable": len(answerable),
            "answer_contains": share(r["contains"] for r in answerable),
            "exact_match": share(r["exact_match"] for r in answerable),
            "char_f1": share(r["char_f1"] for r in answerable),
            "token_f1": share(r["f1"] for r in answerable),
            "citation_precision": share(marks),
            "citations": len(marks),
            "false_abstention": share(r["abstained"] for r in answerable),
            "n_unanswerable": len(unanswerable),
            "abstention_recall": share(r["abstained"] for r in unanswerable),
            "abstention_precision": share(not r["answerable"] for r in abstained),
            "n_holdout": len(held),
            "holdout_abstention": share(r["abstained"] for r in held),
            # Answers marked unsure (Answer.unsure), and the wrong answers given as sure
            # ones: an unanswerable question answered, or an answer without the gold text.
            "unsure": share(r.get("unsure", False) for r in answered),
            "confident_wrong": share(
                not r.get("unsure", False) and not (r["answerable"] and r["contains"])
                for r in answered),
        }
    return out


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "processor": _cpu_name(),
            "load_1m": round(os.getloadavg()[0], 2)}


def _bar(items: Sequence[QAItem], desc: str, enabled: bool) -> Iterable[QAItem]:
    """`items`, with a progress bar on stderr when asked (thousands of questions take
    minutes)."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="question", file=sys.stderr, leave=False)


def _variant(base: Retriever, config: Config) -> Retriever:
    # Share the loaded index, model and translator: only the settings differ.
    translator = base.translator if config.translate != "off" else None
    return Retriever(config, index=base.index, embedder=base.embedder, translator=translator)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
