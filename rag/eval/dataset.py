"""Test sets in the field's formats, read into one shape: questions and their documents.

Four formats are recognised from the path (`detect_format`):

- ``own``: the project's JSONL (``id, lang, question, doc, evidence, answers, type``);
  relevance is the evidence phrase.
- ``squad``: SQuAD/KorQuAD JSON (``data[].paragraphs[].context/qas[]``); every article
  becomes a document and relevance is the answer span at its recorded offset. SQuAD 2.0's
  ``is_impossible`` questions are unanswerable.
- ``beir``: a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``);
  every corpus entry becomes a document and relevance is the qrels' grade per document.
- ``simple``: CSV or JSONL with a ``question`` column and ``answer``/``answers``; relevance
  is a passage holding an answer string (DPR's convention), and a row without an answer is
  unanswerable.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import QueryError
from ..language import reply_language

FORMATS = ("own", "squad", "beir", "simple")
OWN_KEYS = {"id", "lang", "question", "doc", "evidence", "answers", "type"}


@dataclass(frozen=True)
class Span:
    """An answer's place: characters ``[start, end)`` of document `doc`."""

    doc: str
    start: int
    end: int


@dataclass(frozen=True)
class QAItem:
    """One test question and what makes a passage relevant to it.

    Exactly one kind of judgment applies, in this order: `spans` (SQuAD), `qrels` (BEIR,
    graded per document), `evidence` (a phrase the passage must hold), else `answers`
    (any answer string). A question with none of them is unanswerable.
    """

    id: str
    lang: str
    question: str
    doc: str | None
    evidence: str | None
    answers: tuple[str, ...]
    type: str
    spans: tuple[Span, ...] = ()
    qrels: tuple[tuple[str, int], ...] = ()

    @property
    def answerable(self) -> bool:
        return (self.evidence is not None or bool(self.spans)
                or any(grade > 0 for _, grade in self.qrels) or bool(self.answers))


@dataclass(frozen=True)
class SourceDocument:
    """A document a test set carries (SQuAD article, BEIR entry), written as `text`."""

    key: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalSet:
    """Questions, and the documents they were written on when the set carries them.

    `unit` is what relevance is judged on: "chunk" (a passage of the index) or "doc"
    (BEIR's documents, ranked by their best passage).
    """

    path: Path
    format: str
    items: tuple[QAItem, ...]
    documents: tuple[SourceDocument, ...] = ()
    unit: str = "chunk"
    notes: tuple[str, ...] = field(default_factory=tuple)


def detect_format(path: Path) -> str:
    """Which of FORMATS `path` holds, from its shape (folder, suffix, first record)."""
    path = Path(path)
    if path.is_dir():
        if (path / "corpus.jsonl").is_file() and (path / "queries.jsonl").is_file():
            return "beir"
        raise QueryError(f"{path} is a folder but not a BEIR set (corpus.jsonl, queries.jsonl, "
                         "qrels/*.tsv); give a BEIR folder or a Q&A file")
    if not path.is_file():
        raise QueryError(f"the test set {path} does not exist; give a JSONL, JSON, CSV file "
                         "or a BEIR folder")
    if path.suffix.lower() in (".csv", ".tsv"):
        return "simple"
    first = _first_record(path)
    if first is None:
        raise QueryError(f"the test set {path} holds no questions")
    if isinstance(first, dict) and "data" in first and path.suffix.lower() == ".json":
        return "squad"
    # The evidence phrase is the project's own field: a record with it is read (and its
    # missing fields reported) as the project's format.
    if isinstance(first, dict) and (set(first) >= OWN_KEYS or "evidence" in first):
        return "own"
    if isinstance(first, dict) and "question" in first:
        return "simple"
    raise QueryError(f"cannot tell the format of {path}: expected the project's JSONL, "
                     "SQuAD/KorQuAD JSON (with 'data'), a BEIR folder, or CSV/JSONL with "
                     "'question' and 'answer' or 'answers'")


def load_eval_set(path: Path, fmt: str | None = None) -> EvalSet:
    """Read the test set at `path` in format `fmt` (detected when None)."""
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise QueryError(f"unknown test-set format {fmt!r}; use one of {', '.join(FORMATS)}")
    from . import beir, squad

    readers = {"own": _read_own, "simple": _read_simple, "squad": squad.read_squad,
               "beir": beir.read_beir}
    eval_set = readers[fmt](Path(path))
    if not eval_set.items:
        raise QueryError(f"the test set {path} holds no questions")
    ids = [item.id for item in eval_set.items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise QueryError(f"the test set {path} has the question id {dup!r} twice; ids must "
                         "be unique")
    return eval_set


def load_qa(path: Path) -> list[QAItem]:
    """The questions of the test set at `path`, any format."""
    return list(load_eval_set(path).items)


def read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read the test set {path} ({exc}); give a UTF-8 file") \
            from exc


def read_jsonl(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed value) of every non-blank line."""
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise QueryError(f"{path}:{number} is not valid JSON ({exc.msg})") from exc
    return rows


def _first_record(path: Path) -> Any:
    text = read_text(path).lstrip()
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise QueryError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") \
                from exc
    line = text.split("\n", 1)[0]
    try:
        return json.loads(line) if line else None
    except json.JSONDecodeError as exc:
        raise QueryError(f"{path}:1 is not valid JSON ({exc.msg})") from exc


def _read_own(path: Path) -> EvalSet:
    items = []
    for number, row in read_jsonl(path):
        missing = OWN_KEYS - set(row) if isinstance(row, dict) else OWN_KEYS
        if missing:
            raise QueryError(f"{path}:{number} lacks the field(s) {', '.join(sorted(missing))}")
        if not (isinstance(row["question"], str) and isinstance(row["answers"], list)
                and all(isinstance(row[k], str | None) for k in ("doc", "evidence"))):
            raise QueryError(f"{path}:{number}: question must be a string, answers a list, "
                             "doc and evidence strings or null")
        items.append(QAItem(str(row["id"]), row["lang"], row["question"], row["doc"],
                            row["evidence"], tuple(row["answers"]), row["type"]))
    return EvalSet(path, "own", tuple(items))


def _read_simple(path: Path) -> EvalSet:
    if path.suffix.lower() in (".csv", ".tsv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.DictReader(read_text(path).splitlines(), delimiter=delimiter)
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise QueryError(f"{path} needs a header row with a 'question' column (and "
                             "'answer' or 'answers')")
        rows = [(number, dict(row)) for number, row in enumerate(reader, 2)]
    else:
        rows = read_jsonl(path)
    items = []
    for number, row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) \
                or not row["question"].strip():
            raise QueryError(f"{path}:{number} needs a non-empty 'question'")
        answers = _answers_of(row, path, number)
        qid = str(row.get("id") or f"q{number:05d}")
        lang = row.get("lang") or reply_language(row["question"])
        items.append(QAItem(qid, lang, row["question"], row.get("doc") or None,
                            row.get("evidence") or None, answers,
                            row.get("type") or ("answerable" if answers else "unanswerable")))
    return EvalSet(path, "simple", tuple(items))


def _answers_of(row: dict[str, Any], path: Path, number: int) -> tuple[str, ...]:
    """`answers` as a list (or, in CSV, a JSON list or '|'-separated), or one `answer`."""
    value = row.get("answers", row.get("answer"))
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise QueryError(f"{path}:{number}: answers is not a JSON list ({exc.msg})") \
                    from exc
        else:
            value = value.split("|") if "answers" in row else [value]
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise QueryError(f"{path}:{number}: answers must be a list of strings")
    return tuple(a.strip() for a in value if a.strip())
