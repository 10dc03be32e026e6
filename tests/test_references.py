"""Reference lists: which sections are bibliographies, which questions ask about sources,
and how retrieval weighs reference passages. Made-up reports from several domains."""

from __future__ import annotations

import pytest

from rag.indexing import build_index
from rag.references import asks_about_sources, in_references
from rag.retrieval import Retriever
from tests.conftest import make_config, write_corpus


@pytest.mark.parametrize("section", [
    "참고문헌", "참 고 문 헌", "보건 정책 동향 › 참고문헌", "5. 참고문헌", "Ⅴ. 참고자료",
    "인용 문헌", "References", "부록 › Bibliography", "Works Cited", "3) references",
])
def test_reference_list_headings_at_any_level(section: str) -> None:
    assert in_references(section)


@pytest.mark.parametrize("section", [
    "", "1. 개요", "금융 시장 › 참고: 금리 인하의 배경", "참고문헌 정리 방법론",
    "Referenced works policy",
    "Ⅲ. 주요 지역별 사례 › 2. 상하이 사례", "Data sources and methods",
])
def test_other_sections_are_no_reference_list(section: str) -> None:
    assert not in_references(section)


@pytest.mark.parametrize("question", [
    "참고문헌에 인용된 WHO 자료의 이름은?", "이 보고서가 인용한 통계의 출처는?",
    "Which author is cited for the vaccine figures?", "What does footnote 3 give as source?",
    "List the references on interest rates.", "What sources does the brief use?",
    "근거 자료는 무엇인가?",
])
def test_questions_about_the_sources(question: str) -> None:
    assert asks_about_sources(question)


@pytest.mark.parametrize("question", [
    "백신 접종률은 2024년에 얼마였나?", "What was the vaccination rate in 2024?",
    "기준금리는 언제 인하되었나?", "How many reactors does the plan add?",
    "Which open-source models does the brief name?",  # "open-source" asks for no source
])
def test_questions_about_the_content(question: str) -> None:
    assert not asks_about_sources(question)


HEALTH = ("# 보건 정책 동향\n\n## 1. 개요\n\n백신 접종률(vaccination coverage) 통계는 2024년 "
          "85%로 올랐다. 백신 접종률 목표는 90%이다.\n\n## 참고문헌\n\n- 질병관리청, 백신 접종률 "
          "통계 연보, 2024.\n- WHO, Vaccination coverage statistics, 2024.\n")


@pytest.fixture(scope="module")
def health(tmp_path_factory):
    root = tmp_path_factory.mktemp("references")
    write_corpus(root / "corpus", {"health.md": HEALTH})
    config = make_config(root)
    build_index(config)
    return config


def _scores(config, question: str, **changes) -> dict[bool, float]:
    """The best BM25 score of a reference passage (True) and of a body passage (False)."""
    hits = Retriever(config.replace(**changes)).search(question, mode="bm25").hits
    best: dict[bool, float] = {}
    for h in hits:
        best.setdefault(in_references(h.section), h.score)
    return best


def test_an_english_question_by_its_words_alone_weighs_reference_passages(health):
    # No lexicon and no translation (make_config): English words alone.
    question = "What was the vaccination coverage in 2024?"
    plain = _scores(health, question, reference_weight=1.0)
    weighed = _scores(health, question, reference_weight=0.5)
    assert set(plain) == {True, False}
    assert weighed[True] == pytest.approx(plain[True] * 0.5)
    assert weighed[False] == pytest.approx(plain[False])


@pytest.mark.parametrize("question", [
    "Which statistics on vaccination coverage are cited in the references?",  # the sources
    "백신 접종률 통계",  # Korean: its own words find the Korean sentences
])
def test_reference_passages_keep_their_score_otherwise(health, question):
    assert _scores(health, question, reference_weight=0.5) == pytest.approx(
        _scores(health, question, reference_weight=1.0))


def test_the_weight_is_checked() -> None:
    from rag.config import Config
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="reference_weight"):
        Config(reference_weight=1.5)
