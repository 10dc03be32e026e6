"""The evaluation report: Markdown and HTML with plots, TREC files, every failure explained."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from .dataset import QAItem
from .metrics import BUDGETS, KS
from .trec import run_file_name, write_qrels, write_run


def write_report(result: dict[str, Any], out_dir: Path, items: dict[str, QAItem],
                 chunks: dict[str, Any]) -> Path:
    """Write report.md, report.html, metrics.json, qrels.txt, one TREC run per ablation and
    the PNG plots into `out_dir`; return report.md. `items` are the questions by id,
    `chunks` the index's chunks by id (to show what was retrieved)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_qrels(out_dir / "qrels.txt", result["qrels"])
    for run in result["retrieval"]:
        write_run(out_dir / run_file_name(run["label"]), run["run"], run["label"])
    plots = _plots(result, out_dir)
    m = result["machine"]
    lines = [f"# Evaluation: {_md(result['qa'])}", "",
             f"Format `{result['format']}` ({result['n_questions']} questions, relevance per "
             f"{result['unit']}), mode `{result['mode']}`, model `{result['model']}`; "
             f"{m['cpus']} CPUs ({m['processor']}, load {m.get('load_1m', '?')}), Python "
             f"{m['python']}; took {result['seconds']} s, peak RSS {result['peak_rss_mb']} MB.",
             ""]
    lines += [f"- {_md(note)}" for note in result.get("notes", [])]
    lines += ["", "## Retrieval", "", *retrieval_table(result), "",
              "Recall@k: a relevant unit in the top k (trec_eval `success`); MRR@10, nDCG@10 "
              "from trec_eval (pytrec_eval). `qrels.txt` and the `run-*.txt` files beside this "
              "report re-score with any TREC tool.", "", *budget_table(result), ""]
    lines += [f"![{name}]({name})" for name in plots]
    answers = result.get("answers")
    if answers:
        lines += ["", "## Answers", "", *answer_table(answers), ""]
        if answers.get("holdout"):
            h = answers["holdout"]
            lines += [f"Held-out documents (seed {h['seed']}): "
                      f"{', '.join(f'`{d}`' for d in h['doc_ids'])}; their {h['questions']} "
                      "questions were asked of an index without them (type `holdout`).", ""]
        lines += [*calibration_lines(answers), "", "### Latency by stage (ms)", "",
                  *latency_table(answers)]
    lines += ["", "## Failed retrievals (default configuration, nothing relevant in the top 5)",
              ""]
    default = next((r for r in result["retrieval"] if r["label"] == "default"),
                   result["retrieval"][0])
    failed = [row for row in default["per_query"] if row["recall@5"] < 1]
    lines += _retrieval_failures(failed, items, chunks) if failed else ["None."]
    if answers:
        lines += ["", "## Failed answers", "", *_answer_failures(answers, items)]
    path = out_dir / "report.md"
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    (out_dir / "report.html").write_text(_html(text, result["qa"]), encoding="utf-8")
    return path


def retrieval_table(result: dict[str, Any]) -> list[str]:
    cols = [f"R@{k}" for k in KS]
    rows = [f"| run | lang | n | {' | '.join(cols)} | MRR@10 | nDCG@10 | p50 ms |",
            "|---|---|---:|" + "---:|" * (len(cols) + 3)]
    for run in result["retrieval"]:
        for lang, m in run["by_lang"].items():
            rows.append(f"| {run['label']} | {lang} | {m['n']} | "
                        + " | ".join(f"{m[f'recall@{k}']:.3f}" for k in KS)
                        + f" | {m['mrr@10']:.3f} | {m['ndcg@10']:.3f} | "
                        f"{run['latency_ms'].get('p50', 0):.1f} |")
    return rows


def budget_table(result: dict[str, Any]) -> list[str]:
    """Budgeted recall and trec_eval's recall of the default run."""
    run = next((r for r in result["retrieval"] if r["label"] == "default"),
               result["retrieval"][0])
    head = [f"≤{n} chars" for n in BUDGETS] + [f"trec recall@{k}" for k in KS]
    rows = [f"| {run['label']} | lang | " + " | ".join(head) + " |",
            "|---|---|" + "---:|" * len(head)]
    for lang, m in run["by_lang"].items():
        values = [m.get(f"recall@{n}ch") for n in BUDGETS] + \
                 [m.get(f"trec_recall@{k}") for k in KS]
        rows.append(f"| | {lang} | " + " | ".join(_f(v) for v in values) + " |")
    return ["Evidence within the first N characters read (budgeted recall), and the share "
            "of relevant units found (trec_eval `recall`):", "", *rows]


def answer_table(answers: dict[str, Any]) -> list[str]:
    rows = ["| lang | answerable | answer contains | EM | char F1 | token F1 | citation "
            "precision | false abstention | unanswerable | abstention recall | abstention "
            "precision | held-out abstained |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for lang, m in answers["by_lang"].items():
        held = (f"{_f(m.get('holdout_abstention'))} of {m['n_holdout']}"
                if m.get("n_holdout") else "–")
        rows.append(f"| {lang} | {m['n_answerable']} | {_f(m['answer_contains'])} | "
                    f"{_f(m.get('exact_match'))} | {_f(m.get('char_f1'))} | "
                    f"{_f(m['token_f1'])} | {_f(m['citation_precision'])} | "
                    f"{_f(m['false_abstention'])} | {m['n_unanswerable']} | "
                    f"{_f(m['abstention_recall'])} | {_f(m['abstention_precision'])} | "
                    f"{held} |")
    return rows


_CONFIDENCE_OF = {
    "coverage": "the evidence coverage the abstention rules decide on",
    "confidence": "the fitted confidence the abstention decides on (Korean questions; "
                  "the rules decide for the others)",
}


def calibration_lines(answers: dict[str, Any]) -> list[str]:
    cal = answers.get("calibration")
    if not cal:
        return ["Calibration: the set has no unanswerable questions, so the abstention "
                "confidence cannot be checked."]
    return ["### Calibration of the abstention confidence", "",
            f"Confidence: {_CONFIDENCE_OF[cal.get('of', 'coverage')]}, read as the "
            f"probability that the question is answerable. {cal['n']} questions "
            f"({cal['n_answerable']} answerable): ECE {cal['ece']:.3f}, Brier "
            f"{cal['brier']:.3f}, AUROC {cal['auroc']:.3f}.", "",
            "| confidence bin | n | mean confidence | answerable |", "|---|---:|---:|---:|",
            *[f"| {b['lo']:.1f}–{b['hi']:.1f} | {b['n']} | {b['confidence']:.3f} | "
              f"{b['answerable']:.3f} |" for b in cal["bins"]],
            "", "![reliability.png](reliability.png)"]


def latency_table(answers: dict[str, Any]) -> list[str]:
    rows = ["| stage | p50 | p95 | n |", "|---|---:|---:|---:|"]
    for stage, m in answers["latency_ms"].items():
        rows.append(f"| {stage} | {m['p50']:.1f} | {m['p95']:.1f} | {m['n']} |")
    return [*rows, "", f"Peak RSS: {answers['peak_rss_mb']} MB."]


def comparison_table(comparison: dict[str, Any]) -> list[str]:
    """`rag eval --compare`: one row per metric, then the questions that flipped."""
    rows = [f"A: {comparison['a']}  B: {comparison['b']}  (paired randomization test, "
            f"{comparison['resamples']} resamples, seed {comparison['seed']})", ""]
    qa = comparison.get("qa") or []
    if len(set(qa)) > 1:
        rows += [f"Warning: the runs evaluated different test sets ({qa[0]}, {qa[1]}); only "
                 "questions with the same id are paired.", ""]
    rows += ["| metric | n | A | B | B − A | 95% CI | p | gained | lost |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for m in comparison["metrics"]:
        rows.append(f"| {m['metric']} | {m['n']} | {m['a']:.3f} | {m['b']:.3f} | "
                    f"{m['difference']:+.3f} | [{m['ci95'][0]:+.3f}, {m['ci95'][1]:+.3f}] | "
                    f"{m['p_value']:.4f} | {len(m.get('gained', [])) if 'gained' in m else '–'}"
                    f" | {len(m.get('lost', [])) if 'lost' in m else '–'} |")
    for m in comparison["metrics"]:
        for kind in ("gained", "lost"):
            if m.get(kind):
                rows.append(f"- {m['metric']} {kind}: {', '.join(m[kind][:30])}"
                            + (f" … ({len(m[kind])})" if len(m[kind]) > 30 else ""))
    if comparison["unpaired_questions"]:
        rows.append(f"- in one run only: {len(comparison['unpaired_questions'])} questions")
    return rows


def _retrieval_failures(rows: list[dict[str, Any]], items: dict[str, QAItem],
                        chunks: dict[str, Any]) -> list[str]:
    lines = []
    for row in rows[:200]:
        item = items.get(row["id"])
        if item is None:
            continue
        wanted = item.evidence or ", ".join(item.answers) or "judged documents"
        lines.append(f"- **{_md(row['id'])}** {_md(item.question)} — evidence "
                     f"“{_md(wanted)}”, reciprocal rank {row['mrr@10']:.2f}"
                     + ("" if row["n_relevant"] else " (no unit of the index holds it)"))
        for unit in row.get("retrieved", [])[:3]:
            chunk = chunks.get(unit)
            if chunk:
                lines.append(f"  - {_md(unit)} ({_md(chunk.section)}): "
                             f"{_md(_snippet(chunk.text))}")
    if len(rows) > 200:
        lines.append(f"- … and {len(rows) - 200} more (metrics.json has every one)")
    return lines


def _answer_failures(answers: dict[str, Any], items: dict[str, QAItem]) -> list[str]:
    lines = []
    failures = [row for row in answers["per_query"]
                if not ((row["answerable"] and row["contains"] and all(row["citations_correct"]))
                        or (not row["answerable"] and row["abstained"]))]
    for row in failures[:200]:
        item = items.get(row["id"])
        question = item.question if item else ""
        expected = ", ".join(item.answers) if item and row["answerable"] else "abstention"
        why = ("should have abstained" if not row["answerable"] else
               "abstained" if row["abstained"] else
               "wrong citation" if row["contains"] else "answer missing")
        lines.append(f"- **{_md(row['id'])}** ({why}) {_md(question)} — expected "
                     f"{_md(expected)}; got “{_md(row['answer'][:200])}” citing "
                     f"{_md(', '.join(row['cited'])) or 'nothing'}")
    if len(failures) > 200:
        lines.append(f"- … and {len(failures) - 200} more (metrics.json has every one)")
    return lines or ["None."]


def _plots(result: dict[str, Any], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    langs = sorted({lang for run in result["retrieval"] for lang in run["by_lang"]})
    if langs:
        fig, axes = plt.subplots(1, len(langs), figsize=(5 * len(langs), 3.6), squeeze=False)
        for ax, lang in zip(axes[0], langs):
            for run in result["retrieval"]:
                m = run["by_lang"].get(lang)
                if m:
                    ax.plot(KS, [m[f"recall@{k}"] for k in KS], marker="o", label=run["label"])
            ax.set_title(f"Recall@k, {lang}")
            ax.set_xlabel("k")
            ax.set_ylim(0, 1.02)
            ax.set_xticks(KS)
            ax.grid(alpha=0.3)
        axes[0][-1].legend(fontsize=7, loc="lower right")
        _save(fig, out_dir / "recall_at_k.png")
        names.append("recall_at_k.png")
    answers = result.get("answers")
    if answers:
        stages = answers["latency_ms"]
        fig, ax = plt.subplots(figsize=(6, 3.2))
        labels = list(stages)
        ax.bar(labels, [stages[s]["p50"] for s in labels], label="p50")
        ax.scatter(labels, [stages[s]["p95"] for s in labels], color="black", label="p95",
                   zorder=3)
        ax.set_yscale("log")
        ax.set_ylabel("ms")
        ax.set_title(f"Latency by stage ({result['mode']})")
        ax.legend()
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
        _save(fig, out_dir / "latency.png")
        names.append("latency.png")
        cal = answers.get("calibration")
        if cal:
            fig, ax = plt.subplots(figsize=(4.2, 4.2))
            ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
            ax.plot([b["confidence"] for b in cal["bins"]],
                    [b["answerable"] for b in cal["bins"]], marker="o", label="observed")
            for b in cal["bins"]:
                ax.annotate(str(b["n"]), (b["confidence"], b["answerable"]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
            ax.set_xlabel("confidence (evidence coverage)")
            ax.set_ylabel("share answerable")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.set_title(f"Reliability (ECE {cal['ece']:.3f})")
            ax.legend(loc="upper left", fontsize=8)
            _save(fig, out_dir / "reliability.png")
    return names


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _html(markdown: str, title: str) -> str:
    from markdown_it import MarkdownIt

    # Raw HTML off: a question holding <script> is shown as text.
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>Evaluation: {html.escape(title)}</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;"
            "padding:2px 6px}img{max-width:100%}</style></head><body>"
            f"{body}</body></html>\n")


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _md(text: str) -> str:
    # Markdown's own characters are escaped: a question or title holding ![](url) or a
    # link must show as text, in the .md and in the HTML made from it. ("#" is left as
    # it is: it makes a heading only at the start of a line, where no text goes.)
    return re.sub(r"([\\`*_\[\]!|<>])", r"\\\1", str(text)).replace("\n", " ")


def _snippet(text: str, width: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
