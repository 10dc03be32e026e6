"""Which language a question is in: Korean, English, or a mix of both."""

from __future__ import annotations

import re
import unicodedata

# A Hangul syllable, the unit of written Korean (one regex for every module that asks).
HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
# Syllables and loose letters (jamo), which a question typed mid-composition may hold.
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_QUOTED = re.compile(r"‘[^’]*’|“[^”]*”|'[^']*'|\"[^\"]*\"|「[^」]*」|『[^』]*』")
_QUESTION_WORDS = {"what", "how", "which", "who", "whom", "whose", "when", "where", "why",
                   "is", "are", "was", "were", "does", "do", "did", "can", "could", "list",
                   "name", "according", "in", "by", "the", "a", "an"}


def folded(text: str) -> str:
    """`text` for matching as written whatever its case and width (NFKC, lower case):
    full-width "ＡＩ" and "ai" are one word."""
    return unicodedata.normalize("NFKC", text).lower()


def detect_language(text: str) -> str:
    """"ko", "en" or "mixed", from the words that carry the grammar.

    Korean text names things in Latin letters (Pfizer, BMW, KF-21), so those do not
    make a question English; lower-case English words and question words do, outside
    quotation marks (부산 ‘Busan is Good’ 캠페인 quotes a name).
    """
    unquoted = _QUOTED.sub(" ", text)
    if _HANGUL.search(unquoted):
        text = unquoted
    words = text.split()
    hangul_words = sum(1 for w in words if _HANGUL.search(w))
    english_words = sum(
        1 for w in words
        if (core := re.sub(r"[^A-Za-z'-]", "", w)) and core == re.sub(r"[^A-Za-z'-]", "", w)
        # A figure's unit ("2m", "5kg", "n + 0.5") is no English word.
        and not _HANGUL.search(w) and not re.search(r"\d", w) and len(core) > 1
        and (core[0].islower() or core.lower() in _QUESTION_WORDS)
    )
    if english_words == 0:
        return "ko" if hangul_words or not re.search(r"[A-Za-z]", text) else "en"
    return "mixed" if hangul_words else "en"


def reply_language(text: str) -> str:
    """The language an answer to `text` should be written in ("ko" or "en").

    A question mixing both is Korean when it ends in a Korean word and does not open with
    an English question word: Korean puts its predicate (…인가?, …누구인가요?) last, so
    "blues in the night을 부른 가수는?" is Korean, while English opens with its question
    word and may still end on a Korean name ("Who founded 모더나?").
    """
    language = detect_language(text)
    if language != "mixed":
        return language
    unquoted = _QUOTED.sub(" ", text)
    words = [w for w in unquoted.split() if re.search(r"[A-Za-z\uac00-\ud7a3]", w)]
    if not words:
        return "en"
    opening = re.sub(r"[^A-Za-z]", "", words[0]).lower()
    ends_korean = bool(_HANGUL.search(words[-1]))
    return "ko" if ends_korean and opening not in _QUESTION_WORDS else "en"
