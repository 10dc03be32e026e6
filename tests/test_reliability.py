"""The reliability catalogue: what a careless or hostile user can hand the command line
and the index, each kind with the one outcome it must have.

Every case runs the real `rag` entry point in-process on a tiny corpus (hashing
embedder). A refusal is one line `rag: error: …` with exit 1 that says what to do, never
a traceback or "internal error" (exit 2); a bad file is skipped by name while the rest is
indexed; nothing the user had is lost. Two cases need a real process (a closed pipe,
bytes that are not UTF-8 on the command line).

Kept beside their modules, and part of the same catalogue: crashes of a writer at every
step, kill -9, two writers and readers during a swap (tests/test_generations.py);
uploads off the request queue, cancelled uploads, oversize uploads and file names
(tests/test_uploads.py, tests/test_index_worker.py, tests/test_ui_browser.py); escaping
of titles, file names and messages (tests/test_render.py); report text that prints [1]
(tests/test_answer.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rag.cli import main
from rag.generations import current_dir

RAG = Path(sys.executable).parent / "rag"
GBK_TEXT = ("人工智能产业的发展正在改变全球经济格局。中国政府高度重视人工智能技术的研究与应用。"
            "专家认为未来五年是人工智能发展的关键时期需要加强基础研究突破核心技术。")
SJIS_TEXT = "人工知能の発展は世界経済を変えている。日本政府は基礎研究と人材育成を重視している。"
KOREAN = "제주 감귤 보고서\n\n1 개요\n제주 감귤 수확량은 2024년에 17% 늘었다.\n"


@dataclass(frozen=True)
class Case:
    """One kind of bad input or fault: what is set up, the command, what it must do."""

    kind: str
    argv: tuple[str, ...]
    code: int
    says: tuple[str, ...] = ()  # in the one error line (code 1), else in stdout+stderr
    prepare: Callable[[Path], None] | None = None
    indexed: bool = True  # corpus/ indexed into index/ before the command
    check: Callable[[Path, str, str], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


# --- what the cases set up ------------------------------------------------------------

def _write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    return prepare


def _index_file(name: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        path = current_dir(root / "index") / name
        path.write_bytes(change(path.read_bytes()))
    return prepare


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x20]) + data[middle + 1:]


def _lose_manifest(root: Path) -> None:
    (current_dir(root / "index") / "manifest.json").unlink()


def _batch(*lines: str | bytes) -> Callable[[Path], None]:
    data = b"".join((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n"
                    for line in lines)
    return _write("q.jsonl", data)


def _link_folder(root: Path) -> None:
    outside = root / "elsewhere"
    outside.mkdir()
    (outside / "outside.txt").write_text(KOREAN, encoding="utf-8")
    (root / "corpus" / "shortcut").symlink_to(outside, target_is_directory=True)


def _stale_tmp(root: Path) -> None:
    stale = root / "index" / "tmp-99999-1"
    stale.mkdir()
    (stale / "chunks.jsonl").write_text("half written", encoding="utf-8")


def _no_corpus(root: Path) -> None:
    for path in (root / "corpus").iterdir():
        path.unlink()
    (root / "corpus").rmdir()


def _empty_corpus(root: Path) -> None:
    for path in (root / "corpus").iterdir():
        path.unlink()


# --- what the cases check afterwards --------------------------------------------------

def _rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def _batch_went_on(bad_line: int, message: str) -> Callable[[Path, str, str], None]:
    def check(root: Path, out: str, err: str) -> None:
        rows = _rows(out)
        assert [r["line"] for r in rows if "error" in r] == [bad_line], rows
        assert message in rows[bad_line - 1]["error"]
        assert len(rows) == 3 and all(r.get("hits") or r.get("answer")
                                      for r in rows if "error" not in r)
    return check


def _skipped(name: str, *why: str) -> Callable[[Path, str, str], None]:
    def check(root: Path, out: str, err: str) -> None:
        line = next(x for x in err.splitlines() if x.startswith("skipped ") and name in x)
        assert all(w in line for w in why), line
        assert err.strip().splitlines()[-1].endswith("the other reports are indexed")
        assert "alpha" in _documents(root) and "beta" in _documents(root)
    return check


def _indexed_as(doc_id: str, encoding: str) -> Callable[[Path, str, str], None]:
    def check(root: Path, out: str, err: str) -> None:
        assert _documents(root)[doc_id]["encoding"] == encoding
    return check


def _documents(root: Path) -> dict:
    manifest = current_dir(root / "index") / "manifest.json"
    return json.loads(manifest.read_text(encoding="utf-8"))["documents"]


def _kept(name: str, text: str) -> Callable[[Path, str, str], None]:
    def check(root: Path, out: str, err: str) -> None:
        assert (root / name).read_text(encoding="utf-8") == text
    return check


def _abstains(root: Path, out: str, err: str) -> None:
    answer = json.loads(out)
    assert answer["abstained"] and not answer["citations"]


def _searchable_again(root: Path, out: str, err: str) -> None:
    assert main(["search", "어센드 910C", "-k", "1"]) == 0


def _tmp_cleaned(root: Path, out: str, err: str) -> None:
    assert not (root / "index" / "tmp-99999-1").exists()


LONG = "가" * 10_001
CASES = [
    # questions
    Case("empty question", ("search", ""), 1, ("empty",)),
    Case("whitespace question", ("ask", " \t\n "), 1, ("empty",)),
    Case("emoji-only question", ("ask", "🙂🙂🙂"), 1, ("no words to search for",)),
    Case("punctuation-only question", ("search", "?!…·"), 1, ("no words to search for",)),
    Case("lone surrogate (invalid UTF-8 read by Python)", ("search", "\udcff특허"), 1,
         ("not valid text",)),
    Case("control characters in the question", ("search", "어센드\x07\x1b 910C", "--json"),
         0, ('"query": "어센드   910C"',)),
    Case("over-long question", ("search", LONG), 1, ("10,001", "10,000", "max_query_chars")),
    Case("particles only", ("ask", "의 은 는", "--json"), 0, check=_abstains),
    Case("no question", ("search",), 1, ("no question given",)),
    Case("question and --batch", ("search", "중국", "--batch", "q.jsonl"), 1,
         ("either a question or --batch",)),
    # numbers and ids
    Case("k = 0", ("search", "중국", "-k", "0"), 1, ("k must be from 1 to 1000, not 0",)),
    Case("k negative", ("search", "중국", "-k", "-3"), 1, ("not -3",)),
    Case("k = 10**9", ("ask", "중국", "-k", str(10**9)), 1, ("not 1,000,000,000",)),
    Case("unknown document id", ("search", "중국", "--doc", "nope"), 1,
         ("nope", "known: alpha, beta")),
    # batches
    Case("batch line not JSON", ("search", "--batch", "q.jsonl"), 1, ("1 line(s)",),
         _batch('{"id": 1, "question": "물 가격"}', "{oops", '{"id": 3, "question": "수율"}'),
         check=_batch_went_on(2, "is not valid JSON")),
    Case("batch line without id", ("search", "--batch", "q.jsonl"), 1, ("1 line(s)",),
         _batch('{"id": 1, "question": "물 가격"}', '{"question": "물"}',
                '{"id": 3, "question": "수율"}'),
         check=_batch_went_on(2, 'needs an object with "id" and "question"')),
    Case("batch question a number", ("ask", "--batch", "q.jsonl"), 1, ("1 line(s)",),
         _batch('{"id": 1, "question": "물 가격"}', '{"id": 2, "question": 42}',
                '{"id": 3, "question": "수율"}'),
         check=_batch_went_on(2, "the question must be text")),
    Case("batch line with a lone surrogate", ("search", "--batch", "q.jsonl"), 1,
         ("1 line(s)",), _batch('{"id": 1, "question": "물 가격"}',
                                '{"id": 2, "question": "\\ud800 물"}',
                                '{"id": 3, "question": "수율"}'),
         check=_batch_went_on(2, "not valid text")),
    Case("batch line not UTF-8", ("search", "--batch", "q.jsonl"), 1, ("1 line(s)",),
         _batch('{"id": 1, "question": "물 가격"}',
                '{"id": 2, "question": "물 가격"}'.encode("cp949"),
                '{"id": 3, "question": "수율"}'),
         check=_batch_went_on(2, "not UTF-8 text")),
    Case("batch file missing", ("search", "--batch", "nope.jsonl"), 1,
         ("cannot read the batch file nope.jsonl", "No such file")),
    Case("batch file empty", ("search", "--batch", "q.jsonl"), 1, ("holds no questions",),
         _write("q.jsonl", "\n  \n")),
    # the index
    Case("no index yet", ("search", "중국"), 1, ("no index at", "rag index"), indexed=False),
    Case("index file truncated", ("search", "중국"), 1, ("chunks.jsonl", "rag index --rebuild"),
         _index_file("chunks.jsonl", lambda b: b[:-30])),
    Case("index file with a flipped byte", ("search", "중국"), 1, ("rag index --rebuild",),
         _index_file("embeddings.npy", _flip)),
    Case("index manifest lost, then rebuilt", ("index", "--no-progress"), 0, ("indexed",),
         _lose_manifest, check=_searchable_again),
    Case("index built with other settings", ("search", "중국"), 1,
         ("chunk_tokens", "rag index --rebuild"), env={"RAG_CHUNK_TOKENS": "130"}),
    Case("index path is a file", ("index", "--index", "notes.txt", "--no-progress"), 1,
         ("is a file, not an index folder",), _write("notes.txt", "my notes"),
         indexed=False, check=_kept("notes.txt", "my notes")),
    Case("index folder cannot be written", ("index", "--index", "notes.txt/ix"), 1,
         ("cannot write the index at notes.txt/ix",), _write("notes.txt", "my notes"),
         indexed=False, check=_kept("notes.txt", "my notes")),
    Case("index folder holds other files", ("index", "--no-progress"), 1, ("not an index",),
         _write("index/notes.txt", "keep"), indexed=False, check=_kept("index/notes.txt", "keep")),
    Case("half-written folder of a crashed writer", ("index", "--rebuild", "--no-progress"),
         0, ("indexed",), _stale_tmp, check=_tmp_cleaned),
    # the corpus
    Case("corpus folder missing", ("index", "--no-progress"), 1, ("corpus", "does not exist"),
         _no_corpus, indexed=False),
    Case("corpus folder empty", ("index", "--no-progress"), 1, ("holds no reports",),
         _empty_corpus, indexed=False),
    Case("empty file", ("index", "--no-progress"), 0, (), _write("corpus/blank.txt", ""),
         check=_skipped("blank.txt", "0 bytes")),
    Case("binary file named .txt", ("index", "--no-progress"), 0, (),
         _write("corpus/scan.txt", bytes(range(256)) * 4), check=_skipped("scan.txt", "binary")),
    Case("GBK Chinese file", ("index", "--no-progress"), 0, (),
         _write("corpus/china.txt", GBK_TEXT.encode("gbk")),
         check=_skipped("china.txt", "not Korean text", "GBK")),
    Case("Shift-JIS Japanese file", ("index", "--no-progress"), 0, (),
         _write("corpus/japan.txt", SJIS_TEXT.encode("shift_jis")),
         check=_skipped("japan.txt", "convert it to UTF-8")),
    Case("CP949 Korean file", ("index", "--no-progress"), 0, (),
         _write("corpus/legacy.txt", KOREAN.encode("cp949")),
         check=_indexed_as("legacy", "cp949")),
    Case("UTF-16 Korean file", ("index", "--no-progress"), 0, (),
         _write("corpus/wide.txt", KOREAN.encode("utf-16")), check=_indexed_as("wide", "utf-16")),
    Case("hidden file", ("index", "--no-progress"), 0, (),
         _write("corpus/.draft.txt", KOREAN), check=_skipped(".draft.txt", "hidden file")),
    Case("file of another format", ("index", "--no-progress"), 0, (),
         _write("corpus/budget.xlsx", b"PK\x03\x04"),
         check=_skipped("budget.xlsx", "not a report format")),
    Case("damaged PDF", ("index", "--no-progress"), 0, (),
         _write("corpus/broken.pdf", b"%PDF-1.4 cut off"),
         check=_skipped("broken.pdf", "not a readable PDF")),
    Case("DOCX that is no zip", ("index", "--no-progress"), 0, (),
         _write("corpus/memo.docx", b"not a zip at all"), check=_skipped("memo.docx")),
    Case("linked folder", ("index", "--no-progress"), 0, (), _link_folder,
         check=_skipped("shortcut", "link to a folder")),
    Case("two files with one document id", ("index", "--no-progress"), 0, (),
         _write("corpus/Alpha.md", KOREAN), check=_skipped("alpha", "same document id")),
    # settings
    Case("unknown RAG_ variable", ("index", "--no-progress"), 1, ("RAG_CHUNK_TOKEN",),
         indexed=False, env={"RAG_CHUNK_TOKEN": "100"}),
    Case("setting not a number", ("search", "중국"), 1, ("RAG_TOP_K",),
         env={"RAG_TOP_K": "five"}),
]


def test_the_catalogue_has_forty_kinds_or_more() -> None:
    kinds = [c.kind for c in CASES]
    assert len(set(kinds)) == len(kinds) and len(kinds) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_catalogue(case: Case, env: Path, corpus_dir: Path, capsys, monkeypatch) -> None:
    if case.indexed:
        assert main(["index", "--no-progress"]) == 0
        capsys.readouterr()
    if case.prepare:
        case.prepare(env)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    code = main(list(case.argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    assert code == case.code, (out, err)
    if case.code == 1 and "--batch" not in case.argv:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rag: error: "), err
        assert out == ""
    for fragment in case.says:
        assert fragment in (err if case.code == 1 else out + err), (fragment, out, err)
    if case.check:
        case.check(env, out, err)


def test_a_writer_lock_held_elsewhere_refuses_at_once(env, corpus_dir, capsys) -> None:
    assert main(["index", "--no-progress"]) == 0
    capsys.readouterr()
    (corpus_dir / "gamma.txt").write_text(KOREAN, encoding="utf-8")
    # Another process's lock: flock on a file description of our own conflicts with the
    # one the command takes, as a second process's would.
    with (env / "index" / "LOCK").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["index", "--no-progress"]) == 1
        _, err = capsys.readouterr()
        assert err.startswith("rag: error: ") and "Traceback" not in err
        assert "is updating the index at index; try again" in err
    assert main(["search", "제주 감귤", "--json", "-k", "1"]) == 0  # readers never wait
    assert main(["index", "--no-progress"]) == 0
    assert "1 added" in capsys.readouterr().out


# --- cases that need a real process ---------------------------------------------------

@pytest.fixture
def process_env(env, corpus_dir, capsys) -> dict[str, str]:
    assert main(["index", "--no-progress"]) == 0
    capsys.readouterr()
    return {**os.environ, "RAG_MODEL": "hash", "RAG_TRANSLATE": "off", "RAG_LEXICON": "off"}


def test_bytes_that_are_not_utf8_on_the_command_line(env, process_env) -> None:
    done = subprocess.run([os.fsencode(RAG), b"search", b"\xff\xfe \xea\xb0"], cwd=env,
                          capture_output=True, env=process_env)
    assert done.returncode == 1
    assert done.stderr.decode().startswith("rag: error: the question holds characters")
    assert b"Traceback" not in done.stderr


def test_a_closed_pipe_ends_quietly(env, process_env) -> None:
    # The reader exits at once, before the search prints anything.
    done = subprocess.run(f"'{RAG}' search 화웨이 -k 5 --json | true", shell=True, cwd=env,
                          capture_output=True, text=True, env=process_env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
