"""Names across scripts: whether passages name what a question or a claim names.

A question about something the passages never name cannot be answered from them, however
close the passages' topic ("How much funding has BioNTech raised?" retrieves passages on
vaccine funding, none of which names BioNTech). Korean reports write most foreign
names in Hangul (지멘스, 화이자, 뮌헨), a few in Latin letters (Spikevax, BMW), and an
English question writes them all in Latin letters. So a name is looked for as written, in
the reports' own 한글(English) pairs, as a country's Korean name, and by its sound: a
consonant skeleton shared by the Latin spelling and the Hangul transliteration
(Siemens and 지멘스, Hamburg and 함부르크, Deloitte and 딜로이트 all give the same key).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .bm25 import proper_names
from .glossary import Term
from .language import EXONYMS, HANGUL_SYLLABLE, folded

# A name with a lower IDF (in over ~30% of passages: 한국 in reports on Korea) is often
# left implicit by the passage that answers about it, so it is never required.
COMMON_NAME_IDF = 1.0
# Capitalised words that are not names: question words, sentence openers, months, the
# reports' own parts, counting words, and compass points (East Timor is 동티모르, South
# Korea is 한국: the name is the rest).
_NOT_NAMES = frozenset((
    "what", "how", "which", "who", "whom", "whose", "when", "where", "why", "is", "are",
    "was", "were", "does", "do", "did", "in", "by", "the", "a", "an", "according",
    "besides", "alongside", "under", "as", "over", "through", "beyond", "per", "to",
    "from", "for", "of", "on", "and", "or", "january", "february", "march", "april", "may",
    "june", "july", "august", "september", "october", "november", "december", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "table",
    "figure", "phase", "chapter", "section", "part", "one", "two", "three", "four", "five",
    "six", "seven", "eight", "nine", "ten", "first", "second", "third", "east", "west",
    "north", "south", "central", "eastern", "western", "northern", "southern",
))
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.'’\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_MODEL_ID = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]+\d+[A-Za-z0-9]*|\d+[A-Za-z]+[A-Za-z0-9]*)"
                       r"(?![A-Za-z0-9])")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
_SUFFIX = re.compile(r"[시성도구군현]$")
# A particle Kiwi left on an unknown name ("신민주공화당의", "밀회의"): the name is the rest.
_PARTICLE = re.compile(r"(?:의|은|는|을|를|에|에서|와|과|으로|로)$")
# Between the words of a report's id or title: spaces, hyphens, underscores, punctuation.
_TITLE_SPLIT = re.compile(r"[\s\-_·:;,.!?()\[\]{}<>《》〈〉「」『』'\"“”‘’/]+")
# Korean question words Kiwi may tag as proper nouns ("누가 … 임명하는가?").
_KOREAN_QUESTION_WORDS = frozenset(("누가", "누구", "무엇", "어디", "언제", "어느", "얼마",
                                    "몇", "무슨", "어떤", "어떻게", "왜"))
# Latin spellings → consonant classes, longest first; vowels, w and y carry no consonant.
_LATIN_SOUNDS = (
    ("sch", "S"), ("tch", "S"), ("ch", "S"), ("sh", "S"), ("zh", "S"), ("ts", "S"),
    ("ph", "P"), ("th", "T"), ("ck", "K"), ("kh", "K"), ("gh", "K"), ("ng", "G"),
    ("x", "S"), ("q", "S"), ("j", "S"), ("z", "S"), ("s", "S"), ("b", "P"), ("p", "P"),
    ("v", "P"), ("f", "P"), ("d", "T"), ("t", "T"), ("g", "K"), ("k", "K"), ("l", "L"),
    ("r", "L"), ("m", "M"), ("n", "N"), ("h", "H"),
)
# Hangul initial consonants (ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ; ㅇ is silent) and finals.
_INITIALS = "KKNTTLMPPSS-SSSKTPH"
_FINALS = ("", "K", "K", "K", "N", "N", "N", "T", "L", "L", "L", "L", "L", "L", "L", "L",
           "M", "P", "P", "T", "T", "G", "T", "T", "K", "T", "P", "T")


@dataclass(frozen=True)
class Passage:
    """Where a name may be found: the text (with its section) and the report's id and
    title, and the passage's BM25 terms, whose Hangul words are matched by sound."""

    text: str
    label: str
    terms: Sequence[str]


@dataclass(frozen=True)
class Places:
    """Some passages as places to look for names, derived once for all the names asked."""

    labels: str       # report ids, titles and text, NFKC lower-case
    flat_labels: str  # the same without spaces and hyphens
    flat_body: str    # the text alone (not titles, where 한국 names institutes), no spaces
    keys: frozenset[str]  # sound keys of the Hangul words
    # The whole words of the reports' ids and titles: a document is about what its title
    # names, and its sentences seldom repeat it ("배터리 용량은 3,000 mAh이다." in the
    # article 삼성 갤럭시 S8). Whole words only: 한국 in 한국지역정보개발원 names an institute.
    title_words: frozenset[str] = frozenset()

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> Places:
        labels = folded(" ".join(f"{p.label} {p.text}" for p in passages))
        body = folded(" ".join(p.text for p in passages))
        titles = {w for p in passages for w in _TITLE_SPLIT.split(folded(p.label)) if w}
        return cls(labels, labels.replace(" ", "").replace("-", ""), body.replace(" ", ""),
                   frozenset(_sound_keys(passages)), frozenset(titles))


def names_of(text: str, language: str) -> list[str]:
    """The names of a question or claim in `language` ("ko", "en" or "mixed").

    Korean text's names are Kiwi's proper nouns and its Latin words; English (or mixed)
    text's are its capitalised words and model ids, and its Hangul proper nouns.
    """
    found = sorted(n for n in proper_names([text])[0] if n not in _KOREAN_QUESTION_WORDS)
    if language == "ko":
        # Kiwi splits a model id into a letter and a number ("에어버스-A320" gives A and 320):
        # the id itself names which model (A320, not A350).
        ids = {m.lower() for m in _MODEL_ID.findall(text)} - set(found)
        return found + sorted(ids)
    return english_names(text) + [n for n in found if not n.isascii()]


def english_names(text: str) -> list[str]:
    """The names of an English question or claim: runs of capitalised words, acronyms
    and model ids ("Hyundai Motor", "Kim Min-jun", "A320", "A321neo"), possessives off."""
    names: list[str] = []
    run: list[str] = []
    words = _WORD.findall(text)
    for i, raw in enumerate(words):
        word = _POSSESSIVE.sub("", raw)
        if any(_looks_like_name(part, i == 0, word != raw) for part in word.split("-") if part):
            run.append(re.sub(r"^([A-Z0-9]{2,})s$", r"\1", word))  # SUVs → SUV
            if word != raw:
                # A possessive ends a name: "Pfizer's Comirnaty" names two things.
                names.append(" ".join(run))
                run = []
            continue
        if run:
            names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    return names


def sound_key(word: str) -> str:
    """The consonant skeleton of a Latin or Hangul word: 'SMNS' for Siemens and 지멘스."""
    if HANGUL_SYLLABLE.search(word):
        sounds = []
        for char in word:
            code = ord(char) - 0xAC00
            if 0 <= code < 11172:
                sounds += [_INITIALS[code // 588], _FINALS[code % 28]]
    else:
        sounds = _latin_sounds(word.lower())
    key: list[str] = []
    for sound in sounds:
        if sound not in ("", "-") and (not key or key[-1] != sound):
            key.append(sound)
    return "".join(key)


def missing_names(names: Iterable[str], places: Places, idf: Mapping[str, float],
                  glossary: Collection[Term] = (),
                  glosses: Callable[[str], Iterable[str]] | None = None) -> list[str]:
    """The names (of `english_names`, or Korean proper nouns) that no passage names.

    A name of several words counts as named when any of its uncommon words is, so
    "Moderna Spikevax Vaccine" is found by "Spikevax"; "Novavax Vaccine" is missing when
    "Novavax" is.
    A word may also be named by a Korean word it glosses (`glosses`, the lexicon's English
    → Korean words): "Public Health" is a common noun capitalised, and the reports
    write 공중보건.
    """
    korean_of = {t.english.lower(): t.korean for t in glossary}
    missing = []
    for name in names:
        words = [w for w in name.split() if not _common(w, idf)]
        if not words or _named(name, places, korean_of, whole=True) or any(
                _named(w, places, korean_of) for w in words):
            continue
        if glosses and any(k in places.flat_body for w in words for k in glosses(w)):
            continue
        missing.append(name)
    return missing


def mentions(text: str, name: str) -> bool:
    """Whether `text` (lower-cased, without spaces) names the Korean or Latin `name`.

    Also without an administrative suffix (부산시 in a passage on 부산) or a particle
    left on it (밀회의 in a passage on 밀회), and, for Hangul
    names of three or more syllables, one letter (jamo) off: a model writes 지맨스 for
    지멘스. One jamo keeps swapped names apart (화이자 and 화이트 differ in two).
    """
    if name in text:
        return True
    for pattern in (_SUFFIX, _PARTICLE):
        stem = pattern.sub("", name)
        if stem != name and len(stem) >= 2 and stem in text:
            return True
    if len(name) < 3 or not HANGUL_SYLLABLE.fullmatch(name[0]):
        return False
    target = unicodedata.normalize("NFD", name)
    return any(_one_edit(unicodedata.normalize("NFD", text[i:i + len(name)]), target)
               for i in range(len(text) - len(name) + 1) if text[i] == name[0]
               or text[i + 1:i + len(name)] == name[1:])


def _sound_keys(passages: Sequence[Passage]) -> set[str]:
    """The sound keys a passage's Hangul words give, for names written by sound."""
    keys = set()
    for p in passages:
        for term in p.terms:
            # 부산시 names Busan as 부산 does.
            for word in {term, _SUFFIX.sub("", term) if len(term) >= 3 else term}:
                key = sound_key(word) if HANGUL_SYLLABLE.search(word) else ""
                # One consonant says little (하와이 is H): only a long word may match it.
                if len(key) > 1 or (key and len(word) >= 3):
                    keys.add(key)
        # Kiwi splits a name it does not know ("3. 에인트호번 스마트시티 사례" gives 에인트호
        # and 번), so the start of each written word counts too, when its key says enough.
        for word in _HANGUL_WORD.findall(p.text):
            for end in range(2, min(len(word), 6) + 1):
                key = sound_key(word[:end])
                if len(key) >= 3:
                    keys.add(key)
    return keys


def _named(name: str, places: Places, korean_of: Mapping[str, str], whole: bool = False
           ) -> bool:
    low = name.lower()
    flat = low.replace(" ", "").replace("-", "")
    if HANGUL_SYLLABLE.search(name):
        return (mentions(places.flat_body, "".join(name.split()))
                or _titled(name, places.title_words))
    if low in places.labels or flat in places.flat_labels:
        return True
    korean = EXONYMS.get(low) or korean_of.get(low)
    if korean and "".join(korean.split()) in places.flat_body:
        return True
    head, *tail = name.split("-")
    if tail and _named(head, places, korean_of):
        # German-born, US-made; but Airbus-A320 is named only with its model id, since a
        # passage on the A350 does not speak of the A320.
        return all(_named(t, places, korean_of) for t in tail if _MODEL_ID.fullmatch(t))
    # By sound: a single word, or a person's name written in several ("Kim Min-jun");
    # never an acronym, whose letters are spelled out (IBM is 아이비엠, not 범위), nor a
    # model id, whose digits carry no sound (A320neo would be 네).
    if name.isupper() or any(c.isdigit() for c in name) or (
            whole and not all(w[:1].isupper() and not w.isupper() for w in name.split())):
        return False
    key = sound_key(flat)
    return bool(key) and key in places.keys


def _titled(name: str, words: Collection[str]) -> bool:
    """Whether a report's title names the Korean `name` as whole words (a particle may
    follow the last: 정도전의 생애), not inside a longer word."""
    parts = folded(name).split()
    if not parts or not words:
        return False
    return all(p in words or any(w.startswith(p) and _PARTICLE.fullmatch(w[len(p):])
                                 for w in words) for p in parts)


def _common(name: str, idf: Mapping[str, float]) -> bool:
    low = name.lower()
    return min(idf.get(low, math.inf), idf.get(EXONYMS.get(low, ""), math.inf)) < COMMON_NAME_IDF


def _looks_like_name(word: str, first: bool, possessive: bool) -> bool:
    if word.lower() in _NOT_NAMES:
        return False
    if re.search(r"[A-Za-z]\d|\d[A-Za-z]", word):
        return True  # A320, i3, 300C
    if not word[0].isupper():
        return False
    # A question's first word is capitalised anyway ("Roughly how …").
    return not first or word.isupper() or possessive


def _latin_sounds(word: str) -> list[str]:
    word = re.sub(r"c(?=[eiy])", "s", word).replace("c", "k")
    word = re.sub(r"g(?=[eiy])", "j", word)
    sounds = []
    i = 0
    while i < len(word):
        for spelling, sound in _LATIN_SOUNDS:
            if word.startswith(spelling, i):
                sounds.append(sound)
                i += len(spelling)
                break
        else:
            i += 1
    return sounds


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by at most one inserted, deleted or changed letter."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[i + 1:] == b[i + 1:] or a[i:] == b[i + 1:] or a[i + 1:] == b[i:]
