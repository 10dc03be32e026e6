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


@pytest.mark.parametrize("row", ROWS, ids=lambda r: str(r.get("id")))
def test_schema(row):
    assert set(row) == KEYS
    assert isinstance(row["id"], str) and row["id"]
    assert row["lang"] in LANGS
    assert isinstance(row["question"], str) and row["question"].strip()
    assert row["doc"] is None or isinstance(row["doc"], str)
    assert row["evidence"] is None or isinstance(row["evidence"], str)
    assert isinstance(row["answers"], list)
    assert all(isinstance(a, str) and a.strip() for a in row["answers"])
    assert row["type"] in TYPES


@pytest.mark.parametrize("row", ROWS, ids=lambda r: str(r.get("id")))
def test_id_matches_lang_and_type(row):
    if row["type"] == "unanswerable":
        assert re.fullmatch(r"un-(ko|en)-\d{3}", row["id"])
        assert row["id"].split("-")[1] == row["lang"]
    else:
        assert re.fullmatch(r"(ko|en)-\d{3}", row["id"])
        assert row["id"].split("-")[0] == row["lang"]


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


@pytest.mark.parametrize("row", ANSWERABLE, ids=lambda r: r["id"])
def test_answerable_entry(row):
    assert row["type"] in ANSWERABLE_TYPES
    assert row["doc"], "answerable question needs a doc"
    assert (CORPUS / f"{row['doc']}.txt").is_file(), row["doc"]
    ev = row["evidence"]
    assert isinstance(ev, str) and ev.strip()
    assert "\n" not in ev and "\r" not in ev
    assert row["answers"], "answerable question needs answers"


@pytest.mark.parametrize("row", ANSWERABLE, ids=lambda r: r["id"])
def test_evidence_verbatim_in_document(row):
    text = _doc_text(row["doc"])
    assert row["evidence"] in text, f"{row['id']}: evidence not found: {row['evidence']!r}"


@pytest.mark.parametrize("row", ANSWERABLE, ids=lambda r: r["id"])
def test_some_answer_in_document(row):
    text = _norm(_doc_text(row["doc"]))
    found = [a for a in row["answers"] if _norm(a) and _norm(a) in text]
    assert found, f"{row['id']}: none of {row['answers']!r} occurs in {row['doc']}"


@pytest.mark.parametrize("row", UNANSWERABLE, ids=lambda r: r["id"])
def test_unanswerable_entry(row):
    assert row["id"].startswith("un-")
    assert row["doc"] is None
    assert row["evidence"] is None
    assert row["answers"] == []
