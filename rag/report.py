"""The evaluation report: Markdown tables, plots, and every failed question explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .evaluation import KS, QAItem
from .experiments import questions_by_id
from .store import Index


def write_report(result: dict[str, Any], out_dir: Path, index: Index) -> Path:
    """Write report.md, metrics.json and the PNG plots into `out_dir`; return report.md."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    plots = _plots(result, out_dir)
    items = questions_by_id(Path(result["qa"]))
    chunks = {c.chunk_id: c for c in index.chunks}
    lines = [f"# Evaluation: {result['qa']}", "",
             f"Mode `{result['mode']}`, model `{result['model']}`, "
             f"{result['machine']['cpus']} CPUs ({result['machine']['processor']}), "
             f"Python {result['machine']['python']}; took {result['seconds']} s.", "",
             "## Retrieval", "", *retrieval_table(result), ""]
    lines += [f"![{name}]({name})" for name in plots]
    if result.get("answers"):
        lines += ["", "## Answers", "", *answer_table(result["answers"]), "",
                  "### Latency by stage (ms)", "", *latency_table(result["answers"])]
    lines += ["", "## Failed retrievals (default configuration, evidence not in top 5)", ""]
    default = next(r for r in result["retrieval"] if r["label"] == "default")
    if all(row["recall@5"] == 1 for row in default["per_query"]):
        lines.append("None.")
    for row in default["per_query"]:
        if row["recall@5"] < 1:
            item = items[row["id"]]
            lines.append(f"- **{row['id']}** {_md(item.question)} — evidence "
                         f"“{_md(item.evidence or '')}”, reciprocal rank {row['mrr@10']:.2f}")
            for chunk_id in row.get("retrieved", [])[:3]:
                chunk = chunks.get(chunk_id)
                if chunk:
                    lines.append(f"  - {chunk_id} ({_md(chunk.section)}): "
                                 f"{_md(_snippet(chunk.text))}")
    if result.get("answers"):
        lines += ["", "## Failed answers", ""]
        lines += _answer_failures(result["answers"], items)
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def retrieval_table(result: dict[str, Any]) -> list[str]:
    rows = ["| run | lang | n | R@1 | R@3 | R@5 | R@10 | MRR@10 | nDCG@10 | p50 ms |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in result["retrieval"]:
        for lang, m in run["by_lang"].items():
            rows.append(f"| {run['label']} | {lang} | {m['n']} | {m['recall@1']:.3f} | "
                        f"{m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} | "
                        f"{m['mrr@10']:.3f} | {m['ndcg@10']:.3f} | "
                        f"{run['latency_ms'].get('p50', 0):.1f} |")
    return rows


def answer_table(answers: dict[str, Any]) -> list[str]:
    rows = ["| lang | answerable | answer contains | token F1 | citation precision | "
            "false abstention | unanswerable | abstention recall | abstention precision |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for lang, m in answers["by_lang"].items():
        rows.append(f"| {lang} | {m['n_answerable']} | {_f(m['answer_contains'])} | "
                    f"{_f(m['token_f1'])} | {_f(m['citation_precision'])} | "
                    f"{_f(m['false_abstention'])} | {m['n_unanswerable']} | "
                    f"{_f(m['abstention_recall'])} | {_f(m['abstention_precision'])} |")
    return rows


def latency_table(answers: dict[str, Any]) -> list[str]:
    rows = ["| stage | p50 | p95 | n |", "|---|---:|---:|---:|"]
    for stage, m in answers["latency_ms"].items():
        rows.append(f"| {stage} | {m['p50']:.1f} | {m['p95']:.1f} | {m['n']} |")
    return [*rows, "", f"Peak RSS: {answers['peak_rss_mb']} MB."]


def _answer_failures(answers: dict[str, Any], items: dict[str, QAItem]) -> list[str]:
    lines = []
    for row in answers["per_query"]:
        item = items[row["id"]]
        if row["answerable"] and row["contains"] and all(row["citations_correct"]):
            continue
        if not row["answerable"] and row["abstained"]:
            continue
        why = ("should have abstained" if not row["answerable"] else
               "abstained" if row["abstained"] else
               "wrong citation" if row["contains"] else "answer missing")
        lines.append(f"- **{row['id']}** ({why}) {_md(item.question)} — expected "
                     f"{', '.join(item.answers) or 'abstention'}; got “{_md(row['answer'][:200])}” "
                     f"citing {', '.join(row['cited']) or 'nothing'}")
    return lines or ["None."]


def _plots(result: dict[str, Any], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    langs = sorted({lang for run in result["retrieval"] for lang in run["by_lang"]})
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
    fig.tight_layout()
    fig.savefig(out_dir / "recall_at_k.png", dpi=110)
    plt.close(fig)
    names.append("recall_at_k.png")
    if result.get("answers"):
        stages = result["answers"]["latency_ms"]
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
        fig.tight_layout()
        fig.savefig(out_dir / "latency.png", dpi=110)
        plt.close(fig)
        names.append("latency.png")
    return names


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _snippet(text: str, width: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
