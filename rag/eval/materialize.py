"""A test set's own documents written as a corpus folder, and its judgments moved onto the
index's document ids and stored text.

The folder is the set's alone: a marker file lists what was written, so writing the set
again replaces its own files and never touches a folder of someone's reports.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from ..errors import QueryError
from ..ingest import Document, make_doc_id
from .dataset import EvalSet, QAItem, Span

MARKER = ".eval-set.json"


def write_corpus(eval_set: EvalSet, corpus_dir: Path) -> dict[str, str]:
    """Write every document of `eval_set` as a .txt file into `corpus_dir`; return each
    document key's doc id."""
    corpus_dir = Path(corpus_dir)
    marker = corpus_dir / MARKER
    if corpus_dir.exists() and any(corpus_dir.iterdir()) and not marker.is_file():
        raise QueryError(f"{corpus_dir} already holds files that no test set wrote; give an "
                         "empty or new folder to --corpus with --corpus-from-qa")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    previous = set(json.loads(marker.read_text(encoding="utf-8"))["files"]) \
        if marker.is_file() else set()
    ids: dict[str, str] = {}
    names: list[str] = []
    taken: set[str] = set()
    for doc in eval_set.documents:
        stem = re.sub(r"[^\w.-]+", "-", doc.key).strip("-.")[:80] or "doc"
        name, n = f"{stem}.txt", 1
        while make_doc_id(Path(name)) in taken:
            n += 1
            name = f"{stem}-{n}.txt"
        taken.add(make_doc_id(Path(name)))
        ids[doc.key] = make_doc_id(Path(name))
        path = corpus_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != doc.text:
            path.write_text(doc.text, encoding="utf-8")
        names.append(name)
    for stale in previous - set(names):
        (corpus_dir / stale).unlink(missing_ok=True)
    marker.write_text(json.dumps({"source": str(eval_set.path), "format": eval_set.format,
                                  "files": names}, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    return ids


def resolve_items(eval_set: EvalSet, ids: dict[str, str], documents: dict[str, Document]
                  ) -> tuple[list[QAItem], int]:
    """The set's questions with document keys replaced by doc ids and spans checked
    against the stored text; also how many spans had to be found again (the stored text
    dropped a line the written one had)."""
    texts = {d.key: d.text for d in eval_set.documents}
    items = []
    moved = 0
    for item in eval_set.items:
        spans = []
        for span in item.spans:
            doc_id = ids[span.doc]
            stored = documents[doc_id].text
            answer = texts[span.doc][span.start:span.end]
            start = span.start
            if stored[start:span.end] != answer:
                found = [m.start() for m in re.finditer(re.escape(answer), stored)]
                if not found:
                    continue
                start = min(found, key=lambda s: abs(s - span.start))
                moved += 1
            spans.append(Span(doc_id, start, start + len(answer)))
        items.append(replace(
            item, doc=ids.get(item.doc, item.doc) if item.doc else None, spans=tuple(spans),
            qrels=tuple((ids[d], g) for d, g in item.qrels)))
    return items, moved
