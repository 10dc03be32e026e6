"""SQuAD/KorQuAD JSON: articles become documents, answers become spans in them.

An article is written as its title, a blank line, and its paragraphs separated by blank
lines; each answer's ``answer_start`` (an offset into its paragraph's context) is moved
by that paragraph's place in the written text. An offset that does not point at its
answer text (a known blemish of some SQuAD-style sets) is moved to the nearest occurrence
of the text in the same paragraph, and counted in the set's notes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import QueryError
from ..language import reply_language
from .dataset import EvalSet, QAItem, SourceDocument, Span, read_text

PARAGRAPH_SEP = "\n\n"


def read_squad(path: Path) -> EvalSet:
    """Read a SQuAD v1/v2 or KorQuAD 1.0 file."""
    try:
        data = json.loads(read_text(path))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise QueryError(f"{path} is not SQuAD JSON (a 'data' list of articles): {exc}") \
            from exc
    if not isinstance(data, list):
        raise QueryError(f"{path}: 'data' must be a list of articles")
    documents: list[SourceDocument] = []
    items: list[QAItem] = []
    moved = dropped = 0
    keys: set[str] = set()
    for a, article in enumerate(data):
        title = str(article.get("title") or f"article {a + 1}").replace("_", " ").strip()
        key = _unique_key(title, a, keys)
        parts = [title]
        offset = len(title) + len(PARAGRAPH_SEP)
        for p, paragraph in enumerate(_list(article, "paragraphs", path, f"data[{a}]")):
            context = paragraph.get("context")
            if not isinstance(context, str):
                raise QueryError(f"{path}: data[{a}].paragraphs[{p}] has no 'context' string")
            for qa in _list(paragraph, "qas", path, f"data[{a}].paragraphs[{p}]"):
                spans, answers, fixed, lost = _spans(qa, context, key, offset)
                moved += fixed
                dropped += lost
                impossible = bool(qa.get("is_impossible")) or not answers
                question = str(qa.get("question", "")).strip()
                if not question:
                    raise QueryError(f"{path}: a question of data[{a}].paragraphs[{p}] is empty")
                items.append(QAItem(
                    str(qa.get("id") or f"{key}-{p}-{len(items)}"), reply_language(question),
                    question, key, None, () if impossible else answers,
                    "unanswerable" if impossible else "span",
                    () if impossible else spans))
            parts.append(context)
            offset += len(context) + len(PARAGRAPH_SEP)
        documents.append(SourceDocument(key, title, PARAGRAPH_SEP.join(parts) + "\n"))
    notes = []
    if moved:
        notes.append(f"{moved} answer offset(s) did not point at their text and were moved to "
                     "its nearest occurrence")
    if dropped:
        notes.append(f"{dropped} answer(s) not found in their paragraph were left out")
    return EvalSet(Path(path), "squad", tuple(items), tuple(documents), "chunk", tuple(notes))


def write_squad(path: Path, articles: list[dict[str, Any]]) -> None:
    """Write `articles` (``title``, ``paragraphs`` of ``context`` and ``qas``) as SQuAD JSON."""
    Path(path).write_text(json.dumps({"version": "1.0", "data": articles},
                                     ensure_ascii=False) + "\n", encoding="utf-8")


def _spans(qa: dict[str, Any], context: str, key: str, offset: int
           ) -> tuple[tuple[Span, ...], tuple[str, ...], int, int]:
    spans: list[Span] = []
    texts: list[str] = []
    moved = lost = 0
    for answer in qa.get("answers") or []:
        text = str(answer.get("text", ""))
        start = answer.get("answer_start")
        if not text.strip():
            continue
        if not (isinstance(start, int) and context[start:start + len(text)] == text):
            found = [m.start() for m in re.finditer(re.escape(text), context)]
            if not found:
                lost += 1
                continue
            start = min(found, key=lambda s: abs(s - (start if isinstance(start, int) else 0)))
            moved += 1
        span = Span(key, offset + start, offset + start + len(text))
        if span not in spans:
            spans.append(span)
        if text not in texts:
            texts.append(text)
    return tuple(spans), tuple(texts), moved, lost


def _list(obj: Any, name: str, path: Path, where: str) -> list[Any]:
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        raise QueryError(f"{path}: {where} has no '{name}' list")
    return value


def _unique_key(title: str, number: int, taken: set[str]) -> str:
    key = re.sub(r"[^\w.-]+", "-", title).strip("-.")[:60] or f"article-{number + 1}"
    if key in taken:
        key = f"{key}-{number + 1}"
    taken.add(key)
    return key
