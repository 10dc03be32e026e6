"""The PostgreSQL store against a real server: same results as the file index, one
transaction per update, readers on one version, the writer lock, kill -9 mid-write."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from rag.config import Config
from rag.embedding import HashEmbedder
from rag.errors import IndexLockedError, IndexNotFoundError, StoreError
from rag.indexing import build_index
from rag.pg.schema import MIGRATIONS, migrate, schema_version
from rag.pg.store import connect, shown_url, writer_lock
from rag.retrieval import Retriever
from rag.store import current_manifest, newer_index, open_index, where
from tests.conftest import ALPHA, make_config, write_corpus

HEALTH = """지역 보건 의료 보고서

1 개요
- 2024년 지역 병원의 응급실 방문자는 12만 명으로 전년보다 8% 늘었음
- 간호 인력 부족으로 야간 병동 운영 시간이 단축되었음

2 대책
□ (인력) 간호대학 정원을 300명 늘리기로 함
□ (예산) 보건소 예산 45억 원을 추가 편성함
"""

FINANCE = """가계 금융 동향

1 부채
- 가계부채 잔액은 1,880조 원으로 집계되었음
- 변동금리 대출 비중은 62%에 달함

2 전망
○ 한국은행은 기준금리를 3.25%로 동결했음
○ 주택담보대출 증가세는 하반기에 둔화될 전망임
"""

QUERIES = ["생성형 AI 특허 출원 수", "데이터센터 냉각 비용", "칭화대 AI 학부", "2030년 목표",
           "응급실 방문자", "기준금리 동결", "How many patents?"]


def _configs(tmp_path, pg_url, files=None):
    write_corpus(tmp_path / "corpus", files or {})
    files_config = make_config(tmp_path)
    return files_config, files_config.replace(store=pg_url)


@pytest.fixture
def both(tmp_path, corpus_dir, pg_url):
    """The conftest corpus indexed into files and into a fresh database."""
    files_config, db_config = _configs(tmp_path, pg_url)
    build_index(files_config, embedder=HashEmbedder())
    build_index(db_config, embedder=HashEmbedder())
    return files_config, db_config


def _ids(config, query, mode="hybrid", doc_ids=None, k=10):
    retriever = Retriever(config, embedder=HashEmbedder())
    return [h.chunk_id for h in retriever.search(query, k=k, mode=mode, doc_ids=doc_ids).hits]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_same_top_10_as_the_file_index(both, mode):
    files_config, db_config = both
    for query in QUERIES:
        assert _ids(db_config, query, mode) == _ids(files_config, query, mode), query


def test_same_results_under_a_document_filter(both):
    files_config, db_config = both
    for query in QUERIES:
        assert _ids(db_config, query, doc_ids=["beta"]) == _ids(files_config, query,
                                                                 doc_ids=["beta"])


def test_loads_the_same_index(both):
    files_config, db_config = both
    a = open_index(files_config, _expected(files_config))
    b = open_index(db_config, _expected(db_config))
    assert b.chunks == a.chunks
    assert b.sentences == a.sentences
    assert b.tokens == a.tokens
    assert b.documents == a.documents
    rows = [0, len(a.chunks) - 1]
    assert np.array_equal(b.embeddings[rows], a.embeddings[rows])
    assert np.array_equal(b.sentence_vectors[3], a.sentence_vectors[3])
    assert b.vectors_in_store and not a.vectors_in_store
    assert b.manifest["counts"] == a.manifest["counts"]
    assert b.manifest["documents"] == a.manifest["documents"]


def _expected(config):
    from rag.store import build_settings

    return build_settings(config, "hash", current_manifest(config)["dim"])


def test_an_added_report_is_the_only_one_sent(tmp_path, corpus_dir, pg_url):
    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    before = open_index(config, _expected(config))
    write_corpus(corpus_dir, {"health.txt": HEALTH})
    report = build_index(config, embedder=HashEmbedder())
    assert report.added == ("health",) and set(report.unchanged) == {"alpha", "beta"}
    after = open_index(config, _expected(config))
    assert after.store_version == before.store_version + 1
    assert report.embedded_chunks == sum(c.doc_id == "health" for c in after.chunks)
    # The kept reports' rows are the same rows, not copies.
    conn = connect(pg_url)
    try:
        added = dict(conn.execute(
            "SELECT doc_id, min(added_in) FROM rag_chunks GROUP BY doc_id").fetchall())
    finally:
        conn.close()
    assert added == {"alpha": 1, "beta": 1, "health": 2}
    assert _ids(config, "응급실 방문자")[0].startswith("health")


def test_a_reader_keeps_its_version_while_a_writer_commits(tmp_path, corpus_dir, pg_url):
    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    old = Retriever(config, embedder=HashEmbedder())
    beta_hits = [h.chunk_id for h in old.search("생성형 AI 특허 출원 수", mode="dense").hits]
    (corpus_dir / "beta.txt").unlink()
    write_corpus(corpus_dir, {"health.txt": HEALTH})
    build_index(config, embedder=HashEmbedder())
    # The old reader still answers from its version: beta found, health unknown to it.
    assert [h.chunk_id for h in old.search("생성형 AI 특허 출원 수", mode="dense").hits
            ] == beta_hits
    assert not any(h.doc_id == "health" for h in old.search("응급실 방문자", mode="dense").hits)
    assert newer_index(config, old.index)
    fresh = Retriever(config, embedder=HashEmbedder())
    docs = {h.doc_id for h in fresh.search("생성형 AI 특허 출원 수", k=50).hits}
    assert "beta" not in docs and "health" in docs
    assert not newer_index(config, fresh.index)


def test_a_changed_setting_replaces_every_row(tmp_path, corpus_dir, pg_url):
    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    wider = config.replace(chunk_tokens=128, chunk_overlap_tokens=16)
    build_index(wider, embedder=HashEmbedder())
    files = make_config(tmp_path / "f", corpus_dir=corpus_dir, chunk_tokens=128,
                        chunk_overlap_tokens=16)
    build_index(files, embedder=HashEmbedder())
    assert _ids(wider, "2030년 목표") == _ids(files, "2030년 목표")
    assert open_index(wider, _expected(wider)).chunks == open_index(files,
                                                                    _expected(files)).chunks


def test_a_second_writer_is_refused(pg_url):
    with (writer_lock(pg_url), pytest.raises(IndexLockedError, match="another process is"),
          writer_lock(pg_url)):
        pass
    with writer_lock(pg_url):  # released on exit
        pass


def test_the_server_releases_a_killed_writers_lock(pg_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from rag.pg.store import writer_lock
            with writer_lock({pg_url!r}):
                print("locked", flush=True)
                time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLockedError), writer_lock(pg_url):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 10
        while True:  # the server notices the dropped connection within moments
            try:
                with writer_lock(pg_url):
                    break
            except IndexLockedError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        holder.kill()


def test_kill_9_during_a_write_loses_nothing_committed(tmp_path, corpus_dir, pg_url):
    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    before = open_index(config, _expected(config))
    # A writer sending 200k rows (synthetic, no model) is killed in the middle of it.
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import numpy as np
        from rag.chunking import Chunk, Sentence
        from rag.config import Config
        from rag.ingest import Document
        from rag.pg.store import save
        n = 200_000
        doc = Document("big", "big", "x" * 10, "big.txt", "0" * 64, "utf-8")
        chunks = [Chunk(f"big#{{i}}", "big", "big", "", 0, 1, "x", 1) for i in range(n)]
        manifest = {{"dim": 256, "counts": {{"chunks": n, "sentences": 0}}}}
        save({pg_url!r}, manifest, [doc], chunks, np.ones((n, 256), np.float32),
             [["x"]] * n, [], np.zeros((0, 256), np.float32), Config(), frozenset())
    """)])
    conn = connect(pg_url)
    try:
        deadline = time.monotonic() + 120
        while not conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY rag_chunks%%' "
                "AND state = 'active'").fetchone()[0]:
            assert writer.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(10)
        time.sleep(0.5)
        assert conn.execute("SELECT count(*) FROM rag_chunks WHERE doc_id = 'big'"
                            ).fetchone()[0] == 0
    finally:
        writer.kill()
        conn.close()
    after = open_index(config, _expected(config))
    assert after.store_version == before.store_version
    assert after.chunks == before.chunks
    write_corpus(corpus_dir, {"finance.txt": FINANCE})
    assert build_index(config, embedder=HashEmbedder()).added == ("finance",)


def test_readers_during_a_write_see_one_state_and_no_errors(tmp_path, corpus_dir, pg_url):
    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    old_docs = {"alpha", "beta"}
    new_docs = {"alpha", "beta", "health", "finance"}
    errors: list[BaseException] = []
    seen: list[frozenset[str]] = []
    stop = threading.Event()

    def reader() -> None:
        retriever = Retriever(config, embedder=HashEmbedder())
        while not stop.is_set():
            try:
                if newer_index(config, retriever.index):
                    retriever = Retriever(config, embedder=HashEmbedder())
                index = retriever.index
                docs = frozenset(index.documents)
                assert docs in (frozenset(old_docs), frozenset(new_docs))
                assert {c.doc_id for c in index.chunks} == docs
                for query in QUERIES:
                    for hit in retriever.search(query, k=20).hits:
                        assert hit.doc_id in docs
                        text = index.documents[hit.doc_id].text
                        chunk = index.chunks[retriever.chunk_row(hit.chunk_id)]
                        assert text[chunk.start:chunk.end] == chunk.text
                seen.append(docs)
            except BaseException as exc:  # reported below, with every other failure
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    write_corpus(corpus_dir, {"health.txt": HEALTH, "finance.txt": FINANCE})
    build_index(config, embedder=HashEmbedder())
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(30)
    assert errors == []
    assert frozenset(old_docs) in seen and frozenset(new_docs) in seen


def test_migrations_run_once_in_order(pg_url):
    conn = connect(pg_url)
    try:
        assert schema_version(conn) == 0
        assert migrate(conn) == len(MIGRATIONS)
        assert migrate(conn) == len(MIGRATIONS)
        rows = conn.execute("SELECT version FROM rag_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"rag_index", "rag_documents", "rag_chunks", "rag_sentences"} <= tables
    finally:
        conn.close()


def test_migrations_from_two_processes_at_once(pg_url):
    results: list[int] = []

    def run() -> None:
        conn = connect(pg_url)
        try:
            results.append(migrate(conn))
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [len(MIGRATIONS)] * 4


def test_a_newer_schema_is_refused(pg_url):
    from rag.errors import IndexMismatchError

    conn = connect(pg_url)
    try:
        migrate(conn)
        conn.execute("INSERT INTO rag_migrations (version) VALUES (%s)", (len(MIGRATIONS) + 1,))
        with pytest.raises(IndexMismatchError, match="newer than this package"):
            migrate(conn)
    finally:
        conn.close()


def test_an_empty_database_has_no_index(tmp_path, pg_url):
    config = make_config(tmp_path).replace(store=pg_url)
    with pytest.raises(IndexNotFoundError, match="rag index"):
        Retriever(config, embedder=HashEmbedder()).index  # noqa: B018


def test_no_server_is_a_clear_error(tmp_path):
    from rag.pg.server import _free_port

    url = f"postgresql://analyst:secret@127.0.0.1:{_free_port()}/reports"
    config = make_config(tmp_path).replace(store=url)
    with pytest.raises(StoreError) as caught:
        Retriever(config, embedder=HashEmbedder()).index  # noqa: B018
    message = str(caught.value)
    assert "cannot connect to the PostgreSQL store" in message and "RAG_STORE" in message
    assert "secret" not in message and "analyst:***@127.0.0.1" in message


def test_store_setting_is_checked_and_its_password_never_shown():
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="store"):
        Config(store="mysql://x")
    config = Config(store="postgresql://u:pw@db.example/rag")
    assert config.public_dict()["store"] == "postgresql://u:***@db.example/rag"
    assert shown_url("postgresql://db/rag") == "postgresql://db/rag"
    assert where(config) == "postgresql://u:***@db.example/rag"


def test_cli_index_and_search_through_the_database(env, pg_url, capsys):
    from rag.cli import main

    write_corpus(env / "corpus", {"health.txt": HEALTH, "finance.txt": FINANCE})
    os.environ["RAG_STORE"] = pg_url
    try:
        assert main(["index", "--no-gloss"]) == 0
        assert shown_url(pg_url) in capsys.readouterr().out
        assert main(["search", "기준금리 동결", "--json"]) == 0
        out = capsys.readouterr().out
    finally:
        del os.environ["RAG_STORE"]
    assert '"doc_id": "finance"' in out


def test_hnsw_once_the_collection_outgrows_exact_search(tmp_path, corpus_dir, pg_url):
    files_config, db_config = _configs(tmp_path, pg_url)
    build_index(files_config, embedder=HashEmbedder())
    small = db_config.replace(flat_max_chunks=5)
    build_index(small, embedder=HashEmbedder())
    index = open_index(small, _expected(small))
    assert index.manifest["dense_index"] == "hnsw" and index.dense.kind == "hnsw"
    conn = connect(pg_url)
    try:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
    finally:
        conn.close()
    assert {"rag_chunks_hnsw", "rag_sentences_hnsw"} <= names
    # A graph this small is searched completely: the exact ranking.
    for query in QUERIES:
        assert _ids(small, query, "dense") == _ids(files_config, query, "dense")


def test_a_pg_dump_backup_restores_the_same_index(tmp_path, corpus_dir, pg_server, pg_url):
    from rag.pg.server import LocalServer

    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    dump = tmp_path / "rag.dump"
    subprocess.run([str(LocalServer.program("pg_dump")), "-Fc", "-f", str(dump), pg_url],
                   check=True, capture_output=True)
    restored_url = pg_url + "_restored"
    conn = connect(pg_server.url)
    try:
        name = restored_url.rsplit("/", 1)[1]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    subprocess.run([str(LocalServer.program("pg_restore")), "-d", restored_url, str(dump)],
                   check=True, capture_output=True)
    restored = config.replace(store=restored_url)
    assert open_index(restored, _expected(restored)).chunks == open_index(
        config, _expected(config)).chunks
    for query in QUERIES:
        assert _ids(restored, query) == _ids(config, query)
    write_corpus(corpus_dir, {"health.txt": HEALTH})  # and it can be written on
    assert build_index(restored, embedder=HashEmbedder()).added == ("health",)


def test_a_copy_in_another_schema_is_written_apart(tmp_path, corpus_dir, pg_url):
    from rag.pg.store import copy_to_schema

    config = make_config(tmp_path).replace(store=pg_url)
    build_index(config, embedder=HashEmbedder())
    copy = config.replace(store=copy_to_schema(pg_url, "held_out"),
                          corpus_dir=write_corpus(tmp_path / "held", {"alpha.txt": ALPHA}))
    report = build_index(copy, embedder=HashEmbedder())
    assert report.removed == ("beta",) and report.embedded_chunks == 0
    assert set(open_index(copy, _expected(copy)).documents) == {"alpha"}
    assert set(open_index(config, _expected(config)).documents) == {"alpha", "beta"}
