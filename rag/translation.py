"""Translating English questions into Korean with the LLM, cached on disk.

The reports are Korean; BM25 cannot match English words to them and the small embedding
model matches across languages only loosely. A Korean rendering of the question lets both
retrievers work as they do for Korean questions. Translations are cached (memory, then a
JSON-lines file in the cache folder), so a repeated question costs nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from .glossary import Term

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "Translate the user's question into natural Korean, as a Korean analyst would ask it. "
    "Keep numbers, years and model names as they are. Output only the Korean question."
)
_VERSION = 1


class Translator:
    """English → Korean question translation with a persistent cache."""

    def __init__(self, generator: Any, cache_file: Path, max_tokens: int = 96) -> None:
        self._generator = generator
        self._cache_file = Path(cache_file)
        self._max_tokens = max_tokens
        self._lock = threading.Lock()
        self._cache: dict[str, str] = self._read_cache()

    def translate(self, question: str, glossary: list[Term] | tuple[Term, ...] = ()
                  ) -> tuple[str, bool]:
        """The Korean question, and whether it came from the cache."""
        key = f"{_VERSION}\t{getattr(self._generator, 'name', '')}\t{question}"
        with self._lock:
            if key in self._cache:
                return self._cache[key], True
        hints = ""
        if glossary:
            # The reports' own Korean forms make the translation match their words.
            pairs = "; ".join(f"{t.english} = {t.korean}" for t in glossary)
            hints = f"\nUse these Korean terms: {pairs}."
        messages = [{"role": "system", "content": SYSTEM_PROMPT + hints},
                    {"role": "user", "content": question}]
        text = "".join(self._generator.stream(messages, self._max_tokens)).strip()
        text = text.splitlines()[0].strip() if text else ""
        if not text:
            return question, False
        with self._lock:
            self._cache[key] = text
            self._append(key, text)
        return text, False

    def _read_cache(self) -> dict[str, str]:
        cache: dict[str, str] = {}
        if not self._cache_file.is_file():
            return cache
        with self._cache_file.open(encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                    cache[row["key"]] = row["text"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    log.warning("skipping a damaged line in %s", self._cache_file)
        return cache

    def _append(self, key: str, text: str) -> None:
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            with self._cache_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "text": text}, ensure_ascii=False) + "\n")
        except OSError as exc:
            # The translation is still used; only its reuse in a later process is lost.
            log.warning("cannot write the translation cache %s: %s", self._cache_file, exc)
