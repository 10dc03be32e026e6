"""Reference lists: the part of a report that names its sources rather than saying anything.

A report ends with a bibliography ("참고문헌", "References"): titles, publishers, years and
URLs, mostly in English. Those lines share many words with an English question ("China",
"generative AI", "2025") and none of its answer, so without a translation they outrank the
Korean sentence that answers it (own set, English questions, no lexicon or translation:
Recall@1 0.35 hybrid, 0.52 with reference passages at half weight). So for an English
question searched by its English words alone (rag.retrieval.english_words_alone) their
passages weigh less, unless it asks about the sources themselves ("which author is
cited…", "참고문헌에 인용된…").

The Korean and English words for a reference list and for citing are facts of the two
languages, not of any corpus.
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
# Words by which a question asks about the sources a report cites.
_ASKS = re.compile(
    r"참고\s*문헌|참고\s*자료|인용(?:된|한|하|되)|출처|문헌|\bcit(?:e|es|ed|ing|ation)s?\b|"
    r"\breferences?\b|\bbibliograph|\bsources?\b|\barxiv\b|\bdoi\b",
    re.IGNORECASE)


def is_reference_section(section: str) -> bool:
    """Whether a passage's section path ("참고문헌", "부록 › References") lies in a
    reference list: any level of the path is a reference-list heading."""
    return any(_HEADING.match(part) for part in section.split("›") if part.strip())


def asks_about_sources(question: str) -> bool:
    """Whether a question asks about what the report cites (its reference list)."""
    return bool(_ASKS.search(question))
