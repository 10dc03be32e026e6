"""Judgments and runs in TREC's plain-text form, so any IR tool can score them again.

``qrels.txt``: ``query-id 0 unit-id grade`` per line; ``run-<label>.txt``:
``query-id Q0 unit-id rank score label``. trec_eval, pytrec_eval and ir_measures read both.
Ids are written as they are; one with whitespace cannot be written and is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import QueryError
from .relevance import Qrels, Run


def write_qrels(path: Path, qrels: Qrels) -> Path:
    lines = [f"{_id(q)} 0 {_id(u)} {grade}" for q, units in qrels.items()
             for u, grade in units.items()]
    Path(path).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return Path(path)


def write_run(path: Path, run: Run, label: str) -> Path:
    tag = re.sub(r"\W+", "_", label).strip("_") or "run"
    lines = []
    for q, units in run.items():
        ranked = sorted(units.items(), key=lambda kv: -kv[1])
        lines += [f"{_id(q)} Q0 {_id(u)} {rank} {score:g} {tag}"
                  for rank, (u, score) in enumerate(ranked, 1)]
    Path(path).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return Path(path)


def run_file_name(label: str) -> str:
    """A file name for the run of ablation `label` ("default −scope" → run-default-scope.txt)."""
    return f"run-{re.sub(r'[^0-9A-Za-z]+', '-', label).strip('-') or 'run'}.txt"


def _id(value: str) -> str:
    if not value or any(ch.isspace() for ch in value):
        raise QueryError(f"the id {value!r} holds whitespace and cannot be written in TREC "
                         "form; give the test set ids without spaces")
    return value
