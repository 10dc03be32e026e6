"""Follow-up questions made standalone before retrieval, by general rules (no LLM needed).

"그럼 화이자는?" after "모더나의 2023년 백신 매출은?" cannot be searched as it is: retrieval
sees only "화이자". A short elliptical follow-up, introduced by a cue (그럼, 그러면, 그리고,
and, what about, how about) or consisting of just a noun phrase with a particle, is
spliced into the previous question. No list of names is involved: what kind of thing a
word names is read off the word itself.

- A year (2024년) replaces the previous question's year, a code of letters and digits
  (S24, GPT-4, 910B) its code.
- A name replaces the previous question's first name of the same form (a Hangul name, an
  English word, an acronym), else its first name (모더나 → 화이자). A name is what Kiwi
  tags as a proper noun or does not know (an unknown noun is nearly always a name: 리비안),
  a capitalised English word that is no function word, or an acronym. Across languages,
  the corpus's own 한글(English) pairs (rag.glossary) write it in the previous question's
  language.
- Any other noun ("예산은?") replaces the previous question's last noun, which carries the
  thing asked about.
- Failing these, the new phrase is put in front of the previous question.

Korean particles after a replaced word are re-chosen for the new word (은/는, 이/가, 을/를,
과/와, 으로/로). Everything else, including any question with a predicate of its own,
is left untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .bm25 import name_spans
from .glossary import Term
from .language import HANGUL_SYLLABLE
from .lexicon import is_function_word

__all__ = ["Resolution", "is_followup", "resolve_followup"]


@dataclass(frozen=True)
class Resolution:
    """The question to search with, and how it came from what the user typed."""

    original: str
    question: str
    followup: bool = False
    # "entity" (same-kind entity replaced), "attribute" (last noun replaced), "prefix",
    # or "" when the question was left as typed.
    rule: str = ""

    @property
    def changed(self) -> bool:
        return self.question != self.original


_CUE = re.compile(
    r"^\s*(?:그럼|그러면|그렇다면|그리고|그럼요|그러면요|또|또한|한편|반면)\s*[,.]?\s*"
    r"|^\s*(?:and\s+what\s+about|what\s+about|how\s+about|and\s+how\s+about|what\s+of|"
    r"and\s+for|and\s+in|and)\b\s*[,]?\s*",
    re.IGNORECASE,
)
# Generic predicates of an elliptical follow-up: "부산은 어때?", "what about X then?".
_TRAIL_PREDICATE = re.compile(
    r"\s*(?:어때요|어때|어떤가요|어떤가|어떻습니까|어떻게\s*돼|어떻게\s*되나요|어떻나요|는요|은요|"
    r"then|too|as\s+well|instead)\s*$",
    re.IGNORECASE,
)
_TRAIL_PUNCT = re.compile(r"[\s?？!.。]+$")
# Particles that end the noun phrase of an elliptical question. 이/가 are left out: too
# many nouns end with those syllables (하와이, 기아의 ...).
_KO_PARTICLE = re.compile(
    r"(?:의\s*경우(?:에는|는)?|에서는|에서|에는|에선|으로는|로는|은|는|도|의|요)$")
_ARTICLE = re.compile(r"^(?:the|a|an|its|their)\s+", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9])(?:19|20)\d{2}(?:년|년도)?(?![0-9])")
# Model and chip names: letters and digits together (910C, V3, R1, GPT-4, H20).
_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])"
                   r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9])")
# Latin words that may name something: capitalised (Moderna, BioNTech) or acronyms (WHO).
_CAPITALISED = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z]*(?![A-Za-z0-9])")
_EN_WH_COPULA = re.compile(r"^(?:what|which|who)\s+(?:is|are|was|were)\b", re.IGNORECASE)
# Particle pairs: (after a final consonant, after a vowel).
_PARTICLE_PAIRS = [("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로")]
# Whether a digit or Latin letter, read aloud in Korean, ends with a consonant.
_DIGIT_FINAL = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                "6": True, "7": True, "8": True, "9": False}
_LETTER_FINAL = set("lmnr")


@dataclass(frozen=True)
class _Entity:
    """A span of a question that names something: a year, a code or a name."""

    kind: str  # "year", "code" or "name"
    start: int
    end: int
    # For a name, how it is written: "hangul", "word" (capitalised Latin) or "acronym".
    form: str = ""


def is_followup(question: str) -> bool:
    """Whether `question` reads as an elliptical follow-up that needs the previous turn."""
    return _elliptical_phrase(question) is not None


def resolve_followup(question: str, previous: str | None,
                     glossary: Iterable[Term] = ()) -> Resolution:
    """`question` made standalone against `previous` (the last turn's resolved question).

    `glossary` holds the corpus's 한글(English) pairs: a name asked about in the other
    language than the previous question is written in that question's language where the
    corpus pairs its two forms."""
    original = question.strip()
    if not previous or not previous.strip():
        return Resolution(original, original)
    phrase = _elliptical_phrase(original)
    if phrase is None:
        return Resolution(original, original)
    previous = previous.strip()
    korean = bool(HANGUL_SYLLABLE.search(previous))
    new = _entities(phrase)
    if new:
        word = _localise(phrase[new[0].start:new[0].end], korean, glossary)
        old = _counterpart(new[0], _entities(previous))
        if old is not None:
            return Resolution(original, _splice(previous, old.start, old.end, word),
                              True, "entity")
        return Resolution(original, _prefix(phrase, previous), True, "prefix")
    attribute = _replace_last_noun(previous, phrase, korean)
    if attribute is not None:
        return Resolution(original, attribute, True, "attribute")
    return Resolution(original, _prefix(phrase, previous), True, "prefix")


def _elliptical_phrase(question: str) -> str | None:
    """The noun phrase of an elliptical follow-up ("화이자"), or None for a full question."""
    text = question.strip()
    cue = _CUE.match(text)
    rest = text[cue.end():] if cue else text
    rest = _TRAIL_PUNCT.sub("", rest)
    rest = _TRAIL_PREDICATE.sub("", rest)
    rest = _TRAIL_PUNCT.sub("", rest).strip()
    if not rest:
        return None
    words = rest.split()
    # With a cue, a short phrase ("그럼 화이자의 경우는?"); without one, a single word that
    # ends the question ("화이자는?", "Pfizer?"). Anything longer carries its own predicate.
    if len(words) > (3 if cue else 1):
        return None
    if not cue and not text.rstrip().endswith(("?", "？")):
        return None
    if HANGUL_SYLLABLE.search(words[-1]):
        words[-1] = _KO_PARTICLE.sub("", words[-1]) or words[-1]
    phrase = _ARTICLE.sub("", " ".join(words)).strip()
    # A word that ends like a sentence ("알려줘", "있나") is not elliptical, unless it is a
    # name (캐나다).
    if not phrase or (re.search(r"(?:다|까|니|나|줘|죠|지|요|세요)$", phrase)
                      and not _entities(phrase)):
        return None
    return phrase


def _entities(text: str) -> list[_Entity]:
    """The years, codes and names of `text`, in order, none overlapping another."""
    found: list[_Entity] = []

    def add(entity: _Entity) -> None:
        if not any(entity.start < e.end and e.start < entity.end for e in found):
            found.append(entity)

    for m in _YEAR.finditer(text):
        add(_Entity("year", m.start(), m.end()))
    for m in _CODE.finditer(text):
        add(_Entity("code", m.start(), m.end()))
    for start, end in name_spans(text):
        add(_Entity("name", start, end, "hangul"))
    for m in _CAPITALISED.finditer(text):
        word = m.group(0)
        if word.isupper() and len(word) > 1:
            add(_Entity("name", m.start(), m.end(), "acronym"))
        elif not is_function_word(word) and not word.isupper():
            add(_Entity("name", m.start(), m.end(), "word"))
    found.sort(key=lambda e: e.start)
    return _joined(text, found)


def _joined(text: str, found: list[_Entity]) -> list[_Entity]:
    """Capitalised words one space apart as one name (Peking University, New Zealand)."""
    out: list[_Entity] = []
    for e in found:
        last = out[-1] if out else None
        if (last is not None and last.form == e.form == "word"
                and text[last.end:e.start] == " "):
            out[-1] = _Entity("name", last.start, e.end, "word")
        else:
            out.append(e)
    return out


def _counterpart(new: _Entity, old: list[_Entity]) -> _Entity | None:
    """The previous question's entity that `new` stands in for: the first of its kind and
    form, else the first of its kind (an acronym stands in for an acronym only when it is
    new too: "AI" in "AI 정책" is the topic, not the name asked about)."""
    same = [e for e in old if e.kind == new.kind]
    if new.kind == "name":
        if alike := [e for e in same if e.form == new.form]:
            return alike[0]
        same = [e for e in same if e.form != "acronym"]
    return same[0] if same else None


def _localise(word: str, korean: bool, glossary: Iterable[Term]) -> str:
    """`word` in the previous question's language where the corpus pairs its two forms."""
    asked_korean = bool(HANGUL_SYLLABLE.search(word))
    if asked_korean == korean:
        return word
    for term in glossary:
        if asked_korean and term.korean == word:
            return term.english
        if not asked_korean and term.english.lower() == word.lower():
            return term.korean
    return word


def _splice(text: str, start: int, end: int, word: str) -> str:
    """`text` with [start, end) replaced by `word`, the particle after it re-chosen."""
    after = text[end:]
    for consonant, vowel in _PARTICLE_PAIRS:
        for old in (consonant, vowel):
            if after.startswith(old) and not HANGUL_SYLLABLE.match(after[len(old):len(old) + 1]):
                right = consonant if _ends_with_consonant(word) else vowel
                after = right + after[len(old):]
                break
        else:
            continue
        break
    return text[:start] + word + after


def _ends_with_consonant(word: str) -> bool:
    """Whether `word`, read in Korean, ends with a final consonant (받침)."""
    word = word.rstrip(" )]'\"")
    if not word:
        return False
    last = word[-1]
    if HANGUL_SYLLABLE.match(last):
        return (ord(last) - 0xAC00) % 28 != 0
    if last.isdigit():
        return _DIGIT_FINAL[last]
    return last.lower() in _LETTER_FINAL


def _replace_last_noun(previous: str, phrase: str, korean: bool) -> str | None:
    """The previous question with its last noun (the thing asked about) swapped."""
    if korean:
        if re.search(r"(?:인가|는가|은가|던가|까)\s*[?？]?\s*$", previous):
            return None
        m = re.search(r"(\S+?)(은|는|이|가)(\s*[?？]?\s*)$", previous)
        if not m or not HANGUL_SYLLABLE.search(phrase):
            return None
        particle = "은" if _ends_with_consonant(phrase) else "는"
        if m.group(2) in ("이", "가"):
            particle = "이" if _ends_with_consonant(phrase) else "가"
        return previous[:m.start()] + phrase + particle + (m.group(3) or "?")
    m = re.search(r"([A-Za-z][\w-]*)(\s*\?\s*)$", previous)
    if not m or not _EN_WH_COPULA.match(previous) or HANGUL_SYLLABLE.search(phrase):
        return None
    return previous[:m.start()] + phrase + m.group(2)


def _prefix(phrase: str, previous: str) -> str:
    return f"{phrase} {previous}"
