"""Blocks into stored text with its page map, line wraps inside Korean words, and the
document's page lookups: made-up sentences from several domains."""

from __future__ import annotations

from rag.ingest import Document
from rag.ingest.joints import WRAP, resolve_wraps
from rag.ingest.layout import (
    HEADING,
    PAGE_BREAK,
    PARAGRAPH,
    ROW,
    Block,
    assemble,
    styled_block,
    table_row,
)


def test_assemble_lays_out_paragraphs_rows_and_pages():
    layout = assemble([
        Block(HEADING, "1. 수산 자원 현황", 1, 2),
        Block(PARAGRAPH, "연근해 어획량은  2024년에\u00ad 줄었다.", 1),
        Block(ROW, table_row(["어종", "어획량"]), 1),
        Block(ROW, table_row(["고등어", "12만\n톤"]), 1),
        Block(PARAGRAPH, "양식 생산은 늘었다.", 3),
    ], n_pages=3)
    assert layout.text == ("1. 수산 자원 현황\n\n연근해 어획량은 2024년에 줄었다.\n\n"
                           "어종\t어획량\n고등어\t12만 톤\n\n양식 생산은 늘었다.\n")
    third = layout.text.index("양식")
    assert layout.pages == (0, third, third)  # page 2 holds no text
    assert layout.headings == ((0, 2),)


def test_a_paragraph_running_over_a_page_starts_the_page_inside_it():
    layout = assemble([Block(PARAGRAPH, f"병원 대기 시간은 평균{PAGE_BREAK} 40분이다.", 4)],
                      n_pages=5)
    assert PAGE_BREAK not in layout.text
    doc = Document("d", "t", layout.text, "s", "h", "", pages=layout.pages)
    assert doc.page_at(layout.text.index("병원")) == 4
    assert doc.page_at(layout.text.index("40분")) == 5
    assert doc.pages_of(0, len(layout.text)) == (4, 5)


def test_styled_block_keeps_sentences_out_of_headings():
    assert styled_block("제3장 금리 정책", 1).kind == HEADING
    assert styled_block("기준금리는 3.5%로 동결되었다.", 1).kind == PARAGRAPH
    assert styled_block("Monetary policy outlook", 2).level == 2
    assert styled_block("Rates were held at 3.5 percent.", 2).kind == PARAGRAPH
    assert styled_block("도시 재생 사업", 0).kind == PARAGRAPH


def test_wraps_join_by_the_documents_own_words_then_by_grammar():
    texts = [
        f"전기차 충전소 보급{WRAP}확대가 필요하다. 보급확대 예산이 늘었다.",
        f"백신 접종률이 높아지{WRAP}면서 감염이 줄었다.",
        f"원자력 발전{WRAP}설비의 수명을 늘렸다.",
    ]
    out = resolve_wraps(texts)
    assert out[0].startswith("전기차 충전소 보급확대가")  # written as one word elsewhere
    assert out[1] == "백신 접종률이 높아지면서 감염이 줄었다."  # an ending joins its stem
    assert out[2] == "원자력 발전 설비의 수명을 늘렸다."  # a new noun gets its space


def test_document_pages_and_labels():
    doc = Document("d", "t", "가" * 30, "s", "h", "", pages=(0, 10, 20),
                   page_labels=("i", "ii", "1"))
    assert [doc.page_at(o) for o in (0, 9, 10, 29)] == [1, 1, 2, 3]
    assert doc.pages_of(5, 25) == (1, 2, 3) and doc.page_starts_in(5, 25) == (10, 20)
    assert doc.page_label(2) == "ii"
    plain = Document("d", "t", "text", "s", "h", "utf-8")
    assert plain.page_at(2) is None and plain.pages_of(0, 4) == ()
