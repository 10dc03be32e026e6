"""Sanity checks for the evaluation question set eval/qa.jsonl."""

import json
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QA_PATH = ROOT / "eval" / "qa.jsonl"
CORPUS = ROOT / "corpus"

KEYS = {"id", "lang", "question", "doc", "evidence", "answers", "type"}
LANGS = {"ko", "en"}
ANSWERABLE_TYPES = {"fact", "number", "list", "compare"}
TYPES = ANSWERABLE_TYPES | {"unanswerable"}


def _norm(text):
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s,]", "", text).lower()


def _load():
    rows = []
    with QA_PATH.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                pytest.fail(f"line {lineno}: invalid JSON: {exc}")
    return rows


ROWS = _load()
ANSWERABLE = [r for r in ROWS if r.get("type") != "unanswerable"]
UNANSWERABLE = [r for r in ROWS if r.get("type") == "unanswerable"]
_DOC_CACHE = {}


def _doc_text(doc):
    if doc not in _DOC_CACHE:
        _DOC_CACHE[doc] = (CORPUS / f"{doc}.txt").read_text(encoding="utf-8")
    return _DOC_CACHE[doc]


def test_file_not_empty():
    assert ROWS


def test_no_blank_lines():
    lines = QA_PATH.read_text(encoding="utf-8").splitlines()
    assert all(line.strip() for line in lines)


def _schema_problems(row):
    if set(row) != KEYS:
        return [f"keys {sorted(set(row) ^ KEYS)} differ from the schema"]
    checks = [
        (isinstance(row["id"], str) and bool(row["id"]), "id is no string"),
        (row["lang"] in LANGS, f"lang {row['lang']!r}"),
        (isinstance(row["question"], str) and bool(row["question"].strip()), "no question"),
        (row["doc"] is None or isinstance(row["doc"], str), "doc is no string"),
        (row["evidence"] is None or isinstance(row["evidence"], str), "evidence is no string"),
        (isinstance(row["answers"], list)
         and all(isinstance(a, str) and a.strip() for a in row["answers"]), "bad answers"),
        (row["type"] in TYPES, f"type {row['type']!r}"),
    ]
    return [why for ok, why in checks if not ok]


def _id_problems(row):
    if row["type"] == "unanswerable":
        ok = bool(re.fullmatch(r"un-(ko|en)-\d{3}", row["id"])) \
            and row["id"].split("-")[1] == row["lang"]
    else:
        ok = bool(re.fullmatch(r"(ko|en)-\d{3}", row["id"])) \
            and row["id"].split("-")[0] == row["lang"]
    return [] if ok else ["id does not match its language and type"]


def _problems(rows, check):
    """Every row's problems at once, named by id: one test for the whole set, so the suite
    counts checks rather than questions."""
    return [f"{row.get('id')}: {why}" for row in rows for why in check(row)]


def test_schema():
    assert not _problems(ROWS, _schema_problems)


def test_id_matches_lang_and_type():
    assert not _problems(ROWS, _id_problems)


def test_ids_unique():
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids))


def test_questions_unique():
    qs = [r["question"] for r in ROWS]
    assert len(qs) == len(set(qs))


def test_counts():
    ko = sum(1 for r in ANSWERABLE if r["lang"] == "ko")
    en = sum(1 for r in ANSWERABLE if r["lang"] == "en")
    assert ko >= 60, ko
    assert en >= 60, en
    assert len(UNANSWERABLE) >= 20, len(UNANSWERABLE)
    un_ko = sum(1 for r in UNANSWERABLE if r["lang"] == "ko")
    un_en = sum(1 for r in UNANSWERABLE if r["lang"] == "en")
    assert un_ko >= 5 and un_en >= 5


def test_every_document_covered():
    docs = {p.stem for p in CORPUS.glob("*.txt")}
    used = {r["doc"] for r in ANSWERABLE}
    assert docs <= used, docs - used


def _answerable_problems(row):
    ev = row["evidence"]
    checks = [
        (row["type"] in ANSWERABLE_TYPES, f"type {row['type']!r}"),
        (bool(row["doc"]) and (CORPUS / f"{row['doc']}.txt").is_file(), "no such doc"),
        (isinstance(ev, str) and bool(ev.strip()) and "\n" not in ev and "\r" not in ev,
         "evidence must be one non-empty line"),
        (bool(row["answers"]), "no answers"),
    ]
    return [why for ok, why in checks if not ok]


def _verbatim_problems(row):
    text = _doc_text(row["doc"])
    problems = [] if row["evidence"] in text else [f"evidence not found: {row['evidence']!r}"]
    norm = _norm(text)
    if not any(_norm(a) and _norm(a) in norm for a in row["answers"]):
        problems.append(f"none of {row['answers']!r} occurs in {row['doc']}")
    return problems


def _unanswerable_problems(row):
    ok = (row["id"].startswith("un-") and row["doc"] is None and row["evidence"] is None
          and row["answers"] == [])
    return [] if ok else ["an unanswerable question has no doc, evidence or answers"]


def test_answerable_entry():
    assert not _problems(ANSWERABLE, _answerable_problems)


def test_evidence_and_an_answer_verbatim_in_the_document():
    assert not _problems(ANSWERABLE, _verbatim_problems)


def test_unanswerable_entry():
    assert not _problems(UNANSWERABLE, _unanswerable_problems)
