"""Chunking: exact offsets, token budget, section paths, overlap, stable ids."""

import re
from itertools import pairwise

import pytest

from rag.chunking import SECTION_SEP, Chunk, chunk_document, split_sentences, token_counter
from rag.errors import ConfigError
from rag.ingest import Document, read_corpus

# The heading lines of the conftest reports.
FIXTURE_HEADINGS = {
    "Ⅰ. 서론",
    "Phase 1: 초기 전략적 기반 구축(2015–2017)",
    "〈표 1〉 중국의 주요 AI 개발 목표",
    "Ⅱ. 결론",
    "1 개요",
    "2 반도체 동향",
}
SETTINGS = [(16, 0), (16, 7), (32, 8), (64, 16), (200, 40)]
# Budgets that hold the longest fixture heading (22 tokens); see the xfail below for less.
BUDGETS = [(24, 0), (24, 11), (32, 8), (64, 16), (200, 40)]

count = token_counter("cl100k_base")
# One sentence of 105 tokens: far over the budgets below.
LONG_SENTENCE = ("중국 정부는 " + "인공지능 산업 발전을 위해 대규모 투자를 계속 확대하고 " * 3
                 + "있다.")


def make_doc(text, doc_id="d"):
    return Document(doc_id=doc_id, title="제목", text=text, source=f"{doc_id}.txt",
                    sha256="0" * 64, encoding="utf-8")


def section_of(chunks, needle):
    """The section of the one chunk containing `needle` (asserting there is such a chunk)."""
    sections = {c.section for c in chunks if needle in c.text}
    assert len(sections) == 1, (needle, sections)
    return sections.pop()


@pytest.fixture
def docs(corpus_dir):
    return {d.doc_id: d for d in read_corpus(corpus_dir).documents}


@pytest.mark.parametrize(("max_tokens", "overlap"), SETTINGS)
def test_offsets_point_into_the_document(docs, max_tokens, overlap):
    for doc in docs.values():
        chunks = chunk_document(doc, max_tokens, overlap)
        assert chunks
        for chunk in chunks:
            assert doc.text[chunk.start:chunk.end] == chunk.text
            assert chunk.text == chunk.text.strip()
            assert chunk.doc_id == doc.doc_id
            assert chunk.title == doc.title


@pytest.mark.parametrize(("max_tokens", "overlap"), BUDGETS)
def test_no_chunk_over_budget(docs, max_tokens, overlap):
    for doc in docs.values():
        for chunk in chunk_document(doc, max_tokens, overlap):
            assert chunk.n_tokens == count(chunk.text)
            assert chunk.n_tokens <= max_tokens, chunk


@pytest.mark.parametrize(("max_tokens", "overlap"), SETTINGS)
def test_every_line_of_text_is_in_some_chunk(docs, max_tokens, overlap):
    for doc in docs.values():
        chunks = chunk_document(doc, max_tokens, overlap)
        covered = [False] * len(doc.text)
        for c in chunks:
            covered[c.start:c.end] = [True] * (c.end - c.start)
        missed = "".join(ch if not seen else "\n" for ch, seen in zip(doc.text, covered))
        sections = " › ".join(c.section for c in chunks)
        # Only a heading that could not share a chunk with its first sentence is left
        # out, and then the section path of the chunks under it names it.
        for line in filter(None, (m.strip() for m in missed.split("\n"))):
            assert line in sections, line


def test_fixture_section_paths(docs):
    alpha = chunk_document(docs["alpha"], 64, 16)
    phase = "Ⅰ. 서론 › Phase 1: 초기 전략적 기반 구축(2015–2017)"
    assert section_of(alpha, "과거, 현재") == ""  # the title lines precede any heading
    assert section_of(alpha, "정부 주도로") == "Ⅰ. 서론"
    assert section_of(alpha, "오픈소스 모델 공개") == "Ⅰ. 서론"
    assert section_of(alpha, "인터넷 플러스") == phase
    assert section_of(alpha, "예산 매년 7% 증액") == f"{phase} › 〈표 1〉 중국의 주요 AI 개발 목표"
    assert section_of(alpha, "전문 인력 양성") == f"{phase} › 〈표 1〉 중국의 주요 AI 개발 목표"
    assert section_of(alpha, "세계 최고 AI 국가") == "Ⅱ. 결론"

    beta = chunk_document(docs["beta"], 64, 16)
    assert section_of(beta, "38,000건") == "1 개요"
    assert section_of(beta, "어센드 910C") == "1 개요"
    assert section_of(beta, "칭화대") == "2 반도체 동향 › □ (인재) 대학에 AI 전공을 신설하고 있음"
    assert section_of(beta, "냉각 비용") == (
        "2 반도체 동향 › □ (물가) 물 가격 3% 상승은 데이터센터 냉각 비용에 영향을 줌"
    )


@pytest.mark.parametrize("heading", [
    "Ⅰ. 서론",
    "Ⅲ . 주요 지역별 사례",
    "IV. Results",
    "1 개요",
    "12 향후 과제",
    "1. 베이징 AI 개발 사례",
    "Phase 2: 종합 로드맵 구축(2017–2020)",
    "Stage 1. Pilot",
    "단계 3: 확산",
    "제3장 결론",
    "참고문헌",
    "References",
    "[부록 자료]",
])
def test_heading_styles_open_a_section(heading):
    chunks = chunk_document(make_doc(f"앞 문단이다.\n{heading}\n본문 문장이다.\n"), 64, 0)
    assert section_of(chunks, "본문 문장이다.") == heading
    assert section_of(chunks, "앞 문단이다.") == ""


def test_topic_bullet_is_a_section_and_its_own_content():
    text = "2 반도체 동향\n□ (인재) 대학 전공 신설\n○ 칭화대 학부 운영 중\n"
    chunks = chunk_document(make_doc(text), 64, 0)
    assert [c.text for c in chunks] == [text.strip()]
    assert chunks[0].section == "2 반도체 동향 › □ (인재) 대학 전공 신설"


@pytest.mark.parametrize("caption", ["〈표 1〉 주요 목표", "<표 2> 예산 현황", "[표 3] 기업 수"])
def test_table_rows_carry_their_caption(caption):
    text = f"Ⅰ. 서론\n{caption}\n분야\t목표\n인재\t양성\n다음 문단이다.\n"
    chunks = chunk_document(make_doc(text), 64, 0)
    assert section_of(chunks, "인재\t양성") == f"Ⅰ. 서론 › {caption}"
    # A line without tabs is no longer part of the table.
    assert section_of(chunks, "다음 문단이다.") == "Ⅰ. 서론"


def test_image_caption_does_not_capture_following_text():
    chunks = chunk_document(make_doc("1 개요\n[그림 1] 특허 출원 현황\n본문 문장이다.\n"), 64, 0)
    assert section_of(chunks, "본문 문장이다.") == "1 개요"


def test_caption_heading_nothing_is_text_of_its_section():
    # The table's body was an image: its caption is all that is left of it, and it says
    # something ("3개 도시"), so it must be in a chunk rather than only in a section path.
    text = ("Ⅲ. 지역 사례\n서론 문장이다.\n<표 2> 중국 주요 3개 도시 AI 개발 전략\n"
            "1. 베이징 사례\n" + LONG_SENTENCE + "\n")
    chunks = chunk_document(make_doc(text), 64, 0)
    assert section_of(chunks, "<표 2> 중국 주요 3개 도시 AI 개발 전략") == "Ⅲ. 지역 사례"


def test_sentences_split_after_a_footnote_mark():
    doc = make_doc("범위를 확장했다.8) 아폴로 플랫폼은 허브 역할을 한다.\n")
    assert [x.text for x in split_sentences(doc)] == ["범위를 확장했다.8)",
                                                      "아폴로 플랫폼은 허브 역할을 한다."]


def test_only_a_heading_that_gives_a_year_is_a_sentence():
    # "Phase 2 … (2017–2020)" is the only place that says when Phase 2 ran; "Ⅰ. 서론"
    # and "1. 배경" only name a topic.
    text = ("Ⅰ. 서론\nPhase 2: 종합 로드맵 구축(2017–2020)5)\n1. 배경\n배경 문장이다.\n")
    assert [x.text for x in split_sentences(make_doc(text))] == [
        "Phase 2: 종합 로드맵 구축(2017–2020)5)", "배경 문장이다."]


@pytest.mark.parametrize(("line", "expected"), [
    ("규제를 강화했으며, 최근에는 이보다 더 낮은 칩까지 포함", 1),  # "보다" ends in 다
    ("실감 나는 상호작용을 구현하여 보다 자연스럽다.", 1),
    ("출원 수의 6배 이상 수준임 - 텐센트, 핑안보험이 포함", 2),    # an inline bullet
])
def test_korean_endings_split_only_before_an_inline_bullet(line, expected):
    assert len(split_sentences(make_doc(line + "\n"))) == expected


def test_nested_sections_reset_at_a_higher_level():
    text = ("Ⅰ. 서론\n1. 배경\n배경 문장이다.\n2. 목적\n목적 문장이다.\n"
            "Ⅱ. 본론\n본론 문장이다.\n")
    chunks = chunk_document(make_doc(text), 16, 0)
    assert section_of(chunks, "배경 문장이다.") == "Ⅰ. 서론 › 1. 배경"
    assert section_of(chunks, "목적 문장이다.") == "Ⅰ. 서론 › 2. 목적"
    assert section_of(chunks, "본론 문장이다.") == "Ⅱ. 본론"


def test_markdown_headings_nest_by_their_marks():
    text = ("# 의료 인력 수급 전망\n서론 문장이다.\n## 현황\n### 간호사\n간호사 문장이다.\n"
            "### 의사\n의사 문장이다.\n## 전망\n전망 문장이다.\n#해시태그 문장이다.\n")
    chunks = chunk_document(make_doc(text), 16, 0)
    assert section_of(chunks, "서론 문장이다.") == "의료 인력 수급 전망"
    assert section_of(chunks, "간호사 문장이다.") == SECTION_SEP.join(
        ["의료 인력 수급 전망", "현황", "간호사"])
    assert section_of(chunks, "의사 문장이다.") == SECTION_SEP.join(
        ["의료 인력 수급 전망", "현황", "의사"])
    # A hashtag (no space after #) heads nothing.
    assert section_of(chunks, "#해시태그 문장이다.") == SECTION_SEP.join(
        ["의료 인력 수급 전망", "전망"])


def test_decimal_and_korean_letter_numbering_nest_under_sections():
    text = ("Ⅰ. 금융 시장 동향\n1. 은행\n1.1 예금 금리\n가. 추진 배경\n배경 문장이다.\n"
            "나. 주요 내용\n내용 문장이다.\n1.2 대출 금리\n대출 문장이다.\n"
            "1.2.1 주택담보대출\n주담대 문장이다.\n2. 보험\n보험 문장이다.\n")
    chunks = chunk_document(make_doc(text), 16, 0)
    bank = ["Ⅰ. 금융 시장 동향", "1. 은행"]
    assert section_of(chunks, "배경 문장이다.") == SECTION_SEP.join(
        [*bank, "1.1 예금 금리", "가. 추진 배경"])
    assert section_of(chunks, "내용 문장이다.") == SECTION_SEP.join(
        [*bank, "1.1 예금 금리", "나. 주요 내용"])
    assert section_of(chunks, "대출 문장이다.") == SECTION_SEP.join([*bank, "1.2 대출 금리"])
    assert section_of(chunks, "주담대 문장이다.") == SECTION_SEP.join(
        [*bank, "1.2 대출 금리", "1.2.1 주택담보대출"])
    assert section_of(chunks, "보험 문장이다.") == SECTION_SEP.join([bank[0], "2. 보험"])


@pytest.mark.parametrize("line", [
    "가. 정부는 예산을 늘렸다.",        # lettered, but a sentence
    "1.5 배 늘어난 것으로 추정됨",      # a figure, and a sentence
])
def test_numbered_sentences_are_not_subsection_headings(line):
    chunks = chunk_document(make_doc(f"Ⅰ. 서론\n{line}\n본문 문장이다.\n"), 64, 0)
    assert section_of(chunks, "본문 문장이다.") == "Ⅰ. 서론"


@pytest.mark.parametrize("line", [
    "2 번째 단계로 넘어갔다.",        # numbered, but a sentence
    "1. 중국은 투자를 늘렸음",          # numbered, but a sentence
    "분야\t1 개요",                  # a table row
    "- 글로벌 AI 패권 경쟁 동향",       # a bullet
])
def test_sentence_like_lines_are_not_headings(line):
    chunks = chunk_document(make_doc(f"Ⅰ. 서론\n{line}\n본문 문장이다.\n"), 64, 0)
    assert section_of(chunks, "본문 문장이다.") == "Ⅰ. 서론"


def test_long_heading_is_shortened_in_the_path():
    heading = "Ⅰ. " + "가나다라마바사아자차" * 5
    chunks = chunk_document(make_doc(f"{heading}\n본문 문장이다.\n"), 200, 0)
    section = section_of(chunks, "본문 문장이다.")
    assert len(section) == 40
    assert section == heading[:39] + "…"
    assert heading in chunks[0].text  # the text itself stays whole


@pytest.mark.parametrize(("max_tokens", "overlap"), [(64, 16), (200, 40)])
def test_headings_never_stand_alone_before_body(docs, max_tokens, overlap):
    for doc in docs.values():
        for chunk in chunk_document(doc, max_tokens, overlap):
            assert chunk.text not in FIXTURE_HEADINGS, chunk


def test_consecutive_headings_join_the_first_body():
    chunks = chunk_document(make_doc("Ⅰ. 서론\n1. 배경\n배경 문장이다.\n"), 64, 0)
    assert [c.text for c in chunks] == ["Ⅰ. 서론\n1. 배경\n배경 문장이다."]
    assert chunks[0].section == "Ⅰ. 서론 › 1. 배경"


def test_heading_stays_with_a_long_first_sentence():
    chunks = chunk_document(make_doc(f"Ⅰ. 서론\n{LONG_SENTENCE}\n"), 40, 0)
    assert all(c.text != "Ⅰ. 서론" for c in chunks)


@pytest.mark.parametrize(("line", "max_tokens"), [
    ("Phase 1: 초기 전략적 기반 구축(2015–2017)", 16),
    # A paragraph that opens like a chapter and ends with a footnote mark reads as a heading.
    ("Ⅱ. 중국 정부는 " + "인공지능 산업 발전을 위해 대규모 투자를 계속 확대하고 있으며, " * 8
     + "앞으로도 이어질 것으로 보인다.3)", 200),
], ids=["phase-heading-at-16", "paragraph-read-as-heading-at-200"])
def test_heading_longer_than_budget_is_split(line, max_tokens):
    chunks = chunk_document(make_doc(f"{line}\n본문 문장이다.\n"), max_tokens, 0)
    assert all(c.n_tokens <= max_tokens for c in chunks), [c.n_tokens for c in chunks]


def test_chunk_ids_are_stable_and_sequential(docs):
    first = chunk_document(docs["alpha"], 64, 16)
    second = chunk_document(docs["alpha"], 64, 16)
    assert first == second
    assert [c.chunk_id for c in first] == [f"alpha#{i:04d}" for i in range(len(first))]


def test_overlap_is_whole_sentences_within_budget():
    sentence = r"\d+번째 문장은 짧은 사실을 말한다\."
    body = " ".join(f"{i}번째 문장은 짧은 사실을 말한다." for i in range(1, 10))
    doc = make_doc(f"Ⅰ. 서론\n{body}\nⅡ. 결론\n끝이다. 정말 끝이다.\n")
    chunks = chunk_document(doc, 60, 19)
    overlaps = 0
    for prev, nxt in pairwise(chunks):
        if nxt.start >= prev.end:
            continue
        overlaps += 1
        assert prev.section == nxt.section
        shared = doc.text[nxt.start:prev.end]
        assert count(shared) <= 19
        assert re.fullmatch(f"{sentence}( {sentence})*", shared), shared
        assert doc.text[nxt.start - 1] == " "  # it begins where a sentence begins
    assert overlaps >= 2
    # No overlap across a section boundary.
    conclusion = [c for c in chunks if c.section == "Ⅱ. 결론"]
    assert conclusion[0].start >= max(c.end for c in chunks if c.section == "Ⅰ. 서론")


@pytest.mark.parametrize(("max_tokens", "overlap"), SETTINGS)
def test_overlap_only_within_a_section(docs, max_tokens, overlap):
    for doc in docs.values():
        chunks = chunk_document(doc, max_tokens, overlap)
        for prev, nxt in pairwise(chunks):
            assert nxt.start > prev.start
            if nxt.start < prev.end:
                assert prev.section == nxt.section
                assert count(doc.text[nxt.start:prev.end]) <= overlap


def test_no_overlap_when_overlap_is_zero():
    body = " ".join(f"{i}번째 문장은 짧은 사실을 말한다." for i in range(1, 10))
    chunks = chunk_document(make_doc(f"{body}\n"), 40, 0)
    assert len(chunks) > 2
    assert all(nxt.start >= prev.end for prev, nxt in pairwise(chunks))


@pytest.mark.parametrize("overlap", [0, 8])
def test_single_long_sentence_is_split_to_fit(overlap):
    sentence = LONG_SENTENCE
    assert count(sentence) > 100
    doc = make_doc(sentence + "\n")
    chunks = chunk_document(doc, 40, overlap)
    assert len(chunks) >= 3
    assert all(c.n_tokens <= 40 for c in chunks)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(sentence)
    for prev, nxt in pairwise(chunks):
        assert nxt.start <= prev.end or doc.text[prev.end:nxt.start].isspace()
        # cuts fall at spaces, never inside a word
        assert nxt.start == 0 or doc.text[nxt.start - 1] == " "


def test_long_words_in_a_row_still_fit():
    words = " ".join(f"Supercalifragilisticexpialidociousness{i}" for i in range(6))
    assert count("Supercalifragilisticexpialidociousness0") == 13
    chunks = chunk_document(make_doc(words + "\n"), 16, 0)
    assert all(c.n_tokens <= 16 for c in chunks), [c.n_tokens for c in chunks]


def test_unbroken_run_longer_than_budget_is_cut():
    url = "https://example.com/" + "abcdefghij" * 30
    chunks = chunk_document(make_doc(f"출처는 다음과 같다 {url}\n"), 16, 0)
    assert all(c.n_tokens <= 16 for c in chunks), [c.n_tokens for c in chunks]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(64, 32), (64, 40), (16, 8)])
def test_overlap_of_half_the_budget_is_rejected(max_tokens, overlap):
    with pytest.raises(ConfigError, match="overlap"):
        chunk_document(make_doc("본문이다.\n"), max_tokens, overlap)


def test_embedding_text_prefixes_title_and_section():
    chunk = Chunk("d#0000", "d", "보고서", "Ⅰ. 서론", 0, 4, "본문이다", 3)
    assert chunk.embedding_text(True) == f"보고서{SECTION_SEP}Ⅰ. 서론\n본문이다"
    assert chunk.embedding_text(False) == "본문이다"
    no_section = Chunk("d#0000", "d", "보고서", "", 0, 4, "본문이다", 3)
    assert no_section.embedding_text(True) == "보고서\n본문이다"


def test_token_counter_counts_offline():
    assert count("hello world") == 2
    assert count("") == 0


def test_unknown_token_encoding_raises_config_error():
    with pytest.raises(ConfigError, match="no_such_encoding"):
        token_counter("no_such_encoding")
