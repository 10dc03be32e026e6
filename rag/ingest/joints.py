"""Line wraps inside Korean words: whether a wrapped line joins the next with a space.

A page layout may wrap Korean text between any two syllables, so a wrap between two
Hangul syllables is either a space the layout dropped ("기술 / 트렌드") or the middle of
a word ("예상되 / 며"). The document's own words decide first: a join that is written
as one word elsewhere in the document is one word. Otherwise Korean grammar decides
(Kiwi's spacing): a particle or ending joins its word, a new word gets its space.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Placed by a loader where a Hangul line wrap joins the next line; resolved here.
WRAP = "\u2028"
# A wrap may be followed by the mark of a page break (layout.PAGE_BREAK), kept in place.
_EDGE = re.compile(r"(\S*)\u2028(\u2029?)(\S*)")


def resolve_wraps(texts: Sequence[str]) -> list[str]:
    """`texts` with every WRAP mark replaced by a space or by nothing."""
    words = {_strip(w) for t in texts for w in re.split(rf"[\s{WRAP}]+", t) if w}
    pending: list[tuple[str, str]] = []
    for text in texts:
        for m in _EDGE.finditer(text):
            pending.append((m.group(1), m.group(3)))
    decisions: dict[tuple[str, str], bool] = {}
    for pair in pending:
        if _written_whole(pair, words):
            decisions[pair] = False
    ask = sorted(set(pending) - set(decisions))
    if ask:
        from ..bm25 import respace

        for (head, tail), spaced in zip(ask, respace([h + t for h, t in ask])):
            decisions[(head, tail)] = _space_at(spaced, len(head))
    out = []
    for text in texts:
        out.append(_EDGE.sub(lambda m: m.group(1) + (" " if decisions[(m.group(1), m.group(3))]
                                                      else "") + m.group(2) + m.group(3), text))
    return out


def _written_whole(pair: tuple[str, str], words: set[str]) -> bool:
    """Whether the document writes the joined word, or a word spanning the wrap with
    another particle after it ("보급확대" for "보급 / 확대가"), without a space."""
    head, tail = _strip(pair[0]), pair[1]
    joined = _strip(head + tail)
    return any(joined[:k] in words for k in range(len(head) + 2, len(joined) + 1))


def _strip(word: str) -> str:
    return word.strip(".,;:!?()[]“”‘’\"'·")


def _space_at(spaced: str, position: int) -> bool:
    """Whether Kiwi's spacing put a space where the original's `position`-th character ends."""
    seen = 0
    for ch in spaced:
        if ch == " ":
            if seen == position:
                return True
            continue
        seen += 1
        if seen > position:
            return False
    return False
