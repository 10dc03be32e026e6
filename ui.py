"""The chat UI: ask about the reports, read the cited answer, check every source.

    python ui.py [--host 127.0.0.1] [--port 7860] [--share]      (or: rag serve)

Layout and event wiring only: answers come from rag.answer, follow-ups are resolved by
rag.conversation, and every piece of HTML is built (and escaped) by rag.render. The API
that gradio_client sees has two endpoints, ``ask`` and ``search``, returning the same JSON
as ``rag ask --json`` and ``rag search --json``.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Offline tool: no usage reporting, whatever gradio's defaults are.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from rag import render
from rag.answer import Done, Draft, Retrieved, Token, stream_answer
from rag.config import Config
from rag.document_view import document_html
from rag.embedding import Embedder, load_embedder
from rag.errors import CorpusError, QueryError, RagError, bilingual
from rag.glossing import BackgroundGlossing
from rag.index_worker import DONE, IndexWorker, JobStatus
from rag.indexing import Watch, build_index
from rag.ingest import SUFFIXES
from rag.ingest.page_image import page_jpeg
from rag.library import library_rows, remove_reports
from rag.llm import llm_available
from rag.query import Query
from rag.retrieval import Retriever
from rag.store import Index, newer_index, where
from rag.uploads import UploadResult, add_uploads, stage_uploads

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
log = logging.getLogger("ui")
# Questions (chat and API) share one queue; uploads have their own, and the indexing itself
# runs on the app's worker thread: a report being indexed never holds up a question.
_QUEUE = "rag"
_UPLOADS = "uploads"
_DOCUMENTS = "documents"
# How often the upload status is refreshed while a report is indexed, in seconds.
_POLL_SECONDS = 0.5
_GLOSS_POLL_SECONDS = 5.0

EXAMPLES = [
    "화웨이 어센드 910C 칩의 생산 수율은?",
    "중국의 생성형 AI 특허 출원 수는 몇 건인가?",
    "선전시의 AI 펀드 규모는?",
    "How much did DeepSeek spend to develop its V3 model?",
    "How many generative AI users did China have in February 2025?",
]

FONTS = ["Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Nanum Gothic", "Malgun Gothic",
         "Apple SD Gothic Neo", "sans-serif"]

CSS = """
.gradio-container { --rag-font: "Noto Sans CJK KR", "Noto Sans KR", "NanumGothic",
  "Nanum Gothic", "Malgun Gothic", "Apple SD Gothic Neo", sans-serif; }
.gradio-container, .gradio-container .prose { font-family: var(--rag-font); }
.answer, .question, .resolved, .note, #sources-panel, #sources-panel * {
  word-break: keep-all; overflow-wrap: anywhere; }
.panel-title { font-weight: 600; margin: 0; }
#app-header h1 { font-size: 1.35rem; margin: 0; }
#app-header .index-summary { color: var(--body-text-color-subdued); font-size: .85rem; }
#app-header .gloss-status { display: block; font-size: .8rem;
                            color: var(--body-text-color-subdued); }
#sources-col { position: sticky; top: 8px; align-self: flex-start; }
#sources-panel { max-height: calc(100vh - 40px); overflow-y: auto; padding-right: 4px; }
#sources-panel .placeholder { color: var(--body-text-color-subdued); font-size: .9rem; }
#sources-panel details.turn { margin-bottom: 6px; }
#sources-panel details.turn > summary { cursor: pointer; font-weight: 600; padding: 4px 0;
  line-height: 1.5; }
#sources-panel .turn-no { color: var(--color-accent); margin-right: 4px; }
#sources-panel .turn-heading { font-size: .8rem; color: var(--body-text-color-subdued);
  margin: 4px 0; text-transform: none; }
.source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin: 8px 0; background: var(--background-fill-primary);
  scroll-margin-top: 6px; transition: box-shadow .3s, border-color .3s; }
.source header { display: flex; gap: 6px; align-items: baseline; }
.source .label { font-weight: 700; color: var(--color-accent); white-space: nowrap; }
.source .title { font-weight: 600; line-height: 1.4; }
.source .section { color: var(--body-text-color-subdued); font-size: .82rem; margin-top: 2px; }
.source .position { color: var(--body-text-color-subdued); font-size: .78rem; margin-top: 2px; }
.source .position code { font-size: .74rem; }
.source .docbar { position: relative; height: 4px; background: var(--neutral-200);
  border-radius: 2px; margin: 4px 0 8px; }
.source .docbar span { position: absolute; top: 0; height: 100%; border-radius: 2px;
  background: var(--color-accent); }
.source .passage { white-space: pre-wrap; font-size: .9rem; line-height: 1.7; }
.source .notes { margin: .4rem 0 0; padding-left: 1.1rem; font-size: .8rem; color: #555; }
.source .page-view { margin-top: .4rem; font-size: .8rem; }
.source .page-view img { width: 100%; border: 1px solid #ddd; margin-top: .3rem; }
.upload-results { margin: .3rem 0; padding-left: 1rem; font-size: .85rem; }
.upload-results .upload-skipped { color: #a33; }
.upload-progress { font-size: .85rem; margin: .3rem 0; }
.upload-progress progress { width: 7rem; vertical-align: middle; }
.upload-failed { font-size: .85rem; color: #a33; margin: .3rem 0; }
table.library { width: 100%; font-size: .85rem; border-collapse: collapse; }
table.library th, table.library td { text-align: left; padding: 3px 6px;
  border-bottom: 1px solid var(--border-color-primary); }
table.library tr.state-file-missing td { color: #a33; }
.source mark.quote { background: #fde68a; color: inherit; padding: 1px 0; border-radius: 2px; }
.dark .source mark.quote { background: #92400e; }
.source.active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent); }
.answer { line-height: 1.7; }
.answer a.cite { font-weight: 700; text-decoration: none; color: var(--color-accent);
  cursor: pointer; padding: 0 1px; }
.answer a.cite:hover { text-decoration: underline; }
.answer.error { color: var(--error-text-color, #b91c1c); }
.answer .cursor { animation: blink 1s steps(2) infinite; margin-left: 1px; }
.answer .status { color: var(--body-text-color-subdued); font-size: .85em; margin-left: 6px; }
@keyframes blink { 50% { opacity: 0; } }
.resolved { font-size: .82rem; color: var(--body-text-color-subdued); margin-bottom: 4px; }
.note { font-size: .82rem; color: #b45309; margin-top: 4px; }
.draft { border-left: 3px solid #93c5fd; padding-left: 8px; margin-bottom: 8px; }
.draft-label { font-size: .75rem; color: var(--body-text-color-subdued); }
.meta { font-size: .75rem; color: var(--body-text-color-subdued); margin-top: 6px; }
.unsure { font-size: .82rem; color: #92400e; background: #fef3c7; border-radius: 6px;
  padding: 4px 8px; margin-bottom: 6px; }
.dark .unsure { color: #fde68a; background: #78350f; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 2px 0; }
.chip { font-size: .75rem; border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 1px 9px; color: var(--body-text-color-subdued); white-space: nowrap;
  max-width: 100%; overflow: hidden; text-overflow: ellipsis; }
.side-title { font-size: 1rem; font-weight: 600; margin: .2rem 0; }
#sources-panel details.others { margin-top: 6px; }
#sources-panel details.others > summary { cursor: pointer; font-size: .85rem;
  color: var(--body-text-color-subdued); }
.source a.back { display: none; font-size: .8rem; margin-top: 6px; }
.source a.fulldoc { white-space: nowrap; }
#doc-overlay { position: fixed; inset: 4vh 6vw; z-index: 1000; display: flex;
  flex-direction: column; background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); border-radius: 10px;
  box-shadow: 0 12px 40px rgba(0, 0, 0, .3); }
#doc-overlay[hidden] { display: none; }
#doc-overlay .doc-bar { display: flex; justify-content: space-between; align-items: center;
  gap: 8px; padding: 8px 12px; border-bottom: 1px solid var(--border-color-primary); }
#doc-overlay .doc-body { overflow-y: auto; padding: 10px 16px; flex: 1; }
#doc-overlay .doc-close { font-size: 1rem; cursor: pointer; border: 1px solid
  var(--border-color-primary); border-radius: 6px; background: none; padding: 2px 10px;
  color: inherit; }
.document-view header { position: sticky; top: -10px; background:
  var(--background-fill-primary); padding: 4px 0 6px; }
.document-view .doc-where { font-size: .8rem; color: var(--body-text-color-subdued); }
.document-view .doc-text { white-space: pre-wrap; line-height: 1.75; font-size: .92rem;
  word-break: keep-all; overflow-wrap: anywhere; }
.document-view .page-break { font-size: .75rem; color: var(--body-text-color-subdued);
  border-top: 1px dashed var(--border-color-primary); margin: 10px 0 4px; padding-top: 2px; }
.document-view .doc-heading { font-weight: 700; }
.document-view .in-passage { background: rgba(59, 130, 246, .10); }
.document-view #doc-passage { scroll-margin-top: 30vh; }
.document-view mark.quote { background: #fde68a; color: inherit; }
.dark .document-view mark.quote { background: #92400e; }
#phone-tabs { display: none; }
/* Phone width: chat and sources are two tabs; a marker opens the sources tab at its card,
   which leads back to the answer, and the chat is short enough for the question box to
   stay in view. */
@media (max-width: 820px) {
  #phone-tabs { display: flex; gap: 6px; position: sticky; top: 0; z-index: 20;
    background: var(--background-fill-primary); padding: 4px 0; }
  #phone-tabs button { flex: 1; padding: 6px 0; border-radius: 8px; font-weight: 600;
    border: 1px solid var(--border-color-primary); background: none; color: inherit; }
  #phone-tabs button.on { background: var(--color-accent); color: white;
    border-color: var(--color-accent); }
  #phone-tabs button .fresh { display: none; }
  #phone-tabs button.new .fresh { display: inline; color: var(--color-accent); }
  #sources-col:not(.tab-on) { display: none !important; }
  #chat-col.tab-off { display: none !important; }
  .source a.back { display: inline-block; }
  #chat { height: 52vh !important; min-height: 260px; }
  #sources-col { position: static; }
  #sources-panel { max-height: none; overflow-y: visible; }
  #doc-overlay { inset: 0; border-radius: 0; }
}
"""

# Clicking a marker [n] opens its turn's sources, scrolls its card into view and outlines it.
# The markers are plain #anchor links as well, so they work without this handler.
HEAD = """
<script>
(() => {
  function show(id) {
    const card = document.getElementById(id);
    if (!card) return false;
    for (let p = card.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    document.querySelectorAll(".source.active").forEach((e) => e.classList.remove("active"));
    card.classList.add("active");
    // Scroll the sources panel only, not the page (unless the panel is out of view).
    const panel = document.getElementById("sources-panel");
    if (panel && panel.contains(card)) {
      const top = card.getBoundingClientRect().top - panel.getBoundingClientRect().top;
      panel.scrollTo({top: panel.scrollTop + top - 6, behavior: "smooth"});
      const box = panel.getBoundingClientRect();
      if (box.bottom < 0 || box.top > window.innerHeight) panel.scrollIntoView({block: "nearest"});
    } else {
      card.scrollIntoView({behavior: "smooth", block: "start"});
    }
    return true;
  }
  const narrow = () => window.matchMedia("(max-width: 820px)").matches;
  // Phone width: chat and sources are tabs (classes on the two columns; gradio scopes
  // the page's CSS under its container, so not on <body>); a new answer marks the
  // sources tab until it is opened.
  let current = "chat";
  function tab(name) {
    current = name;
    const sources = document.getElementById("sources-col");
    const chat = document.getElementById("chat-col");
    if (sources) sources.classList.toggle("tab-on", name === "sources");
    if (chat) chat.classList.toggle("tab-off", name === "sources");
    document.querySelectorAll("#phone-tabs button").forEach((b) => {
      b.classList.toggle("on", b.dataset.tab === name);
      if (b.dataset.tab === name) b.classList.remove("new");
    });
  }
  let lastMarker = null;
  document.addEventListener("click", (event) => {
    if (!event.target.closest) return;
    const tabButton = event.target.closest("#phone-tabs button");
    if (tabButton) { tab(tabButton.dataset.tab); return; }
    const full = event.target.closest(".source a.fulldoc");
    if (full) { event.preventDefault(); openDocument(full.dataset); return; }
    const close = event.target.closest("#doc-overlay .doc-close");
    if (close) { closeDocument(); return; }
    const back = event.target.closest(".source a.back");
    if (back) {
      // Back to the marker that brought the card up (or to the chat's end).
      event.preventDefault();
      if (narrow()) tab("chat");
      const to = lastMarker && document.contains(lastMarker) ? lastMarker :
        document.getElementById("chat");
      if (to) setTimeout(() => to.scrollIntoView({behavior: "smooth", block: "center"}), 0);
      return;
    }
    const link = event.target.closest("a.cite");
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    lastMarker = link;
    if (narrow()) tab("sources");
    show(link.dataset.target || (link.getAttribute("href") || "").replace(/^#/, ""));
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeDocument();
  });
  // Only the sources panel is watched (not the page: the chat re-renders on every token).
  const watchSources = setInterval(() => {
    const panel = document.getElementById("sources-panel");
    if (!panel) return;
    clearInterval(watchSources);
    new MutationObserver(() => {
      if (current === "sources" || !narrow() || !panel.querySelector(".source")) return;
      const b = document.querySelector('#phone-tabs button[data-tab="sources"]');
      if (b) b.classList.add("new");
    }).observe(panel, {childList: true, subtree: true});
  }, 200);
  // A question sent brings the chat to its end and keeps it there while the answer is
  // written, until the reader scrolls: gradio's chatbot stops following for good once
  // the reader has scrolled up, even when the page scrolls it back down.
  let following = false;
  let chatScroller = null;
  function scroller() {
    if (chatScroller && document.contains(chatScroller)) return chatScroller;
    chatScroller = [...document.querySelectorAll("#chat *")].find((e) =>
      ["auto", "scroll"].includes(getComputedStyle(e).overflowY)) || null;
    return chatScroller;
  }
  function toEnd() {
    const box = following && scroller();
    if (box) box.scrollTop = box.scrollHeight;
  }
  window.ragFollowChat = () => { following = true; toEnd(); };
  const watchChat = setInterval(() => {
    const chat = document.getElementById("chat");
    if (!chat) return;
    clearInterval(watchChat);
    new MutationObserver(toEnd).observe(chat, {childList: true, subtree: true,
                                               characterData: true});
    const leave = () => { following = false; };
    chat.addEventListener("wheel", leave, {passive: true});
    chat.addEventListener("touchmove", leave, {passive: true});
    chat.addEventListener("keydown", (event) => {
      if (["PageUp", "ArrowUp", "Home"].includes(event.key)) leave();
    });
  }, 200);
  // The whole report, opened at a card's passage: fetched from the app's `document`
  // endpoint (gradio's call API), escaped by the server (rag/document_view.py).
  function overlay() {
    let box = document.getElementById("doc-overlay");
    if (box) return box;
    box = document.createElement("div");
    box.id = "doc-overlay";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.innerHTML = '<div class="doc-bar"><span class="doc-title">전체 문서 · full document' +
      '</span><button class="doc-close" type="button" title="close (Esc)">✕ 닫기 · close' +
      '</button></div><div class="doc-body"></div>';
    document.body.appendChild(box);
    return box;
  }
  function closeDocument() {
    const box = document.getElementById("doc-overlay");
    if (box) box.hidden = true;
  }
  async function openDocument(d) {
    const box = overlay();
    const body = box.querySelector(".doc-body");
    body.textContent = "불러오는 중 · loading…";
    box.hidden = false;
    const root = ((window.gradio_config && window.gradio_config.root) ||
                  window.location.href.split(/[?#]/)[0]).replace(/\\/$/, "");
    const num = (v) => (v === undefined || v === "" ? null : Number(v));
    try {
      const post = await fetch(root + "/gradio_api/call/document", {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({data: [d.doc, num(d.start), num(d.end), num(d.qs), num(d.qe)]})});
      const id = (await post.json()).event_id;
      const stream = await (await fetch(root + "/gradio_api/call/document/" + id)).text();
      const events = [...stream.matchAll(/event: (\\w+)\\ndata: (.*)/g)];
      const last = events[events.length - 1];
      if (!last || last[1] !== "complete") {
        const why = last && last[2] && last[2] !== "null" ? JSON.parse(last[2]) : "";
        throw new Error(typeof why === "string" ? why : (why.message || JSON.stringify(why)));
      }
      body.innerHTML = JSON.parse(last[2])[0];
      const at = document.getElementById("doc-passage");
      if (at) at.scrollIntoView({block: "start"});
    } catch (err) {
      body.textContent = "문서를 열 수 없습니다 · cannot open the report: " + err.message;
    }
  }
  // At phone width the options start closed: open, the sidebar covers the whole screen.
  let tries = 0;
  const closeSidebar = setInterval(() => {
    const side = document.querySelector(".sidebar");
    tries += 1;
    if (!narrow() || tries > 100) { clearInterval(closeSidebar); return; }
    if (!side) return;
    clearInterval(closeSidebar);
    if (side.classList.contains("open")) {
      const toggle = side.querySelector("button.toggle-button, .toggle-button");
      if (toggle) toggle.click();
    }
  }, 100);
})();
</script>
"""


def _refusal(exc: RagError) -> gr.Error:
    """A user error for an API caller: its one-line message, logged as one line. Gradio
    would print a full traceback for every refused request (a bad k, an unknown id)."""
    log.info("refused: %s", exc)
    return gr.Error(str(exc), print_exception=False)


class ReportApp:
    """What the UI's handlers share: the settings, the Retrievers on the newest index, the
    background worker that indexes uploads, and the LLM check.

    Each request takes its Retriever once (`retriever()`) and uses only that one, so its
    answer comes from one index even if an upload publishes a newer one meanwhile.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._retrievers: dict[bool, Retriever] = {True: Retriever(config)}
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self.worker = IndexWorker()
        # Uploads are embedded by a model of their own: a model shared with the questions
        # would make a question wait for a batch of passages (and tokenizers are not safe
        # to share between threads).
        self._upload_embedder: Embedder | None = None
        # Browser session → the flag its Stop button sets for the answer being written.
        self._stops: dict[str, threading.Event] = {}
        self.llm_ok, self.llm_reason = llm_available(config)
        # New words are glossed for English questions after the index is served, never
        # before: the lexicon grows while questions are answered.
        self.glossing = BackgroundGlossing(config)

    def retriever(self, robust: bool = True) -> Retriever:
        """The Retriever on the newest index for the language-robust setting.

        A newer index generation on disk (published by an upload or by `rag index` in
        another process) is loaded first; all Retrievers share the loaded model.
        """
        robust = bool(robust)
        self._newest()
        with self._lock:
            base = self._retrievers[True]
            if robust not in self._retrievers:
                # Same index and model, other settings: nothing is loaded twice.
                self._retrievers[robust] = base.sharing(robust_config(self.config, robust),
                                                        index=base.index)
            return self._retrievers[robust]

    @property
    def base(self) -> Retriever:
        """The Retriever on the newest index with the configured settings."""
        return self.retriever(True)

    def _newest(self) -> None:
        """Swap in a Retriever on the newest index generation on disk, if there is one."""
        with self._lock:
            base = self._retrievers[True]
        if not newer_index(self.config, base.index):
            return
        with self._loading:  # one load at a time; the others keep answering from `base`
            with self._lock:
                if self._retrievers[True] is not base:
                    return
            fresh = base.sharing()
            try:
                fresh.index  # noqa: B018  (load and verify it before anyone uses it)
            except RagError as exc:
                log.warning("still answering from %s: the newer index cannot be loaded (%s)",
                            base.index.generation, exc)
                return
            with self._lock:
                self._retrievers = {True: fresh}
            log.info("now answering from the index %s", fresh.index.generation)

    def warm_up(self) -> None:
        """Load the index and the model now, not on the first question."""
        self.base.embed_query("인공지능")

    def documents(self) -> list[tuple[str, str, int]]:
        """(doc id, title, length) of every indexed report."""
        return [(d.doc_id, d.title, len(d.text)) for d in self.base.index.documents.values()]

    def page_previews(self, citations: Any, index: Index) -> dict[int, str]:
        """Marker → the cited PDF page as a picture (data URI) with the sentence marked."""
        previews: dict[int, str] = {}
        for c in citations:
            doc = index.documents.get(c.doc_id)
            if doc is None or doc.format != "pdf" or c.page is None:
                continue
            quote = c.text if c.quote_start is None else \
                c.text[c.quote_start - c.start:c.quote_end - c.start]
            try:
                image = page_jpeg(Path(doc.source), c.page, quote)
            except CorpusError as exc:
                log.warning("no page view for [%d]: %s", c.marker, exc)
                continue
            previews[c.marker] = "data:image/jpeg;base64," + base64.b64encode(image).decode()
        return previews

    def titles(self, doc_ids: list[str] | None, index: Index | None = None) -> list[str]:
        """The titles of the reports `doc_ids` in `index` (default: the newest), their ids
        where untitled or unknown."""
        documents = (index or self.base.index).documents
        return [(documents[d].title if d in documents else "") or d for d in doc_ids or ()]

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(f"{title} ({doc_id})", doc_id) for doc_id, title, _ in self.documents()]

    def header(self) -> str:
        index = self.base.index
        docs = [(d.doc_id, d.title, len(d.text)) for d in index.documents.values()]
        return ('<div id="app-header"><h1>한국어 보고서 Q&amp;A · Korean report Q&amp;A</h1>'
                f'{render.index_summary(docs, len(index.chunks))}'
                f'{render.gloss_status(self.glossing.status())}</div>')

    # --- the API: the same JSON as the CLI -------------------------------------------

    def ask(self, question: str, mode: str = "extractive", k: int | None = None,
            doc_ids: list[str] | None = None) -> dict[str, Any]:
        """Answer a question from the reports with citations (as `rag ask --json`)."""
        try:
            answer = None
            for event in stream_answer(self.base, question, mode, k, doc_ids):
                if isinstance(event, Done):
                    answer = event.answer
            assert answer is not None
            return answer.to_dict()
        except RagError as exc:
            raise _refusal(exc) from exc

    def search(self, question: str, k: int | None = None, mode: str = "hybrid",
               doc_ids: list[str] | None = None) -> dict[str, Any]:
        """The passages for a question (as `rag search --json`)."""
        try:
            return self.base.search(question, k=k, mode=mode, doc_ids=doc_ids).to_dict()
        except RagError as exc:
            raise _refusal(exc) from exc

    def document(self, doc_id: str, start: int, end: int, quote_start: int | None = None,
                 quote_end: int | None = None) -> str:
        """The whole report `doc_id` as HTML, opened at the passage [start, end) with its
        cited sentence marked (the sources' "full document" link)."""
        document = self.base.index.documents.get(str(doc_id))
        if document is None:
            raise _refusal(CorpusError(
                f"보고서 {doc_id}가 색인에 없습니다 · no indexed report {doc_id!r}: it was "
                "removed or re-indexed since; ask again to get its current passages"))
        return document_html(document, int(start), int(end),
                             None if quote_start is None else int(quote_start),
                             None if quote_end is None else int(quote_end))

    # --- the chat ----------------------------------------------------------------------

    def stop(self, request: gr.Request | None = None) -> None:
        """Stop the answer this browser session is being written (respond ends it at its
        next event, keeping what is shown)."""
        with self._lock:
            flag = self._stops.get(_session(request))
        if flag is not None:
            flag.set()

    def respond(self, message: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]],
                mode: str, k: float, doc_ids: list[str] | None, robust: bool,
                request: gr.Request | None = None):
        """Stream one chat turn: (chat, sources panel, turns) after each event.

        Stop (`stop`) is a flag read between events, not a cancelled task: the turn then
        ends here, marked stopped and recorded, and no late event can overwrite it."""
        stopping = threading.Event()
        with self._lock:
            self._stops[_session(request)] = stopping
        message = (message or "").strip()
        chat, turns = list(chat or []), list(turns or [])
        if not message:
            gr.Warning("질문을 입력하세요 · Type a question first.")
            yield list(chat), _panel(turns), turns
            return
        number = turns[-1]["turn"] + 1 if turns else 1
        previous = next((t["resolved"] for t in reversed(turns) if t["ok"]), None)
        # One Retriever, one index, for the whole turn.
        retriever = self.retriever(robust)
        index = retriever.index
        # The question read once: a follow-up made standalone (the corpus's own
        # 한글(English) pairs write a name asked about in the other language in the
        # previous question's), the report it names, its kind of answer. A question that
        # cannot be read fails below, in the answer's place, like any other error.
        try:
            query: Query | None = retriever.read(message, doc_ids or None, previous)
        except QueryError:
            query = None
        said = (query.asked, query.text) if query else (message, message)
        question = said[1]
        reports = self.titles(doc_ids, index)
        lengths = {d.doc_id: len(d.text) for d in index.documents.values()}
        chat.append({"role": "user", "content": render.user_html(message)})
        chat.append(_assistant(self._message(
            render.streaming_html("", "근거를 찾는 중 · searching…"), said)))
        pending = {"turn": number, "question": question, "resolved": question, "ok": False,
                   "asked": message, "answer": None,
                   "html": render.turn_sources(number, question, None, lengths)}
        yield list(chat), _panel([*turns, pending]), turns
        started = time.perf_counter()
        text = draft = ""
        hits: list[dict[str, Any]] = []
        events = stream_answer(retriever, query or message, mode, int(k), doc_ids or None)
        try:
            for event in events:
                if stopping.is_set():
                    events.close()  # the model stops generating
                    last = str(chat[-1]["content"])
                    chat[-1] = _assistant(
                        last.replace('<span class="cursor">▍</span>', "")
                        .replace("answer streaming", "answer stopped")
                        + '<div class="note">⏹ 중지됨 · stopped</div>')
                    pending["html"] = render.turn_sources(number, question, None, lengths, hits)
                    turns = [*turns, pending]
                    yield list(chat), _panel(turns), turns
                    return
                if isinstance(event, Retrieved):
                    hits = [h.to_dict() for h in event.hits]
                    if mode != "llm":
                        # The quoted answer follows in milliseconds: one more render of
                        # chat and panel would only delay it (the browser's first cited
                        # text: 346 ms p50 with it).
                        continue
                    pending["html"] = render.turn_sources(number, question, None, lengths, hits)
                    chat[-1] = _assistant(self._message(
                        render.streaming_html("", "답변 작성 중 · writing…"), said))
                    yield list(chat), _panel([*turns, pending]), turns
                elif isinstance(event, Draft):
                    # Cited text at once; the model's answer streams in below it.
                    cited = event.answer.to_dict()
                    draft = _unsure(cited) + render.answer_html(
                        event.answer.answer, [c.marker for c in event.answer.citations],
                        number, render.quotes_of(cited["citations"]))
                    chat[-1] = _assistant(self._message(render.draft_html(draft, ""),
                                                        said))
                    pending["html"] = render.turn_sources(number, question, cited, lengths,
                                                          hits)
                    yield list(chat), _panel([*turns, pending]), turns
                elif isinstance(event, Token) and mode == "llm":
                    text += event.text
                    live = (render.draft_html(draft, text) if draft
                            else render.streaming_html(text))
                    chat[-1] = _assistant(self._message(live, said))
                    yield list(chat), _panel([*turns, pending]), turns
                elif isinstance(event, Done):
                    answer = event.answer
                    data = answer.to_dict()
                    body = _unsure(data) + render.answer_html(
                        answer.answer, [c.marker for c in answer.citations], number,
                        render.quotes_of(data["citations"]))
                    notes = list(answer.flags)
                    if answer.abstained and reports:
                        notes.append(render.filter_note(reports))
                    if answer.draft is not None and answer.final != "llm":
                        notes.insert(0, "LLM 답변이 근거 확인을 통과하지 못해 인용 답변을 "
                                        "유지합니다 · the LLM's answer failed its checks, so "
                                        "the quoted answer stays.")
                    if answer.abstained and answer.closest:
                        notes.append("가장 가까운 구절을 출처 패널에 표시했습니다 · "
                                     "the closest passages are shown under sources.")
                    meta = render.answer_meta(answer.mode, len(answer.citations),
                                              time.perf_counter() - started,
                                              answer.confidence)
                    chat[-1] = _assistant(self._message(body, said, notes, meta))
                    pending.update(ok=True, answer=_kept(data), html=render.turn_sources(
                        number, question, data, lengths, hits,
                        previews=self.page_previews(answer.citations, index)))
                    turns = [*turns, pending]
                    yield list(chat), _panel(turns), turns
        except RagError as exc:
            gr.Warning(render.escape(bilingual(exc)))
            if draft:
                # The quoted answer was already there: it stays, the model's failure noted.
                note = f"LLM 답변 실패 · the LLM failed: {exc}; the quoted answer stays."
                chat[-1] = _assistant(self._message(draft, said, [note]))
                pending["ok"] = True
            else:
                chat[-1] = _assistant(render.error_html(bilingual(exc)))
                pending["html"] = render.turn_sources(number, question, None, lengths, hits)
            # Recorded either way: each question of the chat is a turn (Regenerate, Stop).
            turns = [*turns, pending]
            yield list(chat), _panel(turns), turns

    @staticmethod
    def _message(body: str, said: tuple[str, str], notes: list[str] | None = None,
                 meta: str = "") -> str:
        """A chat message under the question as typed and as searched (↪ if rewritten)."""
        return render.message_html(body, said[0], said[1], notes or (), meta)

    # --- adding reports, in the background ---------------------------------------------

    def start_upload(self, paths: list[str] | None) -> JobStatus:
        """Take the uploaded files and index them on the worker; questions go on meanwhile.

        The files leave the web server's upload folder at once (nothing stays
        downloadable there); the worker checks each, adds the readable ones, and loads
        the new index for the next question. IndexLockedError while an upload runs.
        """
        self.worker.check_idle()
        staging = Path(tempfile.mkdtemp(prefix="rag-upload-"))
        files = stage_uploads(paths or [], staging)
        indexed = self.base.index.documents

        def job(watch: Watch) -> list[UploadResult]:
            try:
                results, report = add_uploads(self.config, files, indexed,
                                              self._embedder_for_uploads(), watch)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            if report is not None:
                self._newest()  # load the new index now, not on the next question
                self.glossing.start()  # the new reports' words, in the background
                log.info("added %d report(s) in %.1f s",
                         sum(r.status == "indexed" for r in results), report.seconds)
            return results

        try:
            return self.worker.start(job, f"indexing {len(files)} uploaded file(s)")
        except RagError:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def library(self) -> str:
        """The report library table of the newest index."""
        return render.library_table(library_rows(self.base.index))

    def start_removal(self, doc_ids: list[str] | None) -> JobStatus:
        """Take the reports `doc_ids` out of corpus and index on the worker (their files
        are kept aside, rag.library); questions go on from the old index meanwhile."""
        self.worker.check_idle()
        indexed = self.base.index.documents
        chosen = list(doc_ids or [])
        if not chosen:
            raise CorpusError("고를 보고서가 없습니다 · pick the reports to remove first")

        def job(watch: Watch) -> str:
            kept, _ = remove_reports(self.config, chosen, indexed,
                                     self._embedder_for_uploads(), watch)
            self._newest()
            return (f"{len(chosen)}개 제거 · removed {', '.join(chosen)}; the files are kept "
                    f"in {kept[0].parent if kept else 'no file: it was gone already'}")

        return self.worker.start(job, f"removing {len(chosen)} report(s)")

    def start_reindex(self) -> JobStatus:
        """Bring the index up to date with the corpus folder (reports added, changed or
        removed there by hand or by another process) on the worker."""
        self.worker.check_idle()

        def job(watch: Watch) -> str:
            report = build_index(self.config, embedder=self._embedder_for_uploads(),
                                 watch=watch)
            self._newest()
            if report.up_to_date:
                return f"색인 최신 · up to date: {len(report.unchanged)} reports"
            return (f"다시 색인 · re-indexed: {report.chunks:,} passages, "
                    f"{report.embedded_chunks:,} embedded anew, {report.seconds:.1f} s")

        return self.worker.start(job, "re-indexing the corpus folder")

    def add_reports(self, paths: list[str] | None) -> list[UploadResult]:
        """`start_upload`, then wait for its results."""
        self.start_upload(paths)
        status = self.worker.wait()
        if status.state != DONE:
            raise RagError(status.message)
        return list(status.result)

    def _embedder_for_uploads(self) -> Embedder:
        if self._upload_embedder is None:
            self._upload_embedder = load_embedder(self.config)
        return self._upload_embedder


def robust_config(config: Config, robust: bool) -> Config:
    """The settings with language-robust retrieval on (as configured) or off.

    Off means English questions are searched as typed: no glossary expansion, no lexicon,
    BM25 at full weight, and no LLM translation.
    """
    if robust:
        return config
    return config.replace(glossary=False, english_bm25_weight=1.0, translate="off",
                          lexicon="off")


def _while_running(worker: IndexWorker, status: JobStatus) -> Iterator[JobStatus]:
    """`status`, then the worker's status every _POLL_SECONDS while its job runs; the last
    one yielded is the finished job's."""
    yield status
    while status.running:
        time.sleep(_POLL_SECONDS)
        status = worker.status()
        yield status


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or ""


def _unsure(answer: dict[str, Any]) -> str:
    return render.unsure_html(answer["unsure"]) if answer.get("unsure") else ""


def _kept(answer: dict[str, Any]) -> dict[str, Any]:
    """What a turn keeps of its answer (for export and across a reload): no search
    diagnostics, no timings, no draft."""
    return {k: answer[k] for k in ("question", "answer", "final", "abstained", "confidence",
                                   "unsure", "mode", "language", "citations", "closest",
                                   "flags")}


def _assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def _panel(turns: list[dict[str, Any]]) -> str:
    return render.sources_panel([(t["turn"], t["question"], t["html"]) for t in turns])


def build_ui(app: ReportApp) -> gr.Blocks:
    """The page: chat and controls on the left, the sources panel on the right."""
    llm_hint = ("로컬 LLM 사용 가능 · local LLM ready: " + app.llm_reason if app.llm_ok else
                "로컬 LLM 없음 · local LLM unavailable — " + app.llm_reason)
    with gr.Blocks(title="Korean report Q&A", analytics_enabled=False, fill_width=True) as demo:
        turns = gr.State([])
        asked = gr.State("")
        # The conversation kept in the browser's storage: it survives a reload.
        saved = gr.BrowserState({"chat": [], "turns": []}, storage_key="rag-conversation")
        with gr.Sidebar(open=True, width=290, elem_id="controls"):
            gr.HTML('<h4 class="side-title">설정 · Options</h4>')
            mode = gr.Radio([("추출 · extractive", "extractive"), ("로컬 LLM · local LLM", "llm")],
                            value="extractive", label="답변 방식 · answer mode",
                            interactive=app.llm_ok, info=llm_hint, elem_id="mode")
            k = gr.Slider(1, 10, value=app.config.answer_passages, step=1,
                          label="읽을 구절 수 · passages read", elem_id="k")
            docs = gr.Dropdown(app.doc_choices(), value=[], multiselect=True,
                               label="보고서 필터 · only these reports",
                               info="비우면 전체 · empty: all reports", elem_id="docs")
            robust = gr.Checkbox(True, label="언어 보정 검색 · language-robust retrieval",
                                 info="영어 질문: 용어집·어휘집·번역 · English questions: "
                                      "glossary, lexicon, translation", elem_id="robust")
            gr.HTML('<h4 class="side-title">보고서 추가 · Add reports</h4>')
            upload = gr.File(label="PDF · HWP · HWPX · DOCX · HTML · TXT · MD",
                             file_types=list(SUFFIXES), file_count="multiple",
                             elem_id="upload")
            # HTML, not Markdown: a title or file name holding Markdown ("![](http://…)")
            # must show as text, never fetch or link anything.
            upload_status = gr.HTML(elem_id="upload-status")
            cancel = gr.Button("색인 취소 · cancel indexing", size="sm", visible=False,
                               elem_id="cancel-upload")
        header = gr.HTML(app.header())
        # The header says how far background glossing is.
        gr.Timer(_GLOSS_POLL_SECONDS).tick(app.header, None, header, queue=False,
                                           api_visibility="private")
        gr.HTML('<div id="phone-tabs" role="tablist"><button type="button" data-tab="chat" '
                'class="on">대화 · Chat</button><button type="button" data-tab="sources">'
                '출처 · Sources <span class="fresh">●</span></button></div>')
        with gr.Row(equal_height=False):
            with gr.Column(scale=6, min_width=400, elem_id="chat-col"):
                chat = gr.Chatbot(elem_id="chat", height=560, show_label=False,
                                  latex_delimiters=[], feedback_options=None, buttons=["copy"],
                                  placeholder="보고서에 대해 질문하세요 · Ask about the reports",
                                  group_consecutive_messages=False)
                with gr.Row(equal_height=True):
                    box = gr.Textbox(elem_id="question", show_label=False, scale=8,
                                     placeholder="질문을 입력하세요 · Ask in Korean or English",
                                     max_lines=4, autofocus=True, container=False)
                    send = gr.Button("묻기", variant="primary", scale=1, min_width=70,
                                     elem_id="ask")
                    stop = gr.Button(_STOP, variant="stop", scale=1, min_width=70,
                                     visible=False, elem_id="stop")
                chips = gr.HTML(render.settings_chips("extractive", app.config.answer_passages,
                                                      [], True), elem_id="chips")
                with gr.Row(equal_height=True):
                    regenerate = gr.Button("↻ 다시 답하기 · Regenerate", size="sm",
                                           visible=False, elem_id="regenerate")
                    export = gr.DownloadButton("⤓ Markdown으로 내보내기 · export", size="sm",
                                               visible=False, elem_id="export")
                    clear = gr.Button("새 대화 · New conversation", size="sm",
                                      elem_id="new-chat")
                examples = gr.Examples(EXAMPLES, inputs=[box], label="예시 질문 · examples",
                                       api_visibility="private")
            with gr.Column(scale=5, min_width=340, elem_id="sources-col"):
                gr.HTML('<p class="panel-title">출처 · Sources</p>')
                sources = gr.HTML(render.sources_panel([]), elem_id="sources-panel")
        with gr.Accordion("보고서 목록 · Report library", open=False, elem_id="library"):
            library = gr.HTML(app.library(), elem_id="library-table")
            with gr.Row(equal_height=True):
                chosen = gr.Dropdown(app.doc_choices(), value=[], multiselect=True, scale=4,
                                     label="고른 보고서 · reports to remove",
                                     elem_id="library-pick")
                remove = gr.Button("제거 · Remove", variant="stop", size="sm", scale=1,
                                   elem_id="library-remove")
                reindex = gr.Button("다시 색인 · Re-index folder", size="sm", scale=1,
                                    elem_id="library-reindex")
            library_status = gr.HTML(elem_id="library-status")

        def busy():
            # While an answer is written the box and 묻기 wait (a question sent now would be
            # lost); Stop is there instead.
            return (gr.update(interactive=False), gr.update(visible=False),
                    gr.update(visible=True, value=_STOP, interactive=True),
                    gr.update(visible=False))

        def idle(turns_now: list[dict[str, Any]]):
            return (gr.update(interactive=True), gr.update(visible=True),
                    gr.update(visible=False), gr.update(visible=bool(turns_now)),
                    _export(turns_now))

        controls = [box, send, stop, regenerate]
        inputs = [asked, chat, turns, mode, k, docs, robust]
        outputs = [chat, sources, turns]
        answering = []
        # The box empties at once; the question travels on in `asked`.
        for trigger in (box.submit, send.click, examples.load_input_event.then):
            answering.append(trigger(
                _take_question, box, [box, asked, send, stop, regenerate], queue=False,
                api_visibility="private", js=_SCROLL_TO_NEWEST).then(
                app.respond, inputs, outputs, api_visibility="private",
                concurrency_id=_QUEUE))
        regenerated = regenerate.click(
            _drop_last, [chat, turns], [asked, chat, turns, sources], queue=False,
            api_visibility="private", js=_SCROLL_TO_NEWEST).then(
            busy, None, controls, queue=False).then(
            app.respond, inputs, outputs, api_visibility="private", concurrency_id=_QUEUE)
        answering.append(regenerated)
        for event in answering:
            event.then(idle, turns, [*controls, export], queue=False,
                       api_visibility="private").then(
                _save, [chat, turns], saved, queue=False, api_visibility="private")
        stop.click(app.stop, None, None, queue=False, api_visibility="private").then(
            lambda: gr.update(value="중지하는 중 · stopping…", interactive=False), None, stop,
            queue=False, api_visibility="private")

        # One way to start over, whichever button: chat, sources, follow-up context and the
        # kept copy all go.
        def new_conversation():
            return ([], [], render.sources_panel([]), {"chat": [], "turns": []},
                    gr.update(visible=False), gr.update(visible=False, value=None))

        for trigger in (clear.click, chat.clear):
            trigger(new_conversation, None, [chat, turns, sources, saved, regenerate, export],
                    queue=False, api_visibility="private")

        def restore(kept: dict[str, Any] | None):
            kept = kept or {}
            chat_kept, turns_kept = list(kept.get("chat") or []), list(kept.get("turns") or [])
            return (chat_kept, turns_kept, _panel(turns_kept),
                    gr.update(visible=bool(turns_kept)), _export(turns_kept))

        demo.load(restore, saved, [chat, turns, sources, regenerate, export], queue=False,
                  api_visibility="private")
        for control in (mode, k, docs, robust):
            control.change(lambda m, n, d, r: render.settings_chips(
                m, int(n), app.titles(d), r), [mode, k, docs, robust], chips, queue=False,
                api_visibility="private")

        def on_upload(paths: list[str] | None):
            # Every yield: status, report filter, header, file box, cancel button, library
            # table, library picker.
            try:
                started = app.start_upload(paths)
            except RagError as exc:
                gr.Warning(render.escape(bilingual(exc)))
                yield (render.upload_status(bilingual(exc)), gr.update(), gr.update(), None,
                       gr.update(), gr.update(), gr.update())
                return
            for status in _while_running(app.worker, started):
                if status.running:
                    yield (render.upload_progress(status), gr.update(), gr.update(), None,
                           gr.update(visible=True), gr.update(), gr.update())
            if status.state != DONE:
                gr.Warning(render.escape(status.message))
                yield (render.upload_status(status.message), gr.update(), gr.update(), None,
                       gr.update(visible=False), gr.update(), gr.update())
                return
            results = status.result
            added = sum(r.status == "indexed" for r in results)
            message = (f"{len(results)}개 중 {added}개 추가 · {added} of {len(results)} "
                       "file(s) added")
            (gr.Info if added == len(results) else gr.Warning)(message)
            yield (render.upload_results(results), gr.update(choices=app.doc_choices()),
                   app.header(), None, gr.update(visible=False), app.library(),
                   gr.update(choices=app.doc_choices()))

        def on_cancel() -> None:
            if app.worker.cancel():
                gr.Info("색인을 취소하는 중 · cancelling: the index stays as it was")

        def follow(start):
            """Run a library job on the worker; every yield: status, table, both report
            pickers, header."""
            def run(*args):
                try:
                    started = start(*args)
                except RagError as exc:
                    gr.Warning(render.escape(bilingual(exc)))
                    yield (render.upload_status(bilingual(exc)), gr.update(), gr.update(),
                           gr.update(), gr.update())
                    return
                for status in _while_running(app.worker, started):
                    if status.running:
                        yield (render.upload_progress(status), gr.update(), gr.update(),
                               gr.update(), gr.update())
                if status.state != DONE:
                    gr.Warning(render.escape(status.message))
                    line = render.upload_status(status.message)
                else:
                    gr.Info(render.escape(status.result))
                    line = f'<p class="upload-progress">✓ {render.escape(status.result)}</p>'
                choices = app.doc_choices()
                yield (line, app.library(), gr.update(choices=choices, value=[]),
                       gr.update(choices=choices), app.header())
            return run

        library_outputs = [library_status, library, chosen, docs, header]
        remove.click(follow(app.start_removal), chosen, library_outputs,
                     api_visibility="private", concurrency_id=_UPLOADS)
        reindex.click(follow(app.start_reindex), None, library_outputs,
                      api_visibility="private", concurrency_id=_UPLOADS)
        upload.upload(on_upload, upload, [upload_status, docs, header, upload, cancel,
                                          library, chosen],
                      api_visibility="private", concurrency_id=_UPLOADS)
        cancel.click(on_cancel, None, None, queue=False, api_visibility="private")
        gr.api(app.ask, api_name="ask", concurrency_id=_QUEUE)
        gr.api(app.search, api_name="search", concurrency_id=_QUEUE)
        # The sources' "full document" view (fetched by the page script, not for clients):
        # its own queue, so a report opens while an answer is being written.
        gr.api(app.document, api_name="document", concurrency_id=_DOCUMENTS,
               concurrency_limit=2, api_visibility="undocumented")
    return demo


# A question sent makes the chat follow its answer (the page script's ragFollowChat): the
# new answer lands in view even when the reader had scrolled up.
_SCROLL_TO_NEWEST = """(...args) => {
  if (window.ragFollowChat) window.ragFollowChat();
  return args.length === 1 ? args[0] : args; }"""


_STOP = "중지 · Stop"


def _take_question(question: str):
    """The box empties and waits; the question travels on in `asked`."""
    if not (question or "").strip():
        return "", question, gr.update(), gr.update(), gr.update()
    return (gr.update(value="", interactive=False), question, gr.update(visible=False),
            gr.update(visible=True, value=_STOP, interactive=True), gr.update(visible=False))


def _drop_last(chat: list[dict[str, Any]], turns: list[dict[str, Any]]):
    """Regenerate: the last turn leaves chat and sources, its question is asked again."""
    turns = list(turns or [])
    if not turns:
        return "", chat, turns, _panel(turns)
    last = turns.pop()
    return last.get("asked") or last["question"], list(chat or [])[:-2], turns, _panel(turns)


def _save(chat: list[dict[str, Any]], turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The conversation as the browser keeps it: page pictures stay out (they are large
    and remade from the report)."""
    kept = [{**t, "html": _PAGE_VIEW.sub("", t["html"])} for t in turns or []]
    return {"chat": list(chat or []), "turns": kept}


_PAGE_VIEW = re.compile(r'<details class="page-view">.*?</details>', re.DOTALL)


def _export(turns: list[dict[str, Any]]):
    """The download button with the conversation as a Markdown file, or hidden."""
    answered = [t for t in turns or [] if t.get("answer")]
    if not answered:
        return gr.update(visible=False, value=None)
    folder = Path(tempfile.gettempdir()) / "rag-exports"
    folder.mkdir(exist_ok=True)
    path = folder / f"conversation-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(render.conversation_markdown(answered), encoding="utf-8")
    return gr.update(visible=True, value=str(path))


def prepare_index(config: Config) -> None:
    """Build or update the index before serving, with a progress bar on the console."""
    print(f"rag: checking the index {where(config)} against {config.corpus_dir} …",
          file=sys.stderr)
    report = build_index(config, progress=True)
    if report.up_to_date:
        print(f"rag: index up to date: {len(report.unchanged)} reports, {report.chunks} "
              "passages", file=sys.stderr)
    else:
        print(f"rag: indexed {report.chunks} passages ({report.embedded_chunks} embedded) in "
              f"{report.seconds:.1f} s", file=sys.stderr)


def serve(config: Config, host: str | None = None, port: int | None = None,
          share: bool = False, block: bool = True) -> tuple[gr.Blocks, str]:
    """Index if needed, load the model, and serve the app; returns (app, local URL)."""
    prepare_index(config)
    app = ReportApp(config)
    app.warm_up()
    app.glossing.start()
    return launch(app, host, port, share, block)


def launch(app: ReportApp, host: str | None = None, port: int | None = None,
           share: bool = False, block: bool = True) -> tuple[gr.Blocks, str]:
    """Serve `app` (its index ready); returns (the Blocks, local URL)."""
    host = host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    port = int(port or os.environ.get("GRADIO_SERVER_PORT") or DEFAULT_PORT)
    demo = build_ui(app)
    demo.queue(default_concurrency_limit=1)
    theme = gr.themes.Default(primary_hue="amber", secondary_hue="slate", neutral_hue="slate",
                              font=FONTS)
    _, url, _ = demo.launch(server_name=host, server_port=port, share=share,
                            prevent_thread_lock=not block, theme=theme, css=CSS, head=HEAD,
                            ssr_mode=False, footer_links=["api"], show_error=True,
                            max_file_size=app.config.max_upload_mb * 1024 * 1024,
                            quiet=not block)
    return demo, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ui.py", description="Serve the chat UI over the reports (default "
                                  f"http://{DEFAULT_HOST}:{DEFAULT_PORT}).")
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(index_dir=args.index, corpus_dir=args.corpus, model=args.model)
        serve(config, args.host, args.port, args.share)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 1
    return 0


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The serving flags, shared by `python ui.py` and `rag serve`."""
    parser.add_argument("--host", help=f"address to listen on (default: $GRADIO_SERVER_NAME "
                                       f"or {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"port (default: $GRADIO_SERVER_PORT or "
                                                 f"{DEFAULT_PORT})")
    parser.add_argument("--share", action="store_true",
                        help="also open a public gradio.live link (off by default)")
    if not any("--corpus" in a.option_strings for a in parser._actions):
        parser.add_argument("--corpus", type=Path, help="folder of reports (default: corpus)")
    if not any("--index" in a.option_strings for a in parser._actions):
        parser.add_argument("--index", type=Path, help="index folder (default: index)")
    if not any("--model" in a.option_strings for a in parser._actions):
        parser.add_argument("--model", help="embedding model (default: the rebuilt e5-small)")


if __name__ == "__main__":
    sys.exit(main())
