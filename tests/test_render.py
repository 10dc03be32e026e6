"""The UI's HTML helpers: highlighting at the right offsets, escaping, marker links."""

from __future__ import annotations

import re

from rag import render
from rag.answer import Answer, Citation
from rag.retrieval import Hit

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z]+)", html)}


def test_passage_marks_the_cited_sentence_at_its_document_offsets() -> None:
    text = "첫 문장이다. 화웨이는 수율을 40%까지 높였다. 끝 문장."
    start = 1000
    q0 = start + text.index("화웨이")
    q1 = start + text.index("끝") - 1
    html = render.passage_html(text, start, q0, q1)
    assert html == ("첫 문장이다. <mark class=\"quote\">화웨이는 수율을 40%까지 높였다.</mark>"
                    " 끝 문장.")


def test_passage_without_a_quote_or_with_an_empty_one_has_no_mark() -> None:
    assert render.passage_html("a < b", 0) == "a &lt; b"
    assert "<mark" not in render.passage_html("abc", 10, 12, 12)


def test_passage_quote_is_clipped_to_the_passage() -> None:
    html = render.passage_html("0123456789", 100, 95, 103)
    assert html == '<mark class="quote">012</mark>3456789'
    html = render.passage_html("0123456789", 100, 108, 200)
    assert html == '01234567<mark class="quote">89</mark>'


def test_passage_html_is_escaped_inside_and_outside_the_mark() -> None:
    text = f"앞 {XSS} 인용 {XSS} 뒤"
    q0 = text.index("인용")
    html = render.passage_html(text, 0, q0, q0 + len("인용 ") + len(XSS))
    assert _tags(html) == {"mark"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=&quot;alert(2)&quot;" in html


def test_position_label() -> None:
    assert render.position_label(2392, 2522, 10166) == "chars 2392–2522 of 10,166 (24%)"
    assert render.position_label(0, 10, None) == "chars 0–10"


def test_answer_markers_become_links_to_their_passages() -> None:
    html = render.answer_html("수율은 40%이다 [1] 생산은 75만 장 [2]", [1, 2], turn=3)
    links = re.findall(r'<a class="cite" href="#(src-3-\d)"[^>]*>\[(\d)\]</a>', html)
    assert links == [("src-3-1", "1"), ("src-3-2", "2")]
    assert html.startswith('<div class="answer">') and "\n" not in html


def test_answer_marker_groups_and_unknown_markers() -> None:
    html = render.answer_html("A [1, 2] B [7] C", [1, 2], turn=1)
    assert html.count('class="cite"') == 2
    assert "[7]" in html and 'href="#src-1-7"' not in html


def test_answer_text_is_escaped_and_kept_on_one_line() -> None:
    html = render.answer_html(f"{XSS}\n둘째 줄 [1]", [1], turn=1)
    assert _tags(html) == {"div", "a", "br"}
    assert "&lt;script&gt;" in html


def test_source_card_escapes_title_section_and_document_id() -> None:
    card = render.source_card(anchor="src-1-1", label="[1]", title=f"제목 {XSS}",
                              section=f"1 장 › {XSS}", doc_id='evil"<b>', start=10, end=20,
                              text=f"본문 {XSS}", doc_length=100, quote_start=13,
                              quote_end=13 + len(XSS))
    assert _tags(card) == {"article", "header", "span", "div", "code", "mark", "a"}
    assert card.count("&lt;script&gt;") == 3
    assert 'id="src-1-1"' in card
    assert "evil&quot;&lt;b&gt;" in card
    assert "chars 10–20 of 100 (10%)" in card


def test_source_card_lists_the_footnotes_outside_the_passage() -> None:
    notes = [{"number": 6, "kind": "note", "start": 90, "end": 99, "text": f"6) NIA {XSS}"},
             {"number": 2, "kind": "citing", "start": 0, "end": 9, "text": "추세는 같다.2)"}]
    card = render.source_card(anchor="a", label="#1", title="T", section="", doc_id="d",
                              start=10, end=20, text="본문", notes=notes)
    assert '<ul class="notes">' in card and card.count('<li class="note">') == 2
    assert "Footnote 6) NIA &lt;script&gt;" in card
    assert "Note 2 backs: “추세는 같다.2)”" in card
    assert "notes" not in render.source_card(anchor="a", label="#1", title="T", section="",
                                             doc_id="d", start=10, end=20, text="본문")


def _answer(abstained: bool = False) -> Answer:
    citation = Citation(1, "doc#0001", "doc", "보고서 <제목>", "2 동향", 50, 80,
                        "가나다. 화웨이는 40%이다. 마바사.", 55, 66)
    hit = Hit(1, 0.5, "doc#0002", "doc", "보고서", "3 결론", 90, 100, "<i>가까운</i> 구절")
    if abstained:
        return Answer("q", "보고서에서 근거를 찾지 못했습니다.", (), True, "extractive", "ko",
                      closest=(hit,))
    return Answer("q", "화웨이는 40%이다. [1]", (citation,), False, "extractive", "ko")


def test_turn_sources_show_citations_with_the_quote_marked() -> None:
    html = render.turn_sources(2, "질문", _answer().to_dict(), {"doc": 1000})
    assert 'id="src-2-1"' in html
    assert '<mark class="quote">화웨이는 40%이다.</mark>' in html
    assert "보고서 &lt;제목&gt;" in html
    assert "chars 50–80 of 1,000 (5%)" in html


def test_turn_sources_of_an_abstained_answer_show_the_closest_passages() -> None:
    html = render.turn_sources(1, "질문", _answer(abstained=True).to_dict(), {})
    assert "closest passages" in html
    assert 'id="near-1-1"' in html
    assert "&lt;i&gt;가까운&lt;/i&gt;" in html and "<mark" not in html


def test_turn_sources_before_the_answer_show_the_retrieved_passages() -> None:
    hit = _answer(abstained=True).closest[0].to_dict()
    html = render.turn_sources(4, "질문", None, {}, [hit])
    assert "retrieved passages" in html and 'id="hit-4-1"' in html


def test_sources_panel_shows_the_newest_turn_open_and_escapes_questions() -> None:
    panel = render.sources_panel([(1, "첫 질문", "<p>a</p>"), (2, f"둘째 {XSS}", "<p>b</p>")])
    assert panel.index('id="turn-2"') < panel.index('id="turn-1"')
    assert '<details class="turn" id="turn-2" open>' in panel
    assert '<details class="turn" id="turn-1">' in panel
    assert "&lt;script&gt;" in panel and "<script" not in panel
    assert "click a marker" in render.sources_panel([])


def test_messages_escape_user_text_and_errors() -> None:
    assert _tags(render.user_html(XSS)) == {"div"}
    assert _tags(render.error_html(XSS)) == {"div"}
    assert _tags(render.streaming_html(XSS, note=XSS)) == {"div", "span"}
    message = render.message_html("<p>x</p>", "그럼 상하이는?", f"상하이 {XSS}", [XSS], meta=XSS)
    assert "↪ 상하이 &lt;script&gt;" in message
    assert message.count("&lt;script&gt;") == 3


def test_resolved_question_is_shown_only_when_it_differs() -> None:
    assert "resolved" not in render.message_html("<p>x</p>", "질문", "질문")


def test_index_summary_escapes_titles() -> None:
    html = render.index_summary([("a", f"제목 {XSS}", 10)], 12)
    assert "1 reports · 12 passages" in html and "<script" not in html


def test_upload_results_escape_names_and_reasons():
    from types import SimpleNamespace as Result

    html = render.upload_results([
        Result(name="<img src=x onerror=alert(1)>.pdf", doc_id="x", status="indexed",
               detail="![](http://127.0.0.1:9/pixel.png) (pdf, 3 pages): 4 passages"),
        Result(name="b.hwpx", doc_id="", status="skipped", detail="b.hwpx is a damaged zip"),
    ])
    assert "<img" not in html and "&lt;img src=x" in html
    assert html.count("<li") == 2 and "✗ <b>b.hwpx</b>: b.hwpx is a damaged zip" in html


def test_answer_meta_counts_sources_in_the_right_number_and_shows_confidence() -> None:
    assert render.answer_meta("extractive", 1, 0.34) == "extractive · 1 source · 0.3 s"
    assert render.answer_meta("llm", 3, 2.0, 0.912) == (
        "llm · 3 sources · 확신도 confidence 0.91 · 2.0 s")
    assert render.answer_meta("extractive", 0, 0.1, 0.05).startswith("extractive · 0 sources")


def test_settings_chips_name_mode_passages_and_filter() -> None:
    html = render.settings_chips("llm", 3, ["보건 <b>보고서</b>"], False)
    assert "LLM" in html and "3 passages" in html and "English as typed" in html
    assert "보건 &lt;b&gt;보고서&lt;/b&gt;" in html and "<b>" not in html
    assert "all reports" in render.settings_chips("extractive", 5, [], True)


def test_the_unsure_label_and_the_filter_note_are_escaped() -> None:
    assert "<script>" not in render.unsure_html("<script>x</script>")
    note = render.filter_note(["금융 동향", "에너지 전망"])
    assert "2개" in note and "금융 동향, 에너지 전망" in note and "clear the filter" in note


def test_conversation_markdown_cites_report_section_page_and_quote() -> None:
    citation = {"marker": 1, "title": "에너지 *전망*", "section": "2. 원전", "doc_id": "energy",
                "start": 100, "end": 140, "text": "서론. 원전 2기를 2030년까지 추가한다. 끝.",
                "quote_start": 104, "quote_end": 125, "page_label": "7"}
    turns = [{"question": "원전은 몇 기 추가되나?", "asked": "그럼 원전은?",
              "answer": {"answer": "원전 2기를 2030년까지 추가한다. [1]", "citations": [citation],
                         "abstained": False, "unsure": ""}},
             {"question": "q", "answer": None}]
    text = render.conversation_markdown(turns)
    assert "## Q1. 그럼 원전은?" in text and "*→ 원전은 몇 기 추가되나?*" in text
    assert r"에너지 \*전망\* › 2. 원전, p. 7 (`energy`, chars 100–140)" in text
    assert "“원전 2기를 2030년까지 추가한다.”" in text
    assert "Q2" not in text  # a turn without an answer (stopped, failed) is left out


def test_a_marker_previews_its_sentence() -> None:
    html = render.answer_html("금리는 동결 [1]", [1], 3, {1: "금리는 \"3.5%\"로\n동결"})
    assert 'title="[1] 금리는 &quot;3.5%&quot;로 동결"' in html


def test_other_retrieved_passages_follow_the_citations_collapsed() -> None:
    hit = {"rank": 2, "score": 0.0312, "chunk_id": "c2", "doc_id": "d", "title": "T",
           "section": "S", "start": 0, "end": 4, "text": "다른 구절", "notes": []}
    cited = {"chunk_id": "c1", "marker": 1, "title": "T", "section": "S", "doc_id": "d",
             "start": 0, "end": 2, "text": "구절", "quote_start": 0, "quote_end": 2}
    body = render.turn_sources(1, "q", {"abstained": False, "citations": [cited]}, {},
                               [{**hit, "chunk_id": "c1", "rank": 1}, hit])
    assert body.index('id="src-1-1"') < body.index('<details class="others">')
    assert "1 other retrieved passage<" in body and "#2 · 0.031" in body
