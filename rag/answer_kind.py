"""The kind of answer a question asks for (a date, a share, a number) and whether a
sentence states one.

"모더나 Spikevax의 임상시험 참가자 수는 몇 명인가?" retrieves the passage that names
Spikevax, and its every name is found there; only the number is not. A question that asks
for a figure is answered by a sentence that gives one beside the question's names, so a
question whose passages give none abstains, and a sentence that gives one is the likelier
answer.
The figure must also stand beside the word for what it is of: "현대자동차가 제시하는
연봉은 얼마인가?" finds 연봉 and figures in the passages, but never in one sentence.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .bm25 import morphemes
from .language import HANGUL_SYLLABLE
from .lexicon import Lexicon, is_stop_word

DATE = "date"
SHARE = "share"
RANK = "rank"
NUMBER = "number"
KINDS = (DATE, SHARE, RANK, NUMBER)

# Cues, first match wins: "몇 %" asks for a share and "몇 번째" for a rank before "몇" asks
# for a number. A noun for the kind ("…시작한 시점은?", "…투자한 금액은?") asks for it
# only as the question's asked-for noun (asked_slot, _SLOT_KINDS): "최대 규모의 시위는
# 무엇인가" asks for a name, "출생 시점, 그곳은 어떤 나라의 지배를 받았나" for a country.
_KOREAN_CUES = (
    (DATE, re.compile(r"언제|몇\s*년|몇\s*월|출시일|게시일|발행일|발간일")),
    (SHARE, re.compile(r"몇\s*%|몇\s*퍼센트")),
    (RANK, re.compile(r"몇\s*(?:번째|위\b|위[인이는를가])|순위")),
)
# A figure noun that is also what the figure is of (its focus), unlike 금액: "매출액은?".
_KOREAN_NUMBER_CUE = re.compile(r"얼마|몇|[가-힣A-Za-z]\s+수[는가]|매출액[은이]?\s*[?？]?\s*$")
# "When" asks for a date only as the question's own word, not as a conjunction ("What did
# Macron pledge when he met …").
_ENGLISH_CUES = (
    (DATE, re.compile(r"^(?:as of |since |until |by )?when\b|\b(?:what|which) (?:year|date|month)",
                      re.IGNORECASE)),
    # "What market share do …", "What is Japan's food self-sufficiency rate …".
    (SHARE, re.compile(r"\b(?:what|which) (?:[\w'’-]+ ){0,3}?(?:share|percentage|percent"
                       r"|proportion|fraction|rates?)\b|\bhow much of\b", re.IGNORECASE)),
    (RANK, re.compile(r"\b(?:what|which) (?:rank|ranking|place|position)\b"
                      r"|\bhow (?:high|low) (?:does|do|did|is|was)\b.*\brank", re.IGNORECASE)),
    (NUMBER, re.compile(r"\bhow (?:many|much|large|big|long)\b"
                        r"|\b(?:what|which) (?:amount|number|sum|size)\b"
                        # Nouns that are figures: "What salary does Hyundai offer?"
                        r"|\bwhat (?:\S+ ){0,4}?(?:salary|salaries|wages?|revenues?|prices?"
                        r"|budgets?|valuation|profits?|costs?|population|area|fines?)\b",
                        re.IGNORECASE)),
)
# The Korean words a question's cue asks a figure of, when they are themselves no topic
# (the figure's kind, not what it is of): "참가자 수는 몇 명" asks of 참가자.
_FIGURE_NOUNS = frozenset((
    "수", "금액", "규모", "건수", "액수", "비중", "비율", "점유율", "시점", "연도", "날짜",
    "기간", "시기", "정도", "기준", "약", "총", "각각", "매년", "전망치",
    # A currency is the figure's unit ("원화로 약 얼마"), like "dollars" in English.
    "원화", "달러", "달러화", "위안", "위안화", "엔화", "유로"))
_KOREAN_ASKING = frozenset(("얼마", "얼마나", "몇", "언제", "어느"))
# Tags passed over on the way back from the cue to the noun it asks of: particles, bound
# nouns, numbers, adverbs, punctuation.
_PASSED_TAGS = ("J", "NNB", "SN", "MAG", "XSN", "SF", "SP", "SS", "SW")
_NOUN_TAGS = ("NNG", "NNP", "SL", "XR", "SH")
# English: the words the figure is of, found in the question's usual shapes: between the
# cue and the verb ("How many tons of carbon do …"), after a figure noun's "what" ("What
# tax rate do …"), before "of" ("What is the unit price of …"), after a possessive ("What
# was Pfizer's revenue in 2024?"), or the plural noun after "how many".
_WORDS = r"((?:[\w'’-]+ ){1,4}?)"
_AUX = r"(?:does|do|did|is|are|was|were|has|have|had|can|could|will|would)\b"
_ENGLISH_FOCUS = (
    re.compile(rf"\bhow (?:many|much) {_WORDS}{_AUX}", re.IGNORECASE),
    re.compile(rf"\b(?:what|which) {_WORDS}{_AUX}", re.IGNORECASE),
    re.compile(r"\bwhat (?:is|was|are|were) (?:the )?((?:[\w-]+ ){0,3}?[\w-]+) (?:of|in|for)\b",
               re.IGNORECASE),
    re.compile(r"\b(?:what|how (?:large|big|much)) (?:is|was|are|were) [\w -]+?['’]s "
               r"((?:[\w-]+ ?){1,3}?)(?: in\b| of\b| for\b|\?|$)", re.IGNORECASE),
    re.compile(r"\bhow many ((?:[\w-]+ ){0,3}?[\w-]{3,}s)\b", re.IGNORECASE),
)
# A money verb says what a "how much" figure is of ("How much did it cost to train …");
# the lexicon glosses nouns, so the verb is looked up as its noun, and like an event
# (below) it is required only when the lexicon knows it. "Spend" is left out: the reports
# write 투자 for what an English question calls spending.
_MONEY_VERBS = {"cost": "cost", "costs": "cost", "invest": "investment",
                "invested": "investment", "raise": "funding", "raised": "funding"}
_MONEY_VERB = re.compile(r"\bhow much (?:does|do|did|will|would|has|have) [\w'’ -]+? "
                         rf"({'|'.join(_MONEY_VERBS)})\b", re.IGNORECASE)
# A passive "when" question's participle is the event whose date is asked ("When was
# Moderna founded?" asks when something was 설립), also before a phrase of place or
# manner ("… approved in Japan?", "… released to the public?"). Unlike a noun, a verb has
# many renderings, so one neither the table below nor the lexicon knows is not required.
_ENGLISH_EVENT = re.compile(
    r"^when (?:was|were|is|are) .+ ([a-z]+ed)(?: (?:in|by|at|on|to|for|from|with) [\w'’ -]+)?\W*$"
    # A law's entry into force: "When does the Clean Air Act take effect?"
    r"|^when (?:does|do|did|will) .+ (take effect|come into force|enter into force)\W*$",
    re.IGNORECASE)
# The reports' verbal nouns for the events questions ask the date of. The glosses the LLM
# gave the reports' nouns miss most of them ("launched" glosses nothing, "approved" 확정).
_EVENTS: dict[str, tuple[str, ...]] = {
    "launched": ("출시", "공개", "발표", "출범", "선보"),
    "released": ("출시", "공개", "발표", "선보"),
    "unveiled": ("공개", "발표", "선보"),
    "founded": ("설립", "창립", "창업"),
    "take effect": ("시행", "발효"),
    "come into force": ("시행", "발효"),
    "enter into force": ("시행", "발효"),
    "established": ("설립", "수립", "구축", "출범", "구성"),
    "approved": ("승인", "허가", "통과", "비준"),
    "adopted": ("채택", "도입"),
    "passed": ("통과", "채택"),
    "announced": ("발표", "공표", "공개"),
    "enacted": ("제정", "시행"),
    "introduced": ("도입", "발표", "시행"),
    "signed": ("서명", "체결"),
    "published": ("발간", "발행", "게시", "발표"),
    "issued": ("발표", "발행", "발간", "공표"),
}
# Words of the figure's kind, not of what it is of ("the total investment", "tax rate").
_FIGURE_WORDS = (
    "amount number sum size value total figure level count scale volume rate rates share "
    "percentage percent proportion fraction year years date month time period annual "
    "yearly roughly approximately exactly current latest many much ton tons tonne tonnes "
    "dollars yuan")
_ENGLISH_FIGURE_WORDS = frozenset(_FIGURE_WORDS.split())

# A year or a short date as the reports write them: 2025, '25, 25.03.27.
_CALENDAR = r"(?:19|20)\d\d|'\d\d\b|\b\d{2}\.\d{1,2}\."
_DATE = re.compile(rf"{_CALENDAR}|\d+\s*(?:[년월]|세기)|현재|\bcurrent")
_SHARE = re.compile(r"%|퍼센트|percent|\d\s*배|분의")
# A place in a ranking: "2번째", "10위권", "1위" (but not 1위안, a yuan), "2nd", "first".
_RANK_TEXT = r"\d+\s*(?:위(?!안)권?|번째)"
_RANK = re.compile(rf"{_RANK_TEXT}|(?:첫|두|세|네|다섯)\s?번째|선두"
                   r"|\b\d+(?:st|nd|rd|th)\b|\b(?:first|second|third|fourth|fifth)\b",
                   re.IGNORECASE)
# Digits that are not a figure: model ids (A320, 300C, KF-21), dates, footnote marks
# ("증가했다.3)"), the numbers of tables, figures and phases ("〈표 1〉", "Phase 2"), and
# ranks: "수출 기업 10위권" names no count of exporters.
_NOT_FIGURES = re.compile(
    r"[A-Za-z]+[-.]?\d+[A-Za-z0-9]*|\d+[A-Za-z]\w*"
    rf"|(?:표|그림|Phase|Stage|Table|Figure)\s*\d+|{_RANK_TEXT}"
    rf"|(?:{_CALENDAR})(?:\s*년)?|\d+\s*월(?:\s*\d+\s*일)?|\d+\)")
# Korean number words before a counter ("두 편", "세 척", "열 명"): glued to a counter only
# where the pair reads as nothing else ("세명", "두곳"), with a space before the counters
# that make words of their own when glued (한편, 세대, 두부, 세종, 세척, 두골).
_NUMBER_WORD = (r"(?<![가-힣])(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무|스물|서른|마흔|쉰"
                r"|수십|수백|수천|수만)")
_COUNT_WORDS = re.compile(
    rf"{_NUMBER_WORD}\s?(?:개국|개|명|가지|곳|배|차례|건|채|권|마리|그루|켤레|군데|살)"
    rf"|{_NUMBER_WORD}\s(?:척|곡|골|장|편|대|종|부|번|회|점|층|벌|통|잔|쌍|분)"
    r"(?:(?![가-힣])|(?=[이가을를은는의에도만씩]))"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?)\b",
    re.IGNORECASE)


# Nouns that name the kind of thing a question asks for, not a topic of it: the answer is
# the name, the place, the date or the sum, and a passage that gives it seldom uses the word
# ("…검거한 장소는?" is answered by "경희대 학생회관에서 검거되었다").
_SLOT_NOUNS = frozenset((
    "이름", "명칭", "제목", "곳", "장소", "위치", "지역", "지점", "나라", "국가", "도시",
    "해", "연도", "년도", "날짜", "일자", "날", "시기", "시점", "기간", "시간", "때",
    "사람", "인물", "단체", "기관", "회사", "종류", "방법", "방식", "수단", "이유", "원인",
    "목적", "까닭", "금액", "돈", "액수", "수", "수량", "숫자", "개수", "규모",
    "양", "정도", "순위", "직업", "직위", "직책", "역할", "의미", "뜻", "단어", "용어", "말",
    "언어", "분야", "나이", "것", "달", "비중", "비율", "점유율", "건수"))
# The nouns that ask for a figure of a kind, as the asked-for noun only. Other asked-for
# nouns (해, 나이) are left to the cues: as a kind they would ask a figure beside the
# question's names that a passage often gives a sentence away (measured, docs/tuning.md).
_SLOT_KINDS = {
    **dict.fromkeys(("시점", "연도", "날짜", "시기", "기간"), DATE),
    **dict.fromkeys(("비중", "비율", "점유율"), SHARE),
    **dict.fromkeys(("금액", "액수", "규모", "건수"), NUMBER),
}
# What may follow the asked-for noun's particle in a question's predicate: a question word
# and the copula ("…장소는 경희대 내 어디인가?", "…해는 몇 년인가?"), no verb of its own.
_WH_WORDS = _KOREAN_ASKING | {"어디", "무엇", "누구", "무슨", "어떤"}
_PREDICATE_TAGS = ("NP", "NNB", "MM", "NNP", "SN", "VCP", "EP", "EF", "SF", "SP", "SS", "J",
                   "MAG")


@lru_cache(maxsize=4096)
def asked_slot(question: str) -> str | None:
    """The noun for the kind of thing a Korean question asks for, when it is one
    (_SLOT_NOUNS): 장소 in "임종석을 검거한 장소는 어디인가?", 돈 in "신차 개발에 쓴 돈은?";
    None for "일본 제약 기업은 몇 개인가?" (기업 is what is counted, a topic)."""
    tokens = morphemes(question)
    for i in range(len(tokens) - 2, -1, -1):
        form, tag = tokens[i]
        if tokens[i + 1][1] not in ("JX", "JKS"):
            continue
        if tag == "XSN" and i and tokens[i - 1][1].startswith("NN"):
            form = tokens[i - 1][0] + form          # 점유 + 율
        elif not tag.startswith("NN") or tag == "NNB":
            continue
        rest = tokens[i + 2:]
        if all(t.startswith(_PREDICATE_TAGS) or f in _WH_WORDS for f, t in rest):
            return form if form in _SLOT_NOUNS else None
        return None
    return None


def kind_of(question: str) -> str | None:
    """The kind of answer `question` asks for, or None (a name, a reason, a list)."""
    text = unicodedata.normalize("NFKC", question).strip()
    if not HANGUL_SYLLABLE.search(text):
        return next((kind for kind, cue in _ENGLISH_CUES if cue.search(text)), None)
    for kind, cue in _KOREAN_CUES:
        if cue.search(text):
            return kind
    # Then the asked-for noun ("…시작한 시점은?"), before a bare 얼마 or 몇 asks for a
    # number: "기간은 얼마인가" asks for a date.
    if kind := _SLOT_KINDS.get(asked_slot(text) or ""):
        return kind
    return NUMBER if _KOREAN_NUMBER_CUE.search(text) else None


def states(text: str, kind: str) -> bool:
    """Whether `text` gives an answer of `kind`: a date, a share, a rank, or a figure
    that is neither a date, a rank nor part of a model's name."""
    text = unicodedata.normalize("NFKC", text)
    if kind == DATE:
        return bool(_DATE.search(text))
    if kind == SHARE:
        return bool(_SHARE.search(text))
    if kind == RANK:
        return bool(_RANK.search(text))
    if kind == NUMBER:
        rest = _NOT_FIGURES.sub(" ", text)
        return bool(re.search(r"\d", rest) or _COUNT_WORDS.search(rest))
    raise ValueError(f"unknown answer kind {kind!r}; use one of {', '.join(KINDS)}")


def focus_of(question: str, lexicon: Lexicon | None = None) -> tuple[str, ...]:
    """The words for what a question asks a figure of, any of which the sentence giving
    the figure must contain: 연봉 in "…제시하는 연봉은 얼마인가?", 탄소 in "How many
    tons of carbon …" (through `lexicon`, English word → Korean words of the reports), or
    an English word as written when no Korean word of the reports is glossed with it
    ("employee" in "How many employees does Moderna have?").

    Empty when the question names none that can be checked: a rank, a verbal noun ("제정한
    연도" is stated as "개인정보 보호법(2011)"), an English verb the lexicon does not know, or any
    English question when there is no lexicon to read it with.
    """
    text = unicodedata.normalize("NFKC", question)
    # A rank is stated against the others ranked ("미국에 이어 2번째"), seldom beside what
    # the question ranks in, and an English cue ("What rank", "Which place") names no topic.
    if kind_of(text) == RANK:
        return ()
    if HANGUL_SYLLABLE.search(text):
        return _korean_focus(text)
    if not lexicon:
        return ()
    event = _ENGLISH_EVENT.search(text)
    if event:
        verb = " ".join((event[1] or event[2]).lower().split())
        return _EVENTS[verb] if verb in _EVENTS else lexicon.glosses(verb)
    money = _MONEY_VERB.search(text)
    if money:
        return lexicon.glosses(_MONEY_VERBS[money[1].lower()])
    for pattern in _ENGLISH_FOCUS:
        match = pattern.search(text)
        if match:
            return _english_focus(match[1], lexicon)
    return ()


def _english_focus(words: str, lexicon: Lexicon) -> tuple[str, ...]:
    """The Korean terms of `words` the lexicon knows, and the stems of those it does not:
    a report could write such a word in English, and when it never does ("employees",
    "valuation"), no Korean word of the reports is glossed with it either, so the reports
    do not speak of it."""
    found: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z'’-]*", words):
        if word.lower() in _ENGLISH_FIGURE_WORDS or is_stop_word(word):
            continue
        glossed = lexicon.glosses(word)
        if not glossed and "-" in word:
            # A compound is glossed through its head, its last part: "high-performance"
            # through "performance" (성능, in 고성능).
            glossed = lexicon.glosses(word.rsplit("-", 1)[1])
        found.extend(glossed or (_singular(word),))
    return tuple(dict.fromkeys(found))


def _singular(word: str) -> str:
    """The word lower-cased, a plural's s off ("employees" is found in "employee")."""
    low = word.lower()
    return low[:-1] if re.search(r"[^sui]s$", low) and len(low) > 3 else low


def _korean_focus(text: str) -> tuple[str, ...]:
    tokens = morphemes(text)
    # The asking word (몇, 얼마) is the cue; without one, the last figure noun ("금액은?").
    asking = [i for i, (form, _) in enumerate(tokens) if form in _KOREAN_ASKING]
    figure = [i for i, (form, tag) in enumerate(tokens)
              if form in _FIGURE_NOUNS and tag.startswith("NN")]
    if asking:
        cue = asking[0]
    elif figure:
        cue = figure[-1]
    else:
        return ()
    # A rank question ("세계 몇 번째") has no focus (focus_of); "몇 위권" and "몇 번" are read
    # as numbers, but also place or count against others ("10위권 내에 다수 포함"), seldom
    # beside the scope (세계) the question ranks in.
    if tokens[cue][0] == "몇" and cue + 1 < len(tokens) and tokens[cue + 1][0] in ("번", "위"):
        return ()
    # "언제 출시되었는가" asks the date of an event, named by the verbal noun after the cue.
    after = [i for i in range(cue + 1, len(tokens) - 1)
             if not tokens[i][1].startswith(("J", "NNB"))][:1]
    if (tokens[cue][0] in ("언제", "몇") and after and tokens[after[0]][1] == "NNG"
            and tokens[after[0] + 1][1] == "XSV" and kind_of(text) == DATE):
        return (tokens[after[0]][0],)
    for i in range(cue - 1, -1, -1):
        form, tag = tokens[i]
        # The noun for what is asked ("사람은 몇 명", "날은 언제") is no more the figure's
        # subject than its unit is.
        if tag.startswith(_PASSED_TAGS) or form in _FIGURE_NOUNS or form in _SLOT_NOUNS:
            continue
        verbal = i + 1 < len(tokens) and tokens[i + 1][1] == "XSV"
        return (form.lower(),) if tag in _NOUN_TAGS and not verbal else ()
    return ()
