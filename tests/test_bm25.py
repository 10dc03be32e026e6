"""The Korean BM25 tokenizer and the BM25 index: exact terms, exact scores, files."""

import math

import numpy as np
import pytest

from rag.bm25 import BM25Index, name_spans, title_names, tokenize_korean, tokenize_korean_many
from rag.errors import IndexCorruptError


@pytest.mark.parametrize(("text", "terms"), [
    # the one-syllable noun 물 and the number 3 survive; % does not
    ("물 가격 3% 상승", ["물", "가격", "3", "상승"]),
    # a model name gives its parts and the joined, lower-cased whole
    ("어센드 910C", ["어센드", "910", "c", "910c"]),
    ("H20 칩", ["h", "20", "h20", "칩"]),
    # thousands separators are dropped, so 38,000 matches 38000
    ("38,000건", ["38000", "건"]),
    # full-width digits and comma are NFKC-normalised first
    ("３８，０００건", ["38000", "건"]),
    # Latin terms are lower-cased
    ("DeepSeek OpenAI", ["deepseek", "openai"]),
    ("중국 인공지능", ["중국", "인공", "지능"]),
])
def test_tokenize_korean_golden(text, terms):
    assert tokenize_korean(text) == terms


def test_stop_words_and_particles_are_dropped():
    terms = tokenize_korean("할 수 있는 것 등 여러 가지를")
    assert "수" not in terms
    assert "것" not in terms
    assert "등" not in terms
    assert "를" not in terms
    assert "가지" in terms


def test_tokenize_empty_text():
    assert tokenize_korean("") == []
    assert tokenize_korean("   \n") == []


def test_tokenize_many_matches_one_by_one():
    texts = ["물 가격 3% 상승", "어센드 910C", "", "38,000건"]
    assert tokenize_korean_many(texts) == [tokenize_korean(t) for t in texts]


# Three tiny documents; hand-computed Lucene BM25 (k1=1.2, b=0.75), N=3, avgdl=(2+3+1)/3=2:
#   idf(물) = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6)
#   doc0: tf=1, dl=2 -> 1 / (1 + 1.2 * (0.25 + 0.75 * 2/2)) = 1/2.2
#   doc1: tf=2, dl=3 -> 2 / (2 + 1.2 * (0.25 + 0.75 * 3/2)) = 2/3.65
#   idf(칩) = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)) = ln(8/3); doc2: tf=1, dl=1 -> 1 / (1 + 1.2*0.625)
DOCS = [["물", "가격"], ["물", "물", "상승"], ["칩"]]
IDF_WATER = math.log(1.6)
IDF_CHIP = math.log(1 + 2.5 / 1.5)


@pytest.fixture
def tiny():
    return BM25Index.build(DOCS, k1=1.2, b=0.75)


def test_bm25_scores_match_hand_computation(tiny):
    scores = tiny.scores(["물"])
    assert scores.dtype == np.float32
    assert scores.tolist() == pytest.approx([IDF_WATER / 2.2, IDF_WATER * 2 / 3.65, 0.0],
                                            rel=1e-6)
    both = tiny.scores(["물", "칩"])
    assert both[2] == pytest.approx(IDF_CHIP / 1.75, rel=1e-6)
    assert both[:2].tolist() == pytest.approx(scores[:2].tolist(), rel=1e-6)


def test_unknown_terms_give_all_zeros(tiny):
    assert tiny.scores(["없는말"]).tolist() == [0.0, 0.0, 0.0]
    assert tiny.scores([]).tolist() == [0.0, 0.0, 0.0]
    # unknown terms beside a known one change nothing
    assert tiny.scores(["물", "없는말"]).tolist() == tiny.scores(["물"]).tolist()


def test_size(tiny):
    assert tiny.size == 3


def test_empty_token_list_is_indexed():
    index = BM25Index.build([[], ["물"]], k1=1.2, b=0.75)
    assert index.size == 2
    assert index.scores(["물"])[0] == 0.0
    assert index.scores(["물"])[1] > 0


def test_right_document_ranks_first():
    texts = [
        "중국의 생성형 AI 특허 출원 수는 총 38,000건으로 세계 1위를 기록함",
        "화웨이는 어센드 910C 칩의 수율을 40%까지 높였음",
        "물 가격 3% 상승은 데이터센터 냉각 비용에 영향을 줌",
    ]
    index = BM25Index.build(tokenize_korean_many(texts), k1=1.2, b=0.75)
    for query, expected in [("특허 38000건", 0), ("910c 수율", 1), ("물 가격", 2)]:
        scores = index.scores(tokenize_korean(query))
        assert int(np.argmax(scores)) == expected, query
        assert scores[expected] > 0


def test_save_load_round_trip(tiny, tmp_path):
    tiny.save(tmp_path)
    assert (tmp_path / "bm25").is_dir()
    loaded = BM25Index.load(tmp_path)
    assert loaded.size == 3
    for query in (["물"], ["칩", "가격"], ["없는말"]):
        assert loaded.scores(query).tolist() == tiny.scores(query).tolist()


def test_load_missing_files_raises_corrupt(tmp_path):
    with pytest.raises(IndexCorruptError, match="rag index --rebuild"):
        BM25Index.load(tmp_path)


@pytest.mark.parametrize("name", ["params.index.json", "vocab.index.json",
                                  "data.csc.index.npy"])
def test_load_truncated_file_raises_corrupt(tiny, tmp_path, name):
    tiny.save(tmp_path)
    path = tmp_path / "bm25" / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match="BM25"):
        BM25Index.load(tmp_path)


@pytest.mark.parametrize(("title", "names"), [
    ("바이칼 호수의 자연과 역사", ["바이칼"]),           # a proper noun, not the common nouns
    ("구리야마 히데키", ["구리야마 히데키"]),
    ("ESP 기타", ["esp"]),
    # A file name as the title: an English function word names nothing ...
    ("who-pandemic-report", ["pandemic", "report"]),
    # ... unless written as an acronym.
    ("The WHO report on 결핵", ["who", "report"]),
])
def test_title_names_are_the_titles_proper_nouns_and_latin_words(title, names):
    assert title_names(title) == names


@pytest.mark.parametrize(("text", "names"), [
    ("모더나의 2023년 백신 매출은?", ["모더나"]),            # a proper noun, not 백신 or 매출
    ("테슬라와 리비안의 판매량", ["테슬라", "리비안"]),      # an unknown noun is a name
    ("세종대왕의 업적은?", ["세종대왕"]),                    # nouns written together are one
    ("LG전자와 SK하이닉스의 실적", ["LG전자", "SK하이닉스"]),  # Latin with a noun attached
    ("탄소중립 기본계획의 목표는?", []),                      # common nouns name nothing
])
def test_name_spans_are_the_names_kiwi_reads(text, names):
    assert [text[a:b] for a, b in name_spans(text)] == names
