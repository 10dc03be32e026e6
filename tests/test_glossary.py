"""The bilingual glossary mined from the reports, and matching its terms in questions."""

from pathlib import Path

import pytest

from rag.glossary import Term, expand_query, mine_glossary
from rag.ingest import read_corpus

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def real_glossary() -> dict[str, Term]:
    docs = read_corpus(ROOT / "corpus").documents
    return {t.english: t for t in mine_glossary((d.doc_id, d.text) for d in docs)}


@pytest.mark.parametrize(("english", "korean"), [
    ("DeepSeek", "딥시크"),
    ("Embodied Intelligence", "임바디드 인텔리전스"),
    ("WIPO", "세계지식재산기구"),
])
def test_real_reports_yield_their_pairs(real_glossary, english, korean):
    assert real_glossary[english].korean == korean


def test_hbm_maps_to_a_memory_term(real_glossary):
    # The report writes 고대역폭 메모리(HBM); one Korean word per English word is kept.
    assert "메모리" in real_glossary["HBM"].korean


def test_every_mined_pair_is_korean_beside_english(real_glossary):
    assert len(real_glossary) >= 10
    for english, term in real_glossary.items():
        assert any("가" <= ch <= "힣" for ch in term.korean), term
        assert english[0].isascii() and english[0].isalpha(), term
        assert term.doc_id in {"kistep-global-ai-china-2025", "klid-china-ai-policy-2025"}


def test_years_and_numbers_in_parentheses_are_not_terms():
    text = ("초기 전략적 기반 구축(2015–2017) 단계에서 인터넷 플러스 전략(2015)과 "
            "차세대 인공지능 발전계획(AIDP 2017), 부록(12)을 냈다. "
            "딥시크(DeepSeek)는 모델을 공개했다.")
    terms = mine_glossary([("d", text)])
    assert [(t.english, t.korean) for t in terms] == [("DeepSeek", "딥시크")]


def test_korean_term_has_as_many_words_as_the_english_without_leading_noise():
    text = "미국 및 고대역폭 메모리(High Bandwidth Memory)와 고대역폭 메모리(HBM)를 통제했다."
    terms = mine_glossary([("d", text)])
    assert [(t.english, t.korean) for t in terms] == [
        ("HBM", "메모리"), ("High Bandwidth Memory", "고대역폭 메모리")]


def test_first_occurrence_of_each_english_form_wins():
    terms = mine_glossary([("a", "딥시크(DeepSeek)가 있다."), ("b", "심층탐색(deepseek)이 있다.")])
    assert terms == [Term("DeepSeek", "딥시크", "a")]


GLOSSARY = [Term("DeepSeek", "딥시크", "d"), Term("HBM", "고대역폭 메모리", "d"),
            Term("Embodied Intelligence", "임바디드 인텔리전스", "d")]


@pytest.mark.parametrize(("query", "expected"), [
    ("How much did deepseek spend?", ["DeepSeek"]),
    ("How much did DEEPSEEK spend?", ["DeepSeek"]),
    ("What did DeepSeeker build?", []),
    ("Is xDeepSeek a model?", []),
    ("DeepSeek's V3 and HBM exports", ["DeepSeek", "HBM"]),
    ("What is embodied intelligence?", ["Embodied Intelligence"]),
    ("What is embodied AI?", []),
])
def test_expand_query_matches_whole_words_case_insensitively(query, expected):
    assert [t.english for t in expand_query(query, GLOSSARY)] == expected


def test_a_country_or_conjunction_before_a_term_is_not_part_of_it():
    text = ("일본 경제산업성(Ministry of Economy)은 지침을 냈다. 보고서와 미국 식품의약국(Food and "
            "Drug Administration)도 참고했다. 호주 연방과학산업연구기구(CSIRO)도 있다.")
    terms = mine_glossary([("d", text)])
    assert [(t.english, t.korean) for t in terms] == [
        ("CSIRO", "연방과학산업연구기구"), ("Food and Drug Administration", "식품의약국"),
        ("Ministry of Economy", "경제산업성")]
