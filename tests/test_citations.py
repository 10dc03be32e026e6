"""Checking a generated answer's markers against the passages it was given."""

import re
from dataclasses import replace

import pytest

from rag.citations import check_citations
from rag.retrieval import Hit, Retriever

PATENTS = "중국의 생성형 AI 특허 출원 수는 총 38,000건이다"
YIELD = "화웨이는 어센드 910C 칩의 수율을 40%까지 높였다"


@pytest.fixture(scope="module")
def retriever(shared_index) -> Retriever:
    return Retriever(shared_index.replace(translate="off"))


def passage(retriever: Retriever, phrase: str, rank: int) -> Hit:
    """The fixture chunk holding `phrase`, as the hit of rank `rank`."""
    chunk = next(c for c in retriever.index.chunks if phrase in c.text)
    return Hit(rank, 1.0 / rank, chunk.chunk_id, chunk.doc_id, chunk.title, chunk.section,
               chunk.start, chunk.end, chunk.text)


@pytest.fixture(scope="module")
def hits(retriever) -> list[Hit]:
    """Passage 1 holds the patent count, passage 2 the chip yield, 3 the R&D budget."""
    return [passage(retriever, "38,000건", 1), passage(retriever, "910C", 2),
            passage(retriever, "7% 증액", 3)]


def markers(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"\[(\d+)\]", text)]


def test_right_marker_stays_without_flags(retriever, hits):
    checked = check_citations(retriever, f"{PATENTS} [1].", hits)
    assert markers(checked.text) == [1]
    assert [c.chunk_id for c in checked.citations] == [hits[0].chunk_id]
    assert checked.flags == ()


def test_misnumbered_marker_moves_to_the_passage_holding_the_figure(retriever, hits):
    checked = check_citations(retriever, f"{PATENTS} [2].", hits)
    assert markers(checked.text) == [1]
    assert [c.chunk_id for c in checked.citations] == [hits[0].chunk_id]
    assert len(checked.flags) == 1
    assert checked.flags[0].startswith("moved citation [2] to [1]")


def test_marker_pointing_at_no_passage_is_dropped(retriever, hits):
    checked = check_citations(retriever, f"{YIELD} [9].", hits)
    assert "[9]" not in checked.text
    # The sentence is still cited, to the passage that supports it (renumbered [1]).
    assert markers(checked.text) == [1]
    assert [c.chunk_id for c in checked.citations] == [hits[1].chunk_id]


def test_unsupported_sentence_with_out_of_range_marker_is_flagged(retriever, hits):
    raw = f"{YIELD} [2]. 대학들은 학생 모집을 늘리고 있다 [9]."
    checked = check_citations(retriever, raw, hits)
    assert any("대학들은" in flag for flag in checked.flags), checked.flags


def test_figure_in_no_passage_is_flagged(retriever, hits):
    raw = f"{YIELD} [2]. 중국은 특허 출원에 999억 달러를 썼다 [1]."
    checked = check_citations(retriever, raw, hits)
    flagged = [f for f in checked.flags if f.startswith("figure not found")]
    assert len(flagged) == 1 and "999억 달러" in flagged[0]
    # The supported sentence keeps its citation; the unsupported one keeps none.
    assert [c.chunk_id for c in checked.citations] == [hits[1].chunk_id]
    assert checked.text.endswith("999억 달러를 썼다.")


def test_changed_figure_in_a_supported_sentence_is_flagged(retriever, hits):
    checked = check_citations(retriever, "화웨이는 어센드 910C 칩의 수율을 45%까지 높였다 [2].",
                              hits)
    assert any(f.startswith("figure not found") and "45%" in f for f in checked.flags)


def test_a_number_is_not_found_inside_a_longer_one(retriever, hits):
    # 3,800건 is no part of 38,000건, nor 000 of it.
    for figure in ("3,800건", "000건"):
        claim = f"중국의 생성형 AI 특허 출원 수는 총 {figure}이다 [1]."
        checked = check_citations(retriever, claim, hits)
        assert any(f.startswith("figure not found") for f in checked.flags), figure


def test_a_span_of_time_must_be_stated_as_one(retriever, hits):
    # The passage gives "매년 7% 증액": a 7 it has, 7 years it does not.
    checked = check_citations(retriever, "R&D 예산을 7년 동안 증액했다 [3].", hits)
    assert any(f.startswith("figure not found") and "7년" in f for f in checked.flags)
    checked = check_citations(retriever, "R&D 예산을 매년 7% 증액했다 [3].", hits)
    assert not any(f.startswith("figure not found") for f in checked.flags)


@pytest.mark.parametrize("figure", ["38000건", "38,000건", "３８,０００건"])
def test_figures_match_without_separators_and_in_full_width(retriever, hits, figure):
    checked = check_citations(retriever, f"중국의 생성형 AI 특허 출원 수는 총 {figure}이다 [1].",
                              hits)
    assert checked.flags == ()
    assert [c.chunk_id for c in checked.citations] == [hits[0].chunk_id]


def test_markers_are_renumbered_in_order_of_first_appearance(retriever, hits):
    raw = f"{YIELD} [2]. {PATENTS} [1]. 화웨이는 어센드 910C 칩을 만든다 [2]."
    checked = check_citations(retriever, raw, hits)
    assert markers(checked.text) == [1, 2, 1]
    assert [(c.marker, c.chunk_id) for c in checked.citations] == [
        (1, hits[1].chunk_id), (2, hits[0].chunk_id)]
    assert checked.flags == ()


def test_citations_hold_only_cited_passages(retriever, hits):
    checked = check_citations(retriever, f"{YIELD} [2].", hits)
    assert [c.chunk_id for c in checked.citations] == [hits[1].chunk_id]
    assert [c.marker for c in checked.citations] == [1]


def test_marker_groups_are_read(retriever, hits):
    checked = check_citations(retriever, f"{PATENTS} [1, 3].", hits)
    # Passage 3 (the R&D budget) does not support the claim, so only [1] stays.
    assert markers(checked.text) == [1]
    assert [c.chunk_id for c in checked.citations] == [hits[0].chunk_id]


def test_quote_is_a_sentence_inside_the_cited_passage(retriever, hits):
    checked = check_citations(retriever, f"{YIELD} [2]. {PATENTS} [1].", hits)
    documents = retriever.index.documents
    for c in checked.citations:
        assert c.start <= c.quote_start < c.quote_end <= c.end
        quote = documents[c.doc_id].text[c.quote_start:c.quote_end]
        assert quote in c.text
    quotes = [documents[c.doc_id].text[c.quote_start:c.quote_end] for c in checked.citations]
    assert "910C" in quotes[0] and "38,000건" in quotes[1]


@pytest.mark.parametrize("raw", ["", "   ", "[1]", "[1] [2]"])
def test_answer_without_a_claim_is_empty(retriever, hits, raw):
    checked = check_citations(retriever, raw, hits)
    assert (checked.text, checked.citations, checked.flags) == ("", (), ("empty answer",))


def test_no_passages_means_no_citations(retriever):
    checked = check_citations(retriever, f"{PATENTS} [1].", [])
    assert checked.citations == ()
    assert checked.flags == ("empty answer",)


@pytest.mark.parametrize("amount, flagged", [
    ("2.5조 명", True),        # the digits of 2.5억 with the wrong scale word
    ("2억 5천만 명", False),    # the same value written another way
    ("2.5억 명", False),
])
def test_figures_compare_by_value_with_korean_scale_words(retriever, amount, flagged):
    users = [passage(retriever, "2.5억", 1)]
    checked = check_citations(retriever, f"2025년 생성형 AI 사용자 수는 {amount}에 이르렀다 [1].",
                              users)
    assert any(f.startswith("figure not found") for f in checked.flags) is flagged
    assert bool(checked.citations) is not flagged


def test_korean_claim_naming_what_its_passage_does_not_loses_the_citation(retriever, hits):
    # The figure and the words match passage 2; the company does not (a swapped entity).
    swapped = "바이두는 어센드 910C 칩의 수율을 40%까지 높였다 [2]."
    checked = check_citations(retriever, swapped, hits)
    assert checked.citations == ()
    assert any(f.startswith("removed citation") for f in checked.flags), checked.flags
    # The passage's own name keeps it.
    kept = check_citations(retriever, f"{YIELD} [2].", hits)
    assert [c.chunk_id for c in kept.citations] == [hits[1].chunk_id]


def test_a_reference_list_loses_to_a_body_passage_stating_the_same(retriever, hits):
    # The same text twice, once as a references section: the body passage takes the marker.
    body = hits[0]
    listed = replace(body, rank=1, section="참고문헌")
    checked = check_citations(retriever, f"{PATENTS} [1].", [listed, replace(body, rank=2)])
    assert [c.section for c in checked.citations] == [body.section]
    # Alone, the reference list still supports what it states.
    alone = check_citations(retriever, f"{PATENTS} [1].", [listed])
    assert [c.section for c in alone.citations] == ["참고문헌"]


# A table lists a year per row, and a paragraph gives figures for several things: a small
# model takes a figure from the wrong row or sentence. Made-up reports on other topics.
CLINICS = ("지역 의료 보고서\n\n1 추진 경과\n"
           "구분\t시기\t내용\n"
           "보건소 확충\t2019.3.\t농촌 보건소 120곳 신설\n"
           "원격진료 시범\t2021.7.\t도서 지역 원격진료 도입\n"
           "응급 헬기\t2023.5.\t닥터헬기 4대 추가 배치\n")
TRANSIT = ("도시 교통 보고서\n\n1 개요\n"
           "시내버스 노선은 2022년 개편으로 85개가 되었다. "
           "지하철 3호선 연장 구간은 2026년에 개통할 예정이다.\n")


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory) -> Retriever:
    from conftest import make_config, write_corpus

    from rag.embedding import HashEmbedder
    from rag.indexing import build_index

    root = tmp_path_factory.mktemp("figures")
    write_corpus(root / "corpus", {"clinics.txt": CLINICS, "transit.txt": TRANSIT})
    config = make_config(root, translate="off")
    build_index(config, embedder=HashEmbedder())
    return Retriever(config)


@pytest.mark.parametrize(("claim", "supported"), [
    ("원격진료 시범은 2021년 7월에 시작되었다", True),
    # The year of the row below: in the passage, not beside the claim's subject.
    ("원격진료 시범은 2023년에 시작되었다", False),
    ("지하철 3호선 연장 구간은 2026년에 개통한다", True),
    # The year the paragraph gives for the bus routes, put on the subway.
    ("지하철 3호선 연장 구간은 2022년에 개통했다", False),
])
def test_a_figure_counts_only_in_the_sentence_of_the_claims_subject(elsewhere, claim,
                                                                     supported):
    phrase = "원격진료" if "원격진료" in claim else "3호선"
    checked = check_citations(elsewhere, f"{claim} [1].", [passage(elsewhere, phrase, 1)])
    assert bool(checked.citations) is supported, checked.flags
    assert any(f.startswith("figure not found") for f in checked.flags) is not supported
