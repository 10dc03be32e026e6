"""BEIR folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

Relevance is graded per document, as BEIR and MTEB score it; the split read is ``test``
when there, else the only one present. Queries without a judgment in the split are not
asked (BEIR's own evaluation skips them too).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from ..errors import QueryError
from ..language import reply_language
from .dataset import EvalSet, QAItem, SourceDocument, read_jsonl, read_text


def read_beir(folder: Path, split: str | None = None) -> EvalSet:
    folder = Path(folder)
    qrels_file = _qrels_file(folder, split)
    judged: dict[str, list[tuple[str, int]]] = defaultdict(list)
    rows = list(csv.reader(read_text(qrels_file).splitlines(), delimiter="\t"))
    for number, row in enumerate(rows, 1):
        if number == 1 and len(row) >= 3 and not row[-1].lstrip("-").isdigit():
            continue  # the header: query-id, corpus-id, score
        if len(row) < 3 or not row[-1].lstrip("-").isdigit():
            raise QueryError(f"{qrels_file}:{number} is not 'query-id<TAB>corpus-id<TAB>score'")
        judged[row[0]].append((row[1], int(row[-1])))
    documents = []
    seen: set[str] = set()
    for number, row in read_jsonl(folder / "corpus.jsonl"):
        if not isinstance(row, dict) or "_id" not in row or not isinstance(row.get("text"), str):
            raise QueryError(f"{folder / 'corpus.jsonl'}:{number} needs '_id' and 'text'")
        key = str(row["_id"])
        if key in seen:
            raise QueryError(f"{folder / 'corpus.jsonl'}:{number} repeats the id {key!r}")
        seen.add(key)
        title = str(row.get("title") or "").strip()
        text = f"{title}\n\n{row['text']}\n" if title else f"{row['text']}\n"
        documents.append(SourceDocument(key, title or key, text))
    items = []
    for number, row in read_jsonl(folder / "queries.jsonl"):
        if not isinstance(row, dict) or "_id" not in row or not isinstance(row.get("text"), str):
            raise QueryError(f"{folder / 'queries.jsonl'}:{number} needs '_id' and 'text'")
        qid = str(row["_id"])
        if qid not in judged:
            continue
        unknown = [d for d, _ in judged[qid] if d not in seen]
        if unknown:
            raise QueryError(f"{qrels_file} judges document {unknown[0]!r} for query {qid!r}, "
                             "but corpus.jsonl has no such document")
        grades = tuple(judged[qid])
        answerable = any(g > 0 for _, g in grades)
        items.append(QAItem(qid, reply_language(row["text"]), row["text"], None, None, (),
                            "beir" if answerable else "unanswerable", qrels=grades))
    return EvalSet(folder, "beir", tuple(items), tuple(documents), "doc")


def _qrels_file(folder: Path, split: str | None) -> Path:
    files = sorted((folder / "qrels").glob("*.tsv"))
    if not files:
        raise QueryError(f"{folder} has no qrels/*.tsv; a BEIR folder needs qrels/test.tsv")
    names = {f.stem: f for f in files}
    if split:
        if split not in names:
            raise QueryError(f"{folder}/qrels has no {split}.tsv (has {', '.join(names)})")
        return names[split]
    if "test" in names:
        return names["test"]
    if len(files) == 1:
        return files[0]
    raise QueryError(f"{folder}/qrels has several splits ({', '.join(names)}) and no test.tsv")
