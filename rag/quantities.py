"""Figures as values: "450억 유로", "45 billion euros" and "€45 bn" are one amount.

The reports write amounts with Korean scale words (만 10⁴, 억 10⁸, 조 10¹²), and an English
answer restates them with English ones. Comparing digits alone takes "450 billion euros" for
450억 유로, which is ten times too much; comparing values catches it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

_KOREAN_SCALE = {"천": 1e3, "만": 1e4, "억": 1e8, "조": 1e12}
_ENGLISH_SCALE = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "mln": 1e6, "billion": 1e9,
                  "bn": 1e9, "bln": 1e9, "trillion": 1e12, "tn": 1e12}
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
# A Korean scale follows its number without a space: "450억", "5천억" (5 × 10³ × 10⁸), "3천".
_SCALE = r"천?[만억조]|천"
_KOREAN = re.compile(rf"{_NUMBER}(?:{_SCALE})?(?:\s?{_NUMBER}(?:{_SCALE}))*")
_GROUPS = re.compile(rf"(?P<n>{_NUMBER})(?P<k>{_SCALE})?")
_ENGLISH = re.compile(rf"(?P<n>{_NUMBER})\s?(?P<e>{'|'.join(_ENGLISH_SCALE)})\b", re.IGNORECASE)
_ENGLISH_NAMES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))
# The currency written after an amount (or "$"/"€" before it), as a code.
_CURRENCY_AFTER = re.compile(
    r"\s?(?:(?P<CNY>위안|yuan|rmb)|(?P<USD>달러|dollars?|usd)|(?P<EUR>유로|euros?|eur)"
    # 원 is also a word's first syllable (100억 원칙): a particle at most may follow it.
    r"|(?P<JPY>엔|yen)|(?P<KRW>원(?=[을이의은에과]?(?![가-힣]))|won))(?![a-z])", re.IGNORECASE)
_CURRENCY_BEFORE = {"$": "USD", "€": "EUR"}
# A span of time after a number: "10 years", "10년간", "6개월". Not a calendar year
# ("2015년"), which is a date.
_DURATION_AFTER = re.compile(r"\s?(?:여\s?)?(?:years?|months?|개년|개월|년)(?![a-z])",
                             re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    """A figure in a text: its value, how and where it is written (in the NFKC form of the
    text), whether a scale word multiplied it, and its currency code if it has one."""

    value: float
    written: str
    start: int
    end: int
    scaled: bool
    currency: str = ""
    # Whether a unit of time follows it: "6 years" is not found in "6배".
    duration: bool = False


def find_quantities(text: str) -> list[Quantity]:
    """Every figure of `text`, English scale words first, then Korean ones and bare numbers.

    A Korean amount may chain groups of falling scale ("1조 5,000억" is 1.5 × 10¹²);
    "5천억" reads as 5 × 10³ × 10⁸, the way it is said.
    """
    text = unicodedata.normalize("NFKC", text)
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for match in _ENGLISH.finditer(text):
        value = _number(match["n"]) * _ENGLISH_SCALE[match["e"].lower()]
        found.append(Quantity(value, match.group(), match.start(), match.end(), True,
                              _currency(text, match.start(), match.end()),
                              _duration(text, value, match.end())))
        taken.append((match.start(), match.end()))
    for match in _KOREAN.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        value, scaled = _korean_value(match.group())
        found.append(Quantity(value, match.group(), match.start(), match.end(), scaled,
                              _currency(text, match.start(), match.end()),
                              _duration(text, value, match.end())))
    return sorted(found, key=lambda q: q.start)


def figures(text: str) -> list[Quantity]:
    """The figures worth checking: amounts with a scale word, numbers of two or more
    digits, and spans of time ("6 years").

    A lone digit ("3 stages", "1/5") is too common to tell passages apart, but with a unit
    of time it must be stated as one: "6 years" is no reading of "6배".
    """
    return [q for q in find_quantities(text)
            if q.scaled or q.duration or len(re.sub(r"\D", "", q.written)) >= 2]


def same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)


def same_amount(a: Quantity, b: Quantity) -> bool:
    """The same value, in the same currency where both name one ("380 billion euros" is not
    3,800억 엔)."""
    return same_value(a.value, b.value) and (not a.currency or not b.currency
                                             or a.currency == b.currency)


def in_english(text: str) -> str:
    """`text` with Korean-scaled amounts rewritten with English scale words.

    "450억 엔(약 3억 달러)" becomes "45 billion 엔(약 300 million 달러)", so a model
    answering in English copies the amount instead of converting it (it wrote ten times the
    amount: 억 read as billions).
    """
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    last = 0
    for q in find_quantities(text):
        if not q.scaled or _ENGLISH.fullmatch(q.written):
            continue
        out.append(text[last:q.start])
        out.append(english_amount(q.value))
        last = q.end
    out.append(text[last:])
    return "".join(out)


def english_amount(value: float) -> str:
    """The amount with the largest English scale word that keeps it at one or more."""
    for scale, name in _ENGLISH_NAMES:
        if value >= scale:
            return f"{_plain(value / scale)} {name}"
    return f"{value:,.0f}" if value == int(value) else _plain(value)


def _korean_value(written: str) -> tuple[float, bool]:
    total = 0.0
    scaled = False
    for group in _GROUPS.finditer(written):
        scale = math.prod(_KOREAN_SCALE[c] for c in group["k"] or "")
        scaled = scaled or scale > 1
        total += _number(group["n"]) * scale
    return total, scaled


def _duration(text: str, value: float, end: int) -> bool:
    is_calendar_year = value.is_integer() and 1900 <= value < 2100
    return not is_calendar_year and _DURATION_AFTER.match(text, end) is not None


def _currency(text: str, start: int, end: int) -> str:
    if start and text[start - 1] in _CURRENCY_BEFORE:
        return _CURRENCY_BEFORE[text[start - 1]]
    match = _CURRENCY_AFTER.match(text, end)
    return next((code for code, word in match.groupdict().items() if word), "") if match else ""


def _number(written: str) -> float:
    return float(written.replace(",", ""))


def _plain(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")

