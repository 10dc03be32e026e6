"""Keyed JSON-lines caches on disk: LLM translations and glosses, kept between processes.

One object a line, `{"key": ..., <field>: ...}`, appended as results come; a later line
for a key wins. A damaged line is skipped with a warning, and a cache that cannot be
written only loses reuse in a later process, never the result at hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def read_cache(path: Path, field: str) -> dict[str, Any]:
    """key → the `field` value of every readable line of `path` (empty if it is absent)."""
    values: dict[str, Any] = {}
    path = Path(path)
    if not path.is_file():
        return values
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
                values[row["key"]] = row[field]
            except (json.JSONDecodeError, KeyError, TypeError):
                log.warning("skipping a damaged line in %s", path)
    return values


def append_cache(path: Path, field: str, values: Mapping[str, Any], what: str) -> None:
    """Append `values` (key → `field` value) to `path`; `what` names the cache in a warning."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            for key, value in values.items():
                f.write(json.dumps({"key": key, field: value}, ensure_ascii=False) + "\n")
    except OSError as exc:
        log.warning("cannot write the %s %s: %s", what, path, exc)
