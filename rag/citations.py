"""Checking a generated answer's citations against the passages it was given.

Small models misnumber citations ([3] where [2] was meant) and now and then state a figure
no passage holds. Each sentence's claim is compared with every passage: by meaning (the
embedding model, which reads Korean and English alike), by shared terms, by its figures
and, in Korean, by its names. A marker stays only where its passage supports the sentence;
otherwise it moves to the passage that does, or goes, and the sentence is flagged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from . import quantities
from .answer import Citation, hit_passages, make_citation
from .bm25 import tokenize_korean_many
from .language import detect_language
from .markers import MARKER
from .names import Places, missing_names, names_of
from .references import in_references
from .retrieval import Hit, Retriever

_MARKERS = re.compile(r"\s*" + MARKER.pattern)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|(?<=\])\s+(?=\S)|\n+")
# How far below the best passage a cited passage may score and still count as support.
_MARGIN = 0.03
_MIN_COSINE = 0.78


@dataclass(frozen=True)
class CheckedAnswer:
    text: str
    citations: tuple[Citation, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class _Support:
    score: float
    figures_ok: bool
    names_ok: bool = True
    # Subtracted when passages compete, not from the score an answer needs on its own.
    penalty: float = 0.0

    @property
    def ranked(self) -> float:
        return self.score - self.penalty


def check_citations(retriever: Retriever, raw: str, hits: tuple[Hit, ...] | list[Hit]
                    ) -> CheckedAnswer:
    """The answer with every marker pointing at a passage that supports its sentence."""
    sentences = answer_sentences(raw)
    claims = [_MARKERS.sub("", s).strip() for s in sentences]
    keep = [i for i, c in enumerate(claims) if c]
    if not keep or not hits:
        return CheckedAnswer("", (), ("empty answer",))
    support = _support(retriever, [claims[i] for i in keep], list(hits))
    flags: list[str] = []
    numbered: dict[int, int] = {}
    quotes: dict[int, str] = {}
    out = []
    for row, i in enumerate(keep):
        claim, cited = claims[i], _cited(sentences[i], len(hits))
        if len(cited) < len(_numbers(sentences[i])):
            flags.append(f"dropped a marker that names no passage: {claim[:60]}")
        scores = support[row]
        best = max(range(len(hits)), key=lambda j: (scores[j].ranked, -j))
        good = [j for j in cited if _supports(scores[j], scores[best].ranked)]
        if not good and _supports(scores[best], scores[best].ranked):
            if cited:
                flags.append(f"moved citation [{', '.join(str(j + 1) for j in cited)}] to "
                             f"[{best + 1}]: {claim[:60]}")
            good = [best]
        elif not good:
            what = "removed citation" if cited or _MARKERS.search(sentences[i]) else "uncited"
            flags.append(f"{what}: no passage supports \u201c{claim[:60]}\u201d")
        if quantities.figures(claim) and not any(scores[j].figures_ok for j in good):
            flags.append(f"figure not found in the cited passages: {claim[:60]}")
        markers = []
        for j in good:
            if j not in numbered:
                numbered[j] = len(numbered) + 1
                quotes[j] = claim
            markers.append(numbered[j])
        out.append(claim + "".join(f" [{m}]" for m in markers))
    citations = tuple(
        _citation(retriever, marker, hits[j], quotes[j])
        for j, marker in sorted(numbered.items(), key=lambda item: item[1])
    )
    return CheckedAnswer(" ".join(out), citations, tuple(flags))


def answer_sentences(raw: str) -> list[str]:
    """A generated answer's sentences: split after an end mark, a marker or a line break."""
    return [s.strip() for s in _SENTENCE.split(raw.strip()) if s.strip()]


def _numbers(sentence: str) -> set[int]:
    return {int(n) for group in _MARKERS.findall(sentence) for n in group.split(",")}


def _cited(sentence: str, n: int) -> list[int]:
    found: list[int] = []
    for group in _MARKERS.findall(sentence):
        for number in group.split(","):
            j = int(number) - 1
            if 0 <= j < n and j not in found:
                found.append(j)
    return found


def _supports(s: _Support, best: float) -> bool:
    return (s.figures_ok and s.names_ok and s.ranked >= best - _MARGIN
            and s.score >= _MIN_COSINE)


def _support(retriever: Retriever, claims: list[str], hits: list[Hit]) -> list[list[_Support]]:
    vectors = retriever.embedder.embed_queries(claims)
    cosines = vectors @ retriever.passage_vectors(hits).T
    claim_terms = tokenize_korean_many(claims)
    passage_terms = tokenize_korean_many([h.text for h in hits])
    idf = retriever.idf
    passages = [(_normal(h.text), quantities.find_quantities(h.text)) for h in hits]
    # Each passage's places for names, derived once for every claim.
    places = [Places.of([p]) for p in hit_passages(retriever, hits)]
    # An English claim matches the English titles of a reference list or footnote better
    # than the Korean sentence that states it ("3 times that of Japan" cited 참고문헌), so
    # such passages compete with the answers' bibliography penalty, in proportion.
    penalties = [retriever.config.bibliography_penalty * _bibliographic_share(retriever, h)
                 for h in hits]
    claim_figures = [quantities.figures(claim) for claim in claims]
    # Each passage's sentences (a table row is one), for where a figure is stated: read
    # only when a claim states one.
    sentences = ([_sentences(retriever, h) for h in hits] if any(claim_figures)
                 else [[] for _ in hits])
    table = []
    for c, claim in enumerate(claims):
        figures = claim_figures[c]
        # A small model answers "모더나 Spikevax의 임상시험 참가자 수는 3만 명" from a passage
        # on Pfizer, or "Novavax raised 45 billion won" from one on Sanofi: the figure is
        # there, the name is not (rag.names finds 사노피 for Sanofi).
        claim_names = names_of(claim, detect_language(claim))
        terms = set(claim_terms[c])
        weight = sum(idf.get(t, 0.0) for t in terms) or 1.0
        row = []
        subject = _subject_terms(claim_terms[c], idf)
        for p, hit_terms in enumerate(passage_terms):
            overlap = sum(idf.get(t, 0.0) for t in terms & set(hit_terms)) / weight
            found = sum(1 for f in figures if _stated(f, passages[p]))
            placed = found == len(figures) and all(
                _stated_beside(f, sentences[p], subject, vectors[c]) for f in figures)
            row.append(_Support(float(cosines[c, p]) + 0.2 * overlap
                                + (0.1 * found / len(figures) if figures else 0.0),
                                placed,
                                not missing_names(claim_names, places[p], idf,
                                                  retriever.glossary,
                                                  retriever.lexicon.glosses),
                                penalties[p]))
        table.append(row)
    return table


def _bibliographic_share(retriever: Retriever, hit: Hit) -> float:
    """1 for a references section, else the share of the passage that is footnotes."""
    if in_references(hit.section):
        return 1.0
    spans = [(note.start, note.end) for note, _, _ in retriever.footnotes.get(hit.doc_id, ())]
    covered = sum(max(0, min(b, hit.end) - max(a, hit.start)) for a, b in spans)
    return covered / max(1, hit.end - hit.start)


def _subject_terms(tokens: list[str], idf: dict[str, float]) -> set[str]:
    """A claim's words that say what it is about: not its numbers, and not the counter or
    unit a Korean number takes right after it (2022 년, 85 개, 4 대)."""
    out = set()
    for i, token in enumerate(tokens):
        after_number = i > 0 and any(ch.isdigit() for ch in tokens[i - 1])
        if idf.get(token, 0.0) > 0 and not after_number and not any(ch.isdigit() for ch in token):
            out.add(token)
    return out


@dataclass(frozen=True)
class _Sentence:
    text: tuple[str, list[quantities.Quantity]]
    terms: frozenset[str]
    vector: np.ndarray


def _sentences(retriever: Retriever, hit: Hit) -> list[_Sentence]:
    rows = retriever.sentences_in(hit.doc_id, hit.start, hit.end)
    texts = [retriever.sentence(r).text for r in rows] or [hit.text]
    vectors = retriever.sentence_vectors(rows) if rows else retriever.passage_vectors([hit])
    return [_Sentence((_normal(t), quantities.find_quantities(t)), frozenset(terms), v)
            for t, terms, v in zip(texts, tokenize_korean_many(texts), vectors)]


# How far below the claim's closest sentence of a passage the sentence stating its figure
# may be (by meaning) when they share no word: an English claim on a Korean passage.
_SENTENCE_MARGIN = 0.05


def _stated_beside(figure: quantities.Quantity, sentences: list[_Sentence],
                   subject: set[str], claim_vector: np.ndarray) -> bool:
    """Whether one sentence of the passage states the claim's figure beside its subject.

    A passage that merely holds the figure is not enough: a table lists a year per row and
    a paragraph gives years for several things, and a small model takes the wrong one. So
    the sentence (a table row is one) that states the figure must also name a word of the
    claim other than figures, or be, by meaning, about as close to the claim as the
    passage's closest sentence (across languages words are not shared).
    """
    stating = [s for s in sentences if _stated(figure, s.text)]
    if not stating:
        return False
    if any(subject & s.terms for s in stating):
        return True
    closest = max(float(s.vector @ claim_vector) for s in sentences)
    return any(float(s.vector @ claim_vector) >= closest - _SENTENCE_MARGIN for s in stating)


def _stated(figure: quantities.Quantity, passage: tuple[str, list[quantities.Quantity]]) -> bool:
    """Whether the passage states the claim's figure.

    An amount with a scale word must have the same value ("45 billion" for 450억, never
    "450 billion") and currency, and a span of time must be one ("10 years" for "10년",
    never "10배"); a bare number need only appear among the passage's digits, so "2024" is
    found in the date "2024.5.14", but not inside a longer number ("10" is not in "100만
    명").
    """
    text, values = passage
    if figure.scaled:
        return any(quantities.same_amount(figure, v) for v in values)
    if figure.duration:
        return any(v.duration and quantities.same_value(figure.value, v.value) for v in values)
    written = re.escape(figure.written.replace(",", "").rstrip("."))
    return re.search(rf"(?<![\d.]){written}(?!\d)", text) is not None


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(",", "")


def _citation(retriever: Retriever, marker: int, hit: Hit, claim: str) -> Citation:
    """The citation, with the passage sentence closest to the claim as its quote."""
    rows = retriever.sentences_in(hit.doc_id, hit.start, hit.end)
    if not rows:
        return make_citation(marker, hit)
    scores = retriever.sentence_vectors(rows) @ retriever.embed_query(claim)
    sentence = retriever.sentence(rows[int(np.argmax(scores))])
    return make_citation(marker, hit, sentence.start, sentence.end)
