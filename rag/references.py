"""Reference lists: the part of a report that names its sources rather than saying anything.

A report ends with a bibliography ("참고문헌", "References"): titles, publishers, years and
URLs, mostly in English. Those lines share many words with an English question ("Germany",
"electric vehicle", "2024") and none of its answer, so without a translation they outrank the
Korean sentence that answers it (own set, English questions, no lexicon or translation:
Recall@1 0.35 hybrid, 0.52 with reference passages at half weight). So for an English
question searched by its English words alone (rag.retrieval.english_words_alone) their
passages weigh less, unless it asks about the sources themselves ("which author is
cited…", "참고문헌에 인용된…").

The Korean and English words for a reference list and for citing are facts of the two
languages, not of any corpus. The sentence scorer (rag.answer) and the citation check
(rag.citations) read bibliography passages through the same two functions.
"""

from __future__ import annotations

import re

# A section heading that names a reference list, alone or after a number ("5. 참고문헌",
# "Ⅴ. References").
_HEADING = re.compile(
    r"^\s*(?:[\dⅠ-Ⅻ]+[.)]?\s*)?(?:참\s*고\s*문\s*헌|참\s*고\s*자\s*료|인\s*용\s*문\s*헌|"
    r"문\s*헌\s*목\s*록|references?|bibliography|works\s+cited|literature\s+cited|"
    r"sources)\s*$",
    re.IGNORECASE)
# A question about sources, for which bibliography entries and footnotes are evidence like
# any other sentence ("open-source" is no such word).
_ASKS = re.compile(
    r"출처|인용|참고\s*문헌|각주|근거\s*(?:문서|자료)"
    r"|(?<![-\w])(?:sources?|cit(?:e|es|ed|ing|ation)|references?|footnotes?|bibliography)\b",
    re.IGNORECASE)


def in_references(section: str) -> bool:
    """Whether a passage's section path ("참고문헌", "부록 › References") lies in a
    reference list: any level of the path is a reference-list heading."""
    return any(_HEADING.match(part) for part in section.split("›") if part.strip())


def asks_about_sources(question: str) -> bool:
    """Whether a question asks about what the report cites (its reference list, notes)."""
    return bool(_ASKS.search(question))
