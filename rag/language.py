"""Facts of the two languages that every module shares: which language a text is in
(Korean, English, or a mix of both), what a Hangul syllable is, and the Korean names of
the world's countries."""

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

# Country and region names whose Korean standard name is no transliteration the sound
# key finds: Sino-Korean names (중국, 일본, 미국, 독일, 호주, 태국) and names Korean took by
# another language's sound or spells with its own clusters (스위스, 네덜란드, 튀르키예,
# 멕시코, 프랑스). A fact of Korean spelling for the world's countries, whatever the reports.
EXONYMS = {
    "china": "중국", "chinese": "중국", "korea": "한국", "korean": "한국", "japan": "일본",
    "japanese": "일본", "us": "미국", "u.s.": "미국", "usa": "미국", "america": "미국",
    "american": "미국", "eu": "유럽", "europe": "유럽", "european": "유럽", "uk": "영국",
    "britain": "영국", "british": "영국", "germany": "독일", "german": "독일",
    "taiwan": "대만", "taiwanese": "대만", "australia": "호주", "australian": "호주",
    "thailand": "태국", "thai": "태국", "switzerland": "스위스", "swiss": "스위스",
    "netherlands": "네덜란드", "holland": "네덜란드", "dutch": "네덜란드",
    "turkey": "튀르키예", "türkiye": "튀르키예", "turkish": "튀르키예", "greece": "그리스",
    "greek": "그리스", "czech": "체코", "czechia": "체코", "belgium": "벨기에",
    "belgian": "벨기에", "mexico": "멕시코", "mexican": "멕시코", "france": "프랑스",
    "french": "프랑스", "denmark": "덴마크", "danish": "덴마크", "hungary": "헝가리",
    "hungarian": "헝가리", "england": "잉글랜드", "chile": "칠레",
    "qatar": "카타르", "myanmar": "미얀마", "burma": "미얀마", "georgia": "조지아",
    "cyprus": "키프로스", "uae": "아랍에미리트", "iraq": "이라크", "jordan": "요르단",
    "spain": "스페인", "spanish": "스페인", "italy": "이탈리아", "italian": "이탈리아",
    "russia": "러시아", "russian": "러시아", "india": "인도", "indian": "인도",
    "vietnam": "베트남", "vietnamese": "베트남", "philippines": "필리핀",
    "singapore": "싱가포르", "mongolia": "몽골", "argentina": "아르헨티나",
    "bangladesh": "방글라데시", "kazakhstan": "카자흐스탄", "luxembourg": "룩셈부르크",
    "bahrain": "바레인", "egypt": "이집트", "brazil": "브라질", "canada": "캐나다",
}



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
