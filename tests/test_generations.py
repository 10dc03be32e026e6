"""The index folder's generations: one writer at a time, an atomic publish, recovery after
a crash at any step (a real process killed there), and an earlier version's layout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import make_config, write_corpus

from rag.embedding import HashEmbedder
from rag.errors import IndexCorruptError, IndexLockedError, IndexWriteError
from rag.generations import LOCK, MANIFEST, current_dir, writer_lock
from rag.indexing import build_index
from rag.store import build_settings, load_index

ROOT = Path(__file__).resolve().parents[1]


def load(config):
    return load_index(config.index_dir, build_settings(config, "hash", 256))


def names(config):
    return sorted(p.name for p in config.index_dir.iterdir())


GAMMA = "새 보고서\n\n1 개요\n수소 연료전지 보급이 늘었다.\n"


def add_report(config, name="gamma.txt", text=GAMMA):
    (config.corpus_dir / name).write_text(text, encoding="utf-8")


def test_each_update_is_a_new_generation_and_the_one_before_is_kept(built_config):
    first = current_dir(built_config.index_dir)
    add_report(built_config)
    build_index(built_config, embedder=HashEmbedder())
    second = current_dir(built_config.index_dir)
    add_report(built_config, "delta.txt", "또 다른 보고서\n\n풍력 발전 설비가 늘었다.\n")
    build_index(built_config, embedder=HashEmbedder())
    third = current_dir(built_config.index_dir)
    assert [first.name, second.name, third.name] == ["gen-000001", "gen-000002", "gen-000003"]
    # The one before stays for a reader that opened it a moment ago; older ones go.
    assert names(built_config) == [LOCK, "gen-000002", "gen-000003"]
    index = load(built_config)
    assert index.generation == third
    assert index.path == built_config.index_dir
    assert index.manifest["counts"]["documents"] == 4


def test_an_unchanged_corpus_writes_no_generation(built_config):
    build_index(built_config, embedder=HashEmbedder())
    assert names(built_config) == [LOCK, "gen-000001"]


def test_a_second_writer_is_refused_with_the_holders_pid(built_config):
    with writer_lock(built_config.index_dir), pytest.raises(IndexLockedError) as info:
        build_index(built_config, embedder=HashEmbedder(), rebuild=True)
    message = str(info.value)
    assert f"pid {os.getpid()}" in message
    assert str(built_config.index_dir) in message and "try again" in message
    # Released on exit: the next writer goes ahead.
    assert build_index(built_config, embedder=HashEmbedder(), rebuild=True).chunks > 0


def test_a_killed_writer_leaves_no_stale_lock(built_config):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from rag.generations import writer_lock
            with writer_lock({str(built_config.index_dir)!r}):
                print("locked", flush=True)
                time.sleep(60)
        """)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLockedError, match=f"pid {holder.pid}"):
            build_index(built_config, embedder=HashEmbedder(), rebuild=True)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        holder.kill()
        holder.stdout.close()
    assert build_index(built_config, embedder=HashEmbedder(), rebuild=True).chunks > 0


CRASH = """
import os, sys
from conftest import make_config
from rag import generations
from rag.embedding import HashEmbedder
from rag.indexing import build_index

step = sys.argv[2]
def die(reached):
    if reached == step:
        os._exit(9)  # no cleanup, no finally: as abrupt as a power cut for this process
generations.reach = die
build_index(make_config(__import__("pathlib").Path(sys.argv[1])), embedder=HashEmbedder())
raise SystemExit("the crash step was never reached")
"""


@pytest.mark.integration
@pytest.mark.parametrize("step", ["flushed", "published", "removing"])
def test_a_crash_at_any_step_leaves_a_loadable_index_and_is_cleaned_up(tmp_path, step):
    config = make_config(tmp_path)
    write_corpus(config.corpus_dir)
    build_index(config, embedder=HashEmbedder())
    add_report(config)
    build_index(config, embedder=HashEmbedder())  # two generations, so one is removed next
    before = load(config)
    add_report(config, "delta.txt", "또 다른 보고서\n\n풍력 발전 설비가 늘었다.\n")
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path), step], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    after = load(config)  # never "no index", whatever the step
    documents = after.manifest["counts"]["documents"]
    if step == "flushed":
        assert after.generation == before.generation and documents == 3
        assert any(name.startswith("tmp-") for name in names(config))
    else:
        assert after.generation.name == "gen-000003" and documents == 4
    report = build_index(config, embedder=HashEmbedder())  # the next writer cleans up
    assert not any(name.startswith("tmp-") for name in names(config))
    assert len([n for n in names(config) if n.startswith("gen-")]) <= 2
    assert load(config).manifest["counts"]["documents"] == 4
    assert report.added == (("delta",) if step == "flushed" else ())


@pytest.mark.integration
def test_kill_9_during_an_update_never_loses_the_index(tmp_path):
    # A bigger corpus so the update takes long enough to be killed at different moments.
    config = make_config(tmp_path)
    write_corpus(config.corpus_dir, {f"report{i:02d}.txt": f"보고서 {i}\n\n" + "".join(
        f"{i}번 보고서의 {j}번째 문장은 재생에너지 설비 {i * j}기를 다룬다.\n" for j in range(60))
        for i in range(30)})
    build_index(config, embedder=HashEmbedder())
    expected = {c.chunk_id for c in load(config).chunks}
    env = {**os.environ, "RAG_MODEL": "hash", "RAG_CORPUS_DIR": str(config.corpus_dir),
           "RAG_INDEX_DIR": str(config.index_dir), "RAG_CACHE_DIR": str(config.cache_dir),
           "RAG_CHUNK_TOKENS": "64", "RAG_CHUNK_OVERLAP_TOKENS": "16", "RAG_LEXICON": "off",
           "RAG_EMBED_CACHE": "0"}
    for delay in (0.5, 1.5, 3.0):
        writer = subprocess.Popen([sys.executable, "-c", "from rag.cli import main; main()",
                                   "index", "--rebuild", "--no-progress"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        assert writer.poll() is None, writer.stderr.read()  # still at work when killed
        writer.send_signal(signal.SIGKILL)
        writer.stderr.close()
        writer.wait(10)
        assert {c.chunk_id for c in load(config).chunks} == expected
    build_index(config, embedder=HashEmbedder())
    assert not any(name.startswith("tmp-") for name in names(config))


def test_a_lost_manifest_is_rebuilt_by_a_plain_index_run(built_config):
    (current_dir(built_config.index_dir) / MANIFEST).unlink()
    report = build_index(built_config, embedder=HashEmbedder())
    assert report.added == ("alpha", "beta")
    assert load(built_config).manifest["counts"]["documents"] == 2


def test_a_lost_manifest_falls_back_to_the_generation_before(built_config):
    add_report(built_config)
    build_index(built_config, embedder=HashEmbedder())
    (current_dir(built_config.index_dir) / MANIFEST).unlink()
    assert load(built_config).manifest["counts"]["documents"] == 2
    report = build_index(built_config, embedder=HashEmbedder())
    assert report.added == ("gamma",) and report.unchanged == ("alpha", "beta")


def legacy_layout(config):
    """The index as earlier versions wrote it: the files directly in the folder."""
    folder = current_dir(config.index_dir)
    for path in folder.iterdir():
        shutil.move(path, config.index_dir / path.name)
    folder.rmdir()
    (config.index_dir / LOCK).unlink()


def test_an_earlier_versions_index_is_read_and_replaced_on_the_next_update(built_config):
    legacy_layout(built_config)
    assert load(built_config).generation == built_config.index_dir
    add_report(built_config)
    report = build_index(built_config, embedder=HashEmbedder())
    assert report.unchanged == ("alpha", "beta")  # its vectors were reused
    add_report(built_config, "delta.txt", "또 다른 보고서\n\n풍력 발전 설비가 늘었다.\n")
    build_index(built_config, embedder=HashEmbedder())
    assert names(built_config) == [LOCK, "gen-000001", "gen-000002"]


def test_an_earlier_versions_crash_between_its_two_renames_is_recovered(built_config):
    # It moved the old index aside to .index.old-*, then died before the new one came in.
    legacy_layout(built_config)
    aside = built_config.index_dir.with_name(".index.old-123-456")
    built_config.index_dir.rename(aside)
    half = built_config.index_dir.with_name(".index.tmp-789")
    half.mkdir()
    (half / "chunks.jsonl").write_text("", encoding="utf-8")
    report = build_index(built_config, embedder=HashEmbedder())
    assert report.unchanged == ("alpha", "beta") and report.up_to_date
    assert not aside.exists() and not half.exists()
    assert load(built_config).manifest["counts"]["documents"] == 2


def test_a_folder_with_other_files_is_refused_before_anything_is_written(config):
    config.index_dir.mkdir()
    (config.index_dir / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"not an index folder.*notes\.txt"):
        build_index(config, embedder=HashEmbedder())
    assert names(config) == ["notes.txt"]


def test_an_index_folder_that_cannot_be_made_is_a_clear_error(config, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(IndexWriteError, match="cannot write the index"):
        build_index(config.replace(index_dir=blocker / "index"), embedder=HashEmbedder())


def test_the_manifest_records_every_file_of_its_generation(built_config):
    folder = current_dir(built_config.index_dir)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert on_disk - set(manifest["files"]) == {MANIFEST}
