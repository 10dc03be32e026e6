"""Follow-up questions made standalone before retrieval, by rules (no LLM needed).

"그럼 상하이는?" after "베이징의 AI 정책은?" cannot be searched as it is: retrieval sees only
"상하이". A short elliptical follow-up, introduced by a cue (그럼, 그러면, 그리고, and,
what about, how about) or consisting of just a noun phrase with a particle, is spliced
into the previous question:

- an entity of a known kind (place, organisation, year, model or chip code, English proper
  name) replaces the previous question's first entity of the same kind (베이징 → 상하이),
  written in the previous question's language where the gazetteer knows both forms;
- any other noun ("예산은?") replaces the previous question's last noun ("정책은?"), which
  carries the thing asked about;
- failing both, the new phrase is put in front of the previous question.

Korean particles after a replaced word are re-chosen for the new word (은/는, 이/가, 을/를,
과/와, 으로/로). Everything else, including any question with a predicate of its own,
is left untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .language import HANGUL_SYLLABLE

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


# (Korean, English) names; either form matches, the previous question's language is written.
_PLACES = [
    ("베이징", "Beijing"), ("상하이", "Shanghai"), ("선전", "Shenzhen"), ("광저우", "Guangzhou"),
    ("항저우", "Hangzhou"), ("청두", "Chengdu"), ("충칭", "Chongqing"), ("톈진", "Tianjin"),
    ("우한", "Wuhan"), ("난징", "Nanjing"), ("시안", "Xi'an"), ("쑤저우", "Suzhou"),
    ("허페이", "Hefei"), ("구이저우", "Guizhou"), ("광둥", "Guangdong"), ("저장", "Zhejiang"),
    ("장쑤", "Jiangsu"), ("홍콩", "Hong Kong"), ("대만", "Taiwan"), ("중국", "China"),
    ("미국", "United States"), ("미국", "US"), ("미국", "USA"), ("한국", "Korea"),
    ("한국", "South Korea"), ("일본", "Japan"), ("유럽", "Europe"), ("유럽연합", "EU"),
    ("영국", "UK"), ("독일", "Germany"), ("프랑스", "France"), ("인도", "India"),
    ("싱가포르", "Singapore"), ("러시아", "Russia"), ("캐나다", "Canada"), ("대한민국", "Korea"),
]
_ORGS = [
    ("화웨이", "Huawei"), ("바이두", "Baidu"), ("알리바바", "Alibaba"), ("텐센트", "Tencent"),
    ("딥시크", "DeepSeek"), ("바이트댄스", "ByteDance"), ("SMIC", "SMIC"), ("엔비디아", "Nvidia"),
    ("엔비디아", "NVIDIA"), ("오픈AI", "OpenAI"), ("구글", "Google"), ("메타", "Meta"),
    ("마이크로소프트", "Microsoft"), ("애플", "Apple"), ("삼성", "Samsung"), ("TSMC", "TSMC"),
    ("아이플라이텍", "iFlytek"), ("센스타임", "SenseTime"), ("즈푸", "Zhipu"),
    ("문샷", "Moonshot"), ("샤오미", "Xiaomi"), ("앤트로픽", "Anthropic"), ("칭화대", "Tsinghua"),
    ("베이징대", "Peking University"), ("캠브리콘", "Cambricon"), ("하이실리콘", "HiSilicon"),
]
_CUE = re.compile(
    r"^\s*(?:그럼|그러면|그렇다면|그리고|그럼요|그러면요|또|또한|한편|반면)\s*[,.]?\s*"
    r"|^\s*(?:and\s+what\s+about|what\s+about|how\s+about|and\s+how\s+about|what\s+of|"
    r"and\s+for|and\s+in|and)\b\s*[,]?\s*",
    re.IGNORECASE,
)
# Generic predicates of an elliptical follow-up: "상하이는 어때?", "what about X then?".
_TRAIL_PREDICATE = re.compile(
    r"\s*(?:어때요|어때|어떤가요|어떤가|어떻습니까|어떻게\s*돼|어떻게\s*되나요|어떻나요|는요|은요|"
    r"then|too|as\s+well|instead)\s*$",
    re.IGNORECASE,
)
_TRAIL_PUNCT = re.compile(r"[\s?？!.。]+$")
# Particles that end the noun phrase of an elliptical question. 이/가 are left out: too
# many nouns end with those syllables (화웨이, 바이두의 ...).
_KO_PARTICLE = re.compile(
    r"(?:의\s*경우(?:에는|는)?|에서는|에서|에는|에선|으로는|로는|은|는|도|의|요)$")
_ARTICLE = re.compile(r"^(?:the|a|an|its|their)\s+", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9])(?:19|20)\d{2}(?:년|년도)?(?![0-9])")
# Model and chip names: letters and digits together (910C, V3, R1, GPT-4, H20).
_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])"
                   r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9])")
# English names: capitalised words with lower-case letters (DeepSeek, not AI or GPU).
_PROPER = re.compile(r"(?<![A-Za-z])[A-Z][a-z][A-Za-z]*")
_EN_WH_COPULA = re.compile(r"^(?:what|which|who)\s+(?:is|are|was|were)\b", re.IGNORECASE)
# Particle pairs: (after a final consonant, after a vowel).
_PARTICLE_PAIRS = [("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로")]
# Whether a digit or Latin letter, read aloud in Korean, ends with a consonant.
_DIGIT_FINAL = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                "6": True, "7": True, "8": True, "9": False}
_LETTER_FINAL = set("lmnr")


def is_followup(question: str) -> bool:
    """Whether `question` reads as an elliptical follow-up that needs the previous turn."""
    return _elliptical_phrase(question) is not None


def resolve_followup(question: str, previous: str | None) -> Resolution:
    """`question` made standalone against `previous` (the last turn's resolved question)."""
    original = question.strip()
    if not previous or not previous.strip():
        return Resolution(original, original)
    phrase = _elliptical_phrase(original)
    if phrase is None:
        return Resolution(original, original)
    previous = previous.strip()
    korean = bool(HANGUL_SYLLABLE.search(previous))
    new = _find_entities(phrase)
    if new:
        kind, start, end, canonical = new[0]
        word = _localise(phrase[start:end], kind, canonical, korean)
        for old_kind, old_start, old_end, _ in _find_entities(previous):
            if _same_slot(kind, old_kind):
                return Resolution(original, _splice(previous, old_start, old_end, word),
                                  True, "entity")
        return Resolution(original, _prefix(phrase, previous), True, "prefix")
    attribute = _replace_last_noun(previous, phrase, korean)
    if attribute is not None:
        return Resolution(original, attribute, True, "attribute")
    return Resolution(original, _prefix(phrase, previous), True, "prefix")


def _elliptical_phrase(question: str) -> str | None:
    """The noun phrase of an elliptical follow-up ("상하이"), or None for a full question."""
    text = question.strip()
    cue = _CUE.match(text)
    rest = text[cue.end():] if cue else text
    rest = _TRAIL_PUNCT.sub("", rest)
    rest = _TRAIL_PREDICATE.sub("", rest)
    rest = _TRAIL_PUNCT.sub("", rest).strip()
    if not rest:
        return None
    words = rest.split()
    # With a cue, a short phrase ("그럼 상하이의 경우는?"); without one, a single word that
    # ends the question ("상하이는?", "Shanghai?"). Anything longer carries its own predicate.
    if len(words) > (3 if cue else 1):
        return None
    if not cue and not text.rstrip().endswith(("?", "？")):
        return None
    if HANGUL_SYLLABLE.search(words[-1]):
        words[-1] = _KO_PARTICLE.sub("", words[-1]) or words[-1]
    phrase = _ARTICLE.sub("", " ".join(words)).strip()
    # A word that ends like a sentence ("알려줘", "있나") is not elliptical, unless it is a
    # known name (캐나다).
    if not phrase or (re.search(r"(?:다|까|니|나|줘|죠|지|요|세요)$", phrase)
                      and not _find_entities(phrase)):
        return None
    return phrase


def _find_entities(text: str) -> list[tuple[str, int, int, tuple[str, str] | None]]:
    """Known entities in `text`, in order: (kind, start, end, (korean, english) or None)."""
    found: list[tuple[str, int, int, tuple[str, str] | None]] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int, canonical: tuple[str, str] | None) -> None:
        if any(start < b and a < end for a, b in taken):
            return
        taken.append((start, end))
        found.append((kind, start, end, canonical))

    for kind, names in (("org", _ORGS), ("place", _PLACES)):
        # Longest names first, so 베이징대 is an organisation, not the city 베이징.
        for ko, en in sorted(names, key=lambda p: -max(len(p[0]), len(p[1]))):
            for name in (ko, en):
                pattern = (re.escape(name) if HANGUL_SYLLABLE.search(name)
                           else rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])")
                for m in re.finditer(pattern, text):
                    add(kind, m.start(), m.end(), (ko, en))
    for m in _YEAR.finditer(text):
        add("year", m.start(), m.end(), None)
    for m in _CODE.finditer(text):
        add("code", m.start(), m.end(), None)
    for m in _PROPER.finditer(text):
        if m.start() == 0 or m.group(0).lower() in _EN_STOP:
            continue
        add("name", m.start(), m.end(), None)
    found.sort(key=lambda f: f[1])
    return found


_EN_STOP = {"what", "which", "who", "how", "when", "where", "why", "is", "are", "was", "were",
            "does", "did", "do", "and", "the", "a", "an", "in", "of", "ai"}


def _same_slot(new: str, old: str) -> bool:
    if new == old:
        return True
    # Proper names of unknown kind stand in for places, organisations and each other.
    proper = {"place", "org", "name"}
    return new in proper and old in proper and "name" in (new, old)


def _localise(word: str, kind: str, canonical: tuple[str, str] | None, korean: bool) -> str:
    if canonical is None:
        return word
    ko, en = canonical
    return ko if korean else en


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
