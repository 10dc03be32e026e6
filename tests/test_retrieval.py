"""Retrieval: hits with exact offsets, modes, the document filter, and query errors."""

import json
import math

import pytest
from conftest import make_config, write_corpus

from rag.bm25 import tokenize_korean
from rag.embedding import HashEmbedder
from rag.errors import IndexMismatchError, IndexNotFoundError, QueryError
from rag.indexing import build_index
from rag.retrieval import MODES, Hit, Retriever, validate_doc_ids, validate_k, validate_query

HIT_KEYS = {"rank", "score", "chunk_id", "doc_id", "title", "section", "start", "end", "text",
            "notes", "page", "pages", "page_labels"}


@pytest.fixture(scope="module")
def retriever(shared_index):
    return Retriever(shared_index)


@pytest.fixture(scope="module")
def n_chunks(retriever):
    return len(retriever.index.chunks)


@pytest.mark.parametrize("mode", MODES)
def test_hits_are_ranked_and_point_into_their_document(retriever, mode):
    result = retriever.search("중국 인공지능 인재 양성", k=3, mode=mode)
    assert result.mode == mode
    assert [h.rank for h in result.hits] == [1, 2, 3]
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk_id for h in result.hits}) == 3
    documents = retriever.index.documents
    for hit in result.hits:
        assert isinstance(hit, Hit)
        assert documents[hit.doc_id].text[hit.start:hit.end] == hit.text
        assert hit.title == documents[hit.doc_id].title
        assert hit.chunk_id.startswith(f"{hit.doc_id}#")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("query", "chunk_text"), [
    ("어센드 910C 칩 수율", "어센드 910C"),
    ("특허 출원 38000건", "38,000건"),
    ("물 가격 상승", "물 가격 3% 상승"),
])
def test_right_chunk_ranks_first(retriever, mode, query, chunk_text):
    top = retriever.search(query, k=3, mode=mode).hits[0]
    assert chunk_text in top.text
    assert top.doc_id == "beta"


def test_rrf_scores_are_the_fused_values(shared_index):
    # The 910C chunk is first for every retriever: 1/(60+1) for the chunk vectors and
    # BM25, 0.5/(60+1) for the sentence vectors (sentence_weight 0.5).
    rrf = Retriever(shared_index.replace(fusion="rrf"))
    assert rrf.search("어센드 910C 칩 수율", k=1).hits[0].score == round(2.5 / 61, 6)


def test_weighted_scores_are_the_sum_of_min_max_scores(retriever):
    # First for every retriever, so each min-max normalised score is 1: chunk vectors
    # 1.0 + sentence vectors 0.5 + BM25 1.0.
    assert retriever.search("어센드 910C 칩 수율", k=1).hits[0].score == 2.5

def test_single_retriever_modes_keep_their_own_scores(retriever):
    bm25 = retriever.search("어센드 910C 칩 수율", k=1, mode="bm25").hits[0]
    terms = tokenize_korean("어센드 910C 칩 수율")
    row = [c.chunk_id for c in retriever.index.chunks].index(bm25.chunk_id)
    assert bm25.score == pytest.approx(float(retriever.index.bm25.scores(terms)[row]), abs=1e-5)
    plain = Retriever(retriever.config.replace(sentence_weight=0.0),
                      index=retriever.index, embedder=retriever.embedder)
    dense = plain.search("어센드 910C 칩 수율", k=1, mode="dense").hits[0]
    assert 0.0 < dense.score <= 1.0 + 1e-6


def test_bm25_returns_only_matching_chunks(retriever):
    assert retriever.search("zzqqxx", mode="bm25").hits == ()
    hits = retriever.search("어센드", k=10, mode="bm25").hits
    assert [h.text for h in hits] == ["- 화웨이는 어센드 910C 칩의 수율을 40%까지 높였음"]


def test_k_defaults_to_top_k_and_is_capped_at_the_index_size(retriever, n_chunks):
    assert len(retriever.search("중국").hits) == retriever.config.top_k
    hits = retriever.search("중국", k=n_chunks + 20).hits
    assert len(hits) == n_chunks
    assert [h.rank for h in hits] == list(range(1, n_chunks + 1))


@pytest.mark.parametrize("mode", MODES)
def test_document_filter_restricts_results(retriever, mode):
    hits = retriever.search("중국 AI", k=5, mode=mode, doc_ids=["alpha"]).hits
    assert hits
    assert {h.doc_id for h in hits} == {"alpha"}
    both = retriever.search("중국 AI", k=50, mode=mode, doc_ids=["alpha", "beta"]).hits
    assert {h.doc_id for h in both} == {"alpha", "beta"}


def test_dense_filter_searches_past_the_nearest_rows(retriever):
    # The filter keeps alpha chunks even where beta's are nearer.
    hits = retriever.search("어센드 910C 칩 수율", k=3, mode="dense", doc_ids=["alpha"]).hits
    assert len(hits) == 3
    assert {h.doc_id for h in hits} == {"alpha"}


def test_empty_document_filter_means_no_filter(retriever):
    assert retriever.search("중국", k=3, doc_ids=[]).hits == retriever.search("중국", k=3).hits


def test_unknown_document_id(retriever):
    with pytest.raises(QueryError) as info:
        retriever.search("중국", doc_ids=["alpha", "nope"])
    assert "nope" in str(info.value)
    assert "known: alpha, beta" in str(info.value)


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_empty_question(retriever, question):
    with pytest.raises(QueryError, match="empty"):
        retriever.search(question)


def test_over_long_question(retriever):
    with pytest.raises(QueryError) as info:
        retriever.search("가" * 10_001)
    assert "10,001" in str(info.value)
    assert "10,000" in str(info.value)


def test_question_at_the_limit_is_accepted(shared_index):
    assert len("중국 인공지능 인재 양성") == 13
    short = Retriever(shared_index.replace(max_query_chars=13))
    assert short.search("  중국 인공지능 인재 양성  ", k=1).query.text == "중국 인공지능 인재 양성"
    with pytest.raises(QueryError):
        short.search("중국 인공지능 인재 양성 정책")


def test_validate_query_strips():
    assert validate_query("  물 가격\n", 100) == "물 가격"
    with pytest.raises(QueryError):
        validate_query(None, 100)


def test_unknown_mode(retriever):
    with pytest.raises(QueryError, match="mode"):
        retriever.search("중국", mode="sparse")


def test_negative_k(retriever):
    with pytest.raises(QueryError, match="k must be from 1 to 1000, not -1"):
        retriever.search("중국", k=-1)


@pytest.mark.parametrize("k", ["five", 2.5, 0, 10**9, True, [3], "5"])
def test_a_k_that_is_no_whole_number_in_range_is_refused(retriever, k):
    with pytest.raises(QueryError, match="k must be"):
        retriever.search("중국", k=k)


def test_k_as_a_whole_float_and_the_default():
    assert validate_k(5.0, 3) == 5 and validate_k(None, 3) == 3 and validate_k(1000, 3) == 1000


@pytest.mark.parametrize(("doc_ids", "expected"), [
    (None, None), ([], None), ("alpha", ("alpha",)), (["alpha", "beta"], ("alpha", "beta")),
    (("beta",), ("beta",)),
])
def test_doc_ids_are_a_tuple_and_one_string_is_one_id(doc_ids, expected):
    assert validate_doc_ids(doc_ids) == expected


@pytest.mark.parametrize("doc_ids", [5, [1, 2], {"alpha": 1}, ["alpha", None]])
def test_doc_ids_of_another_type_are_refused(doc_ids):
    with pytest.raises(QueryError, match="doc_ids must be a list of document ids"):
        validate_doc_ids(doc_ids)


def test_a_single_string_filter_is_not_split_into_characters(retriever):
    hits = retriever.search("중국", k=3, doc_ids="alpha").hits
    assert hits and {h.doc_id for h in hits} == {"alpha"}


@pytest.mark.parametrize("question", [None, 42, ["중국"]])
def test_a_question_that_is_not_text_is_refused(retriever, question):
    with pytest.raises(QueryError, match="the question must be text"):
        retriever.search(question)


def test_zero_k(retriever):
    with pytest.raises(QueryError, match="k must be from 1 to 1000, not 0"):
        retriever.search("중국", k=0)


def test_hit_to_dict_keys(retriever):
    hit = retriever.search("물 가격", k=1).hits[0]
    data = hit.to_dict()
    assert set(data) == HIT_KEYS
    assert data["text"] == hit.text
    assert data["notes"] == [] and data["page"] is None and data["pages"] == []
    fields = {k: v for k, v in data.items() if k not in ("page", "pages", "page_labels")}
    assert Hit(**{**fields, "notes": ()}) == hit


def test_result_to_dict_is_json_ready(retriever):
    result = retriever.search("물 가격", k=2)
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) == {"query", "language", "mode", "hits", "variants", "timings_ms"}
    assert data["language"] == "ko"
    assert data["query"] == "물 가격"
    assert data["variants"][0]["retrievers"] == ["dense", "sentences", "bm25"]
    assert data["variants"][0]["bm25_terms"] == ["물", "가격"]
    assert set(data["timings_ms"]) == {"embed", "dense", "bm25", "fusion"}
    assert [set(h) for h in data["hits"]] == [HIT_KEYS, HIT_KEYS]


@pytest.mark.parametrize("mode", MODES)
def test_results_are_deterministic(shared_index, retriever, mode):
    first = retriever.search("중국 AI 정책", k=8, mode=mode).hits
    assert retriever.search("중국 AI 정책", k=8, mode=mode).hits == first
    assert Retriever(shared_index).search("중국 AI 정책", k=8, mode=mode).hits == first


def test_a_sharing_retriever_reads_the_index_again_with_the_same_model(shared_index):
    retriever = Retriever(shared_index)
    first = retriever.index
    assert retriever.index is first
    fresh = retriever.sharing()
    assert fresh.index is not first and fresh.index.chunks == first.chunks
    assert fresh.embedder is retriever.embedder and retriever.index is first
    other = retriever.sharing(shared_index.replace(top_k=3), index=first)
    assert other.index is first and other.config.top_k == 3


def test_missing_index(tmp_path, shared_index):
    retriever = Retriever(shared_index.replace(index_dir=tmp_path / "none"))
    with pytest.raises(IndexNotFoundError, match="rag index"):
        retriever.search("중국")


def test_index_built_with_other_settings(shared_index):
    retriever = Retriever(shared_index.replace(chunk_tokens=100))
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        retriever.search("중국")


def test_embedder_of_another_dimension(shared_index):
    retriever = Retriever(shared_index, embedder=HashEmbedder(dim=64))
    with pytest.raises(IndexMismatchError) as info:
        retriever.search("중국")
    assert "256" in str(info.value)
    assert "64" in str(info.value)


def test_weighted_fusion_setting(shared_index):
    retriever = Retriever(shared_index.replace(fusion="weighted"))
    hits = retriever.search("어센드 910C 칩 수율", k=3).hits
    assert "어센드 910C" in hits[0].text
    assert hits[0].score == 2.5  # top of every min-max normalised list, weights 1 + 0.5 + 1


@pytest.fixture(scope="module")
def named_reports(tmp_path_factory):
    # Two reports that discuss the same fund; the KISTEP one also lists other KISTEP
    # publications, as the real brief does, which the bare word KISTEP would pull up.
    root = tmp_path_factory.mktemp("named")
    write_corpus(root / "corpus", {
        "kistep-brief.txt": "KISTEP 브리프\n\n1 개요\n- 중국은 AI 펀드를 600억 위안 규모로 "
                            "조성함\n\n[KISTEP 브리프 발간 현황]\n"
                            "- 174호 KISTEP 신약 KISTEP 동향\n",
        "klid-article.txt": "KLID 이슈\n\nⅠ. 서론\n선전시는 AI 펀드를 100억 위안 규모로 "
                            "조성했다.\n",
    })
    config = make_config(root)
    build_index(config)
    return Retriever(config)


def test_a_named_report_narrows_the_search_and_leaves_the_query(named_reports):
    result = named_reports.search("KISTEP 브리프의 AI 펀드 규모는?", k=5)
    assert {h.doc_id for h in result.hits} == {"kistep-brief"}
    assert "펀드" in result.hits[0].text
    scope = next(v for v in result.variants if v["kind"] == "scope")
    assert scope == {"kind": "scope", "names": ["KISTEP"], "doc_ids": ["kistep-brief"],
                     "retrievers": []}
    assert result.variants[0]["text"] == "브리프의 AI 펀드 규모는?"  # what is embedded
    assert "kistep" in result.variants[0]["bm25_terms"]


def test_an_explicit_filter_wins_over_a_named_report(named_reports):
    result = named_reports.search("KISTEP 브리프의 AI 펀드 규모는?", doc_ids=["klid-article"])
    assert {h.doc_id for h in result.hits} == {"klid-article"}
    assert [v["kind"] for v in result.variants] == ["original"]


def test_scope_by_name_can_be_switched_off(named_reports):
    off = Retriever(named_reports.config.replace(scope_by_name=False))
    result = off.search("KISTEP 브리프의 AI 펀드 규모는?", k=5)
    assert {h.doc_id for h in result.hits} == {"kistep-brief", "klid-article"}
    assert result.variants[0]["text"] == "KISTEP 브리프의 AI 펀드 규모는?"


def test_hits_link_the_footnotes_outside_them(tmp_path):
    note = "1) Coherent Solutions(2025). Trends"
    citing = "시장은 2,400억 달러에 이를 전망이다.1)"
    text = (f"감마\n{citing} 이어지는 문장이다.\n" + "다른 내용의 문장이 길게 이어진다. " * 12
            + f"\n{note}\n")
    config = make_config(tmp_path)
    write_corpus(config.corpus_dir, {"gamma.txt": text})
    build_index(config, embedder=HashEmbedder())
    hits = Retriever(config, embedder=HashEmbedder()).search("시장 전망 출처", k=10).hits

    def links(hit):
        return [(n.number, n.kind, text[n.start:n.end], n.text) for n in hit.notes]

    with_mark = [h for h in hits if citing in h.text]
    with_note = [h for h in hits if note in h.text]
    assert with_mark and with_note and not set(with_mark) & set(with_note)
    assert all(links(h) == [(1, "note", note, note)] for h in with_mark)
    assert all(links(h) == [(1, "citing", citing, citing)] for h in with_note)
    assert all(h.notes == () for h in hits if h not in with_mark + with_note)
    assert list(with_mark[0].to_dict()["notes"]) == [
        {"number": 1, "kind": "note", "start": text.index(note), "end": text.index(note)
         + len(note), "text": note}]


@pytest.mark.parametrize(("question", "fragment"), [
    ("🤔🤔🤔 ???", "no words to search for"),
    ("…!!", "no words to search for"),
    ("금리\ud800는?", "not valid text"),
])
def test_validate_query_refuses_what_cannot_be_searched(question, fragment):
    with pytest.raises(QueryError, match=fragment):
        validate_query(question, 100)


def test_validate_query_keeps_words_of_any_script_and_drops_control_characters():
    assert validate_query("환율\x07 전망은?", 100) == "환율  전망은?"
    assert validate_query("GDP 2.1%", 100) == "GDP 2.1%"
    assert validate_query("２０２４", 100) == "２０２４"


def test_an_articles_title_finds_each_of_its_passages_but_keeps_its_rarity(tmp_path):
    # The subject is named in the title and once in the text: every passage is found by
    # it, and its inverse document frequency is that of the text (one passage).
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "lake.txt").write_text(
        "바이칼 호수의 자연과 역사\n\n바이칼 호수는 시베리아에 있다.\n\n"
        + "세계에서 가장 깊은 호수로 수심은 1,642미터에 이른다. " * 12
        + "\n\n겨울에는 얼음 두께가 1미터를 넘고 그 위로 차가 다닌다.", encoding="utf-8")
    (tmp_path / "corpus" / "river.txt").write_text(
        "레나강의 흐름과 유역\n\n" + "강은 북쪽으로 흘러 랍테프해로 들어간다. " * 12,
        encoding="utf-8")
    config = make_config(tmp_path)
    build_index(config, embedder=HashEmbedder())
    retriever = Retriever(config)
    lake = [i for i, c in enumerate(retriever.index.chunks) if c.doc_id == "lake"]
    assert len(lake) > 2
    found = {h.chunk_id for h in retriever.search("바이칼", k=len(lake), mode="bm25").hits}
    assert found == {retriever.index.chunks[i].chunk_id for i in lake}
    in_text = sum("바이칼" in retriever.index.chunks[i].text for i in lake)
    n = len(retriever.index.chunks)
    assert retriever.idf["바이칼"] == pytest.approx(
        math.log(1 + (n - in_text + 0.5) / (in_text + 0.5)))


def test_a_question_is_read_once_and_the_search_passes_it_on(tmp_path):
    config = make_config(tmp_path)
    write_corpus(config.corpus_dir, {"vaccines.txt": (
        "백신 시장\n\n화이자(Pfizer)의 2023년 백신 매출은 125억 달러였다. "
        "모더나(Moderna)의 2023년 백신 매출은 67억 달러였다.\n")})
    build_index(config, embedder=HashEmbedder())
    retriever = Retriever(config, embedder=HashEmbedder())
    # A follow-up in English after a Korean question: the corpus's pair writes 화이자.
    query = retriever.read("what about Pfizer?", previous="모더나의 2023년 백신 매출은?")
    assert query.text == "화이자의 2023년 백신 매출은?" and query.rewrite == "entity"
    assert query.asked == "what about Pfizer?" and query.language == "ko"
    result = retriever.search(query, k=2)
    assert result.query is query and result.to_dict()["query"] == query.text
    # An English question carries the pairs it writes; a search of the text reads it alike.
    english = retriever.read("How much did Pfizer earn from vaccines in 2023?")
    assert [t.korean for t in english.glossary] == ["화이자"]
    again = retriever.search("How much did Pfizer earn from vaccines in 2023?", k=2)
    assert again.query == english
    assert any(v["kind"] == "glossary" for v in again.variants)
