"""Citation markers: "[2]" or "[1, 3]" after a claim names the passages it came from.

One pattern for every reader of answers (the citation check, the renderers), and the one
rewrite that keeps a bracketed number the report itself prints from reading as a marker.
"""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def as_report_text(text: str) -> str:
    """`text` with its own bracketed numbers ("[1]", a reference mark) in full-width
    brackets (［1］): still visible as the report prints them, never a citation marker."""
    return MARKER.sub(lambda m: f"［{m.group(1)}］", text)
