"""HTML for the chat UI: answers with clickable markers, passages with the cited sentence marked.

Pure functions from the pipeline's results to HTML strings, so they are tested without a
server. Every piece of text that comes from a report, a file name or a user is escaped
here; nothing else in the UI builds HTML from such text.

Anchors: the passage of marker [n] in chat turn t has the id ``src-t-n``; closest passages
of an abstained answer have ``near-t-i``. The answer's markers link to those ids, so they
work as plain links, and ui.py's small click handler also opens and flashes the card.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .glossing import GlossStatus

if TYPE_CHECKING:
    from .index_worker import JobStatus
from .markers import MARKER


def escape(text: Any) -> str:
    """Text as HTML text: <, >, &, and both quotes escaped."""
    return html.escape(str(text), quote=True)


def upload_results(results: Any) -> str:
    """One line per uploaded file: ✓ indexed as its id, or ✗ skipped with the reason."""
    lines = []
    for r in results:
        mark = "✓" if r.status == "indexed" else "✗"
        target = f" → <code>{escape(r.doc_id)}</code>" if r.doc_id else ""
        lines.append(f'<li class="upload-{escape(r.status)}">{mark} <b>{escape(r.name)}</b>'
                     f"{target}: {escape(r.detail)}</li>")
    return f'<ul class="upload-results">{"".join(lines)}</ul>' if lines else ""


_STAGES = {"starting": "준비 · starting", "reading": "읽는 중 · reading",
           "chunking": "나누는 중 · chunking", "embedding": "임베딩 · embedding",
           "saving": "저장 중 · saving"}


def upload_progress(status: JobStatus) -> str:
    """A running upload: its stage, a progress bar, its rate and ETA, and the seconds so
    far."""
    stage = _STAGES.get(status.stage, status.stage)
    bar = (f' <progress value="{int(status.done)}" max="{int(status.total)}"></progress> '
           f"{int(status.done):,}/{int(status.total):,}" if status.total else "")
    rate, eta = status.rate, status.eta_seconds
    if rate is not None:
        bar += f" · {rate:,.1f}/s"
    if eta is not None:
        bar += f" · 남은 시간 · ETA {_clock(eta)}"
    return (f'<p class="upload-progress">⏳ {escape(status.message)} · {escape(stage)}{bar} '
            f"· {status.seconds:.0f} s — 질문은 계속 받습니다 · questions are answered "
            "meanwhile</p>")


def _clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss past an hour."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def upload_status(message: str) -> str:
    """One line about an upload that did not run or did not finish."""
    return f'<p class="upload-failed">⚠ {escape(message)}</p>'


def anchor_id(turn: int, marker: int) -> str:
    """The element id of citation `marker`'s passage in chat turn `turn`."""
    return f"src-{turn}-{marker}"


def passage_html(text: str, start: int, quote_start: int | None = None,
                 quote_end: int | None = None) -> str:
    """The passage escaped, with the cited sentence wrapped in <mark>.

    `start` is the passage's offset in its document; `quote_start`/`quote_end` are the
    cited sentence's document offsets, clipped to the passage. Line breaks are kept
    (the card's CSS uses ``white-space: pre-wrap``).
    """
    if quote_start is None or quote_end is None:
        return escape(text)
    a = min(max(quote_start - start, 0), len(text))
    b = min(max(quote_end - start, a), len(text))
    if a == b:
        return escape(text)
    return (f"{escape(text[:a])}<mark class=\"quote\">{escape(text[a:b])}</mark>"
            f"{escape(text[b:])}")


def position_label(start: int, end: int, doc_length: int | None) -> str:
    """Where a passage lies in its document, e.g. "chars 2392–2522 of 10,166 (24%)"."""
    if not doc_length:
        return f"chars {start}–{end}"
    return f"chars {start}–{end} of {doc_length:,} ({round(100 * start / doc_length)}%)"


def answer_html(text: str, markers: Iterable[int], turn: int,
                quotes: Mapping[int, str] | None = None) -> str:
    """The answer escaped, each known marker [n] a link to its passage card; `quotes`
    (marker → the cited sentence) become the marker's hover preview.

    Markers that name no citation stay as text. The result is one line of HTML (line
    breaks become <br>), so a Markdown renderer passes it through as one HTML block.
    """
    known = set(markers)
    quotes = quotes or {}
    out: list[str] = []
    pos = 0
    for match in MARKER.finditer(text):
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        if not all(n in known for n in numbers):
            continue
        out.append(escape(text[pos:match.start()]))
        out.append("".join(_marker_link(n, turn, quotes.get(n, "")) for n in numbers))
        pos = match.end()
    out.append(escape(text[pos:]))
    return f'<div class="answer">{_one_line("".join(out))}</div>'


def user_html(question: str) -> str:
    """A user's message: escaped text, one HTML block."""
    return f'<div class="question">{_one_line(escape(question))}</div>'


def streaming_html(text: str, note: str = "") -> str:
    """A partial answer while it streams (no markers yet), with a small status note."""
    status = f'<span class="status">{escape(note)}</span>' if note else ""
    body = _one_line(escape(text)) if text else ""
    return f'<div class="answer streaming">{body}<span class="cursor">▍</span>{status}</div>'


def draft_html(draft_body: str, text: str) -> str:
    """LLM mode: the quoted answer, cited, above the model's answer as it streams."""
    label = '<div class="draft-label">인용 답변 · quoted from the reports</div>'
    return (f'<div class="draft">{label}{draft_body}</div>'
            + streaming_html(text, "LLM 답변 작성 중 · the local LLM is writing…"))


def message_html(body: str, resolved_from: str | None = None, resolved_to: str | None = None,
                 notes: Sequence[str] = (), meta: str = "") -> str:
    """An assistant message: the resolved question (if rewritten), the body, notes, meta."""
    parts = []
    if resolved_to and resolved_from and resolved_to != resolved_from:
        parts.append(f'<div class="resolved" title="follow-up resolved against the previous '
                     f'question">↪ {escape(resolved_to)}</div>')
    parts.append(body)
    parts.extend(f'<div class="note">⚠ {escape(n)}</div>' for n in notes)
    if meta:
        parts.append(f'<div class="meta">{escape(meta)}</div>')
    return "".join(parts)


def answer_meta(mode: str, sources: int, seconds: float,
                confidence: float | None = None) -> str:
    """The line under an answer: mode, how many sources, the fitted confidence, time."""
    parts = [mode, f"{sources} source" if sources == 1 else f"{sources} sources"]
    if confidence is not None:
        parts.append(f"확신도 confidence {confidence:.2f}")
    parts.append(f"{seconds:.1f} s")
    return " · ".join(parts)


def error_html(message: str) -> str:
    """A failed turn: the library's message, shown as a warning."""
    return f'<div class="answer error">⚠ {_one_line(escape(message))}</div>'


def source_card(*, anchor: str, label: str, title: str, section: str, doc_id: str, start: int,
                end: int, text: str, doc_length: int | None = None,
                quote_start: int | None = None, quote_end: int | None = None,
                notes: Sequence[Mapping[str, Any]] = (), page_label: str = "",
                preview: str = "") -> str:
    """One passage: label, document title, section path, page, position, the passage,
    and (`preview`, an image URI) the printed page with the cited sentence marked."""
    place = position_label(start, end, doc_length)
    if page_label:
        place = f"p. {page_label} · {place}"
    bar = ""
    if doc_length:
        left = 100 * start / doc_length
        width = max(100 * (end - start) / doc_length, 0.8)
        bar = (f'<div class="docbar" title="{escape(place)}"><span style="left:{left:.1f}%;'
               f'width:{width:.1f}%"></span></div>')
    section_html = f'<div class="section">{escape(section)}</div>' if section else ""
    return (
        f'<article class="source" id="{escape(anchor)}">'
        f'<header><span class="label">{escape(label)}</span>'
        f'<span class="title">{escape(title or doc_id)}</span></header>'
        f'{section_html}'
        f'<div class="position">{escape(place)} · <code>{escape(doc_id)}</code> · '
        f'{_full_document_link(doc_id, start, end, quote_start, quote_end)}</div>{bar}'
        f'<div class="passage">'
        f'{passage_html(text, start, quote_start, quote_end)}</div>'
        f'{notes_html(notes)}'
        f'{_page_view(preview, page_label)}'
        # Shown at phone width (CSS), where the sources lie below the chat.
        '<a class="back" href="#chat" title="back to the answer">↑ 답변으로 · back to the '
        'answer</a>'
        f'</article>'
    )


def _full_document_link(doc_id: str, start: int, end: int, quote_start: int | None,
                        quote_end: int | None) -> str:
    """The link that opens the whole report at this passage (ui.py's page script fetches
    it from the app's `document` endpoint)."""
    quote = ("" if quote_start is None or quote_end is None else
             f' data-qs="{int(quote_start)}" data-qe="{int(quote_end)}"')
    return (f'<a class="fulldoc" href="#" role="button" data-doc="{escape(doc_id)}" '
            f'data-start="{int(start)}" data-end="{int(end)}"{quote} title="open the whole '
            f'report at this passage">전체 문서 · full document</a>')


def _page_view(preview: str, page_label: str) -> str:
    if not preview.startswith("data:image/"):
        return ""
    return (f'<details class="page-view"><summary>p. {escape(page_label)} 쪽 보기 · page view'
            f'</summary><img src="{escape(preview)}" alt="page {escape(page_label)}, the cited '
            f'sentence highlighted" loading="lazy"></details>')


def notes_html(notes: Sequence[Mapping[str, Any]]) -> str:
    """The passage's footnotes that lie elsewhere in the report (``NoteLink`` dicts)."""
    items = "".join(
        f'<li class="note">Footnote {escape(n["text"])}</li>' if n["kind"] == "note" else
        f'<li class="note">Note {n["number"]} backs: “{escape(n["text"])}”</li>'
        for n in notes)
    return f'<ul class="notes">{items}</ul>' if items else ""


def citation_cards(citations: Sequence[Mapping[str, Any]], turn: int,
                   doc_lengths: Mapping[str, int], previews: Mapping[int, str] | None = None
                   ) -> str:
    """A card per citation (dicts as in ``Answer.to_dict()["citations"]``); `previews`
    maps a marker to the picture of its printed page."""
    previews = previews or {}
    return "".join(
        source_card(anchor=anchor_id(turn, c["marker"]), label=f"[{c['marker']}]",
                    title=c["title"], section=c["section"], doc_id=c["doc_id"],
                    start=c["start"], end=c["end"], text=c["text"],
                    doc_length=doc_lengths.get(c["doc_id"]), quote_start=c.get("quote_start"),
                    quote_end=c.get("quote_end"), notes=c.get("notes", ()),
                    page_label=c.get("page_label") or "",
                    preview=previews.get(c["marker"], ""))
        for c in citations
    )


def hit_cards(hits: Sequence[Mapping[str, Any]], turn: int, doc_lengths: Mapping[str, int],
              prefix: str = "near") -> str:
    """A card per retrieved passage (dicts as in ``Hit.to_dict()``), no sentence marked,
    labelled with its search rank and score."""
    return "".join(
        source_card(anchor=f"{prefix}-{turn}-{i}", label=_hit_label(h, i),
                    title=h["title"], section=h["section"], doc_id=h["doc_id"],
                    start=h["start"], end=h["end"], text=h["text"],
                    doc_length=doc_lengths.get(h["doc_id"]), notes=h.get("notes", ()),
                    page_label=(h.get("page_labels") or [""])[0])
        for i, h in enumerate(hits, 1)
    )


def _hit_label(hit: Mapping[str, Any], i: int) -> str:
    score = hit.get("score")
    return f"#{hit.get('rank', i)}" + (f" · {score:.3f}" if isinstance(score, float) else "")


def turn_sources(turn: int, question: str, answer: Mapping[str, Any] | None,
                 doc_lengths: Mapping[str, int],
                 hits: Sequence[Mapping[str, Any]] = (),
                 previews: Mapping[int, str] | None = None) -> str:
    """The sources of one chat turn: its citations, or the closest passages if it abstained.

    With no answer yet, `hits` (the retrieved passages) are shown while it is composed.
    """
    if answer is None:
        heading = "찾은 구절 · retrieved passages"
        body = hit_cards(hits, turn, doc_lengths, prefix="hit") or _empty("…")
    elif answer.get("abstained"):
        heading = "가장 가까운 구절 · closest passages (no answer found)"
        body = hit_cards(answer.get("closest", ()), turn, doc_lengths) or _empty(
            "no passage matched")
    else:
        heading = "출처 · sources"
        citations = answer.get("citations", ())
        body = citation_cards(citations, turn, doc_lengths, previews)
        # The rest of what the search found, one click away: a better passage than the
        # one quoted is never hidden.
        cited = {c["chunk_id"] for c in citations}
        others = [h for h in hits if h["chunk_id"] not in cited]
        if others:
            body += (f'<details class="others"><summary>다른 검색 구절 {len(others)}개 · '
                     f'{len(others)} other retrieved passage{"s" if len(others) > 1 else ""}'
                     f'</summary>{hit_cards(others, turn, doc_lengths, prefix="hit")}'
                     '</details>')
    return (f'<p class="turn-heading">{escape(heading)}</p>{body}')


def sources_panel(turns: Sequence[tuple[int, str, str]]) -> str:
    """All turns' sources, newest first and open; earlier turns folded.

    `turns` holds (turn number, question, HTML from `turn_sources`) in chat order.
    """
    if not turns:
        return _empty("답변의 출처가 여기에 표시됩니다. Sources of each answer appear here: "
                      "click a marker like [1] to bring up its passage.", cls="placeholder")
    blocks = []
    for i, (turn, question, body) in enumerate(reversed(turns)):
        is_open = " open" if i == 0 else ""
        blocks.append(f'<details class="turn" id="turn-{turn}"{is_open}>'
                      f'<summary><span class="turn-no">Q{turn}</span> {escape(question)}'
                      f'</summary>{body}</details>')
    return f'<div class="sources">{"".join(blocks)}</div>'


def unsure_html(reason: str) -> str:
    """The label over an answer that quotes passages which may not answer the question."""
    return (f'<div class="unsure" title="{escape(reason)}">⚠ 확실하지 않음 · unsure: '
            f'{escape(reason)}</div>')


def settings_chips(mode: str, passages: int, reports: Sequence[str], robust: bool) -> str:
    """The settings the next question is asked with, as chips beside the question box."""
    chips = [("mode", "LLM" if mode == "llm" else "추출 · extractive"),
             ("passages", f"구절 {passages}개 · {passages} passages"),
             ("filter", f"보고서 {len(reports)}개만 · only: {', '.join(reports)}" if reports
              else "전체 보고서 · all reports")]
    if not robust:
        chips.append(("robust", "영어 그대로 검색 · English as typed"))
    return '<div class="chips">' + "".join(
        f'<span class="chip chip-{name}">{escape(text)}</span>' for name, text in chips
    ) + "</div>"


def filter_note(reports: Sequence[str]) -> str:
    """Why a filtered question may have found nothing: only some reports were searched."""
    return (f"보고서 필터가 켜져 있어 {len(reports)}개 보고서만 찾았습니다 · only the "
            f"selected report{'s' if len(reports) > 1 else ''} ({', '.join(reports)}) "
            "were searched: clear the filter to search all of them.")


def conversation_markdown(turns: Sequence[Mapping[str, Any]]) -> str:
    """The conversation as Markdown: each question, its answer, and every citation with
    its report, section, page and quoted sentence. `turns` hold the question asked
    ("question"), the answer dict (``Answer.to_dict()``, key "answer") and "asked" (what
    the user typed, when a follow-up was rewritten)."""
    lines = ["# 보고서 Q&A · Report Q&A", ""]
    for number, turn in enumerate(turns, 1):
        answer = turn.get("answer")
        if not answer:
            continue
        lines.append(f"## Q{number}. {_md(turn.get('asked') or turn['question'])}")
        if turn.get("asked") and turn["asked"] != turn["question"]:
            lines.append(f"*→ {_md(turn['question'])}*")
        lines.append("")
        if answer.get("unsure"):
            lines += [f"> ⚠ unsure: {_md(answer['unsure'])}", ""]
        lines += [_md(answer["answer"]), ""]
        for c in answer.get("citations", ()):
            place = " › ".join(p for p in (c.get("title") or c["doc_id"], c.get("section"))
                               if p)
            page = f", p. {c['page_label']}" if c.get("page_label") else ""
            lines.append(f"- [{c['marker']}] {_md(place)}{page} (`{c['doc_id']}`, chars "
                         f"{c['start']}–{c['end']}): “{_md(' '.join(quote_of(c).split()))}”")
        if answer.get("abstained") and answer.get("closest"):
            lines.append("- closest passages: " + "; ".join(
                f"{_md(h.get('title') or h['doc_id'])} › {_md(h.get('section') or '')}"
                for h in answer["closest"]))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: Any) -> str:
    """Text for Markdown: characters that would start markup or HTML are escaped."""
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", str(text))


def library_table(rows: Sequence[Any]) -> str:
    """The report library (``LibraryRow``s): title, id, format, pages, passages, when the
    file was added, and its state."""
    if not rows:
        return _empty("색인된 보고서가 없습니다 · no report is indexed yet", cls="placeholder")
    body = "".join(
        f'<tr class="state-{escape(r.state.replace(" ", "-"))}"><td>{escape(r.title)}</td>'
        f"<td><code>{escape(r.doc_id)}</code></td><td>{escape(r.format)}</td>"
        f"<td>{r.pages if r.pages is not None else '—'}</td><td>{r.passages:,}</td>"
        f"<td>{_date(r.added)}</td><td>{escape(_STATES.get(r.state, r.state))}</td></tr>"
        for r in rows)
    return ('<table class="library"><thead><tr><th>제목 · title</th><th>id</th>'
            '<th>형식 · format</th><th>쪽 · pages</th><th>구절 · passages</th>'
            '<th>추가 · added</th><th>상태 · state</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")


_STATES = {"indexed": "색인됨 · indexed", "file missing": "파일 없음 · file missing"}


def _date(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "—"


def index_summary(documents: Sequence[tuple[str, str, int]], chunks: int) -> str:
    """One line about the index: how many reports and passages (titles escaped)."""
    titles = ", ".join(escape(t) for _, t, _ in documents[:4])
    more = f" +{len(documents) - 4}" if len(documents) > 4 else ""
    return (f'<span class="index-summary">{len(documents)} reports · {chunks:,} passages'
            f'{" · " + titles + more if titles else ""}</span>')


def gloss_status(status: GlossStatus) -> str:
    """Background glossing in the header: how far it is, or why it stopped; nothing once
    it is done."""
    if status.error:
        return (f'<span class="gloss-status">영어 어휘 중단 · English lexicon stopped: '
                f'{escape(status.error)}</span>')
    if not status.running:
        return ""
    if not status.total:
        return ('<span class="gloss-status">영어 어휘 준비 중 · preparing the English lexicon'
                '</span>')
    return (f'<span class="gloss-status">영어 어휘 {status.done:,}/{status.total:,} · '
            f'English lexicon: {status.done:,} of {status.total:,} words glossed; English '
            'questions use those so far</span>')


def _marker_link(n: int, turn: int, quote: str = "") -> str:
    target = anchor_id(turn, n)
    title = f"[{n}] {' '.join(quote.split())}" if quote else f"show passage [{n}]"
    return (f'<a class="cite" href="#{target}" data-target="{target}" '
            f'title="{escape(title)}">[{n}]</a>')


def quote_of(citation: Mapping[str, Any]) -> str:
    """The cited sentence of a citation dict (its whole passage when none is marked)."""
    start, qs, qe = citation["start"], citation.get("quote_start"), citation.get("quote_end")
    text = citation["text"]
    return text if qs is None or qe is None else text[qs - start:qe - start]


def quotes_of(citations: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Marker → its cited sentence, for the markers' hover previews."""
    return {c["marker"]: quote_of(c) for c in citations}


def _one_line(fragment: str) -> str:
    return fragment.replace("\r\n", "\n").replace("\n", "<br>")


def _empty(text: str, cls: str = "empty") -> str:
    return f'<p class="{cls}">{escape(text)}</p>'
