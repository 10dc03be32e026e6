"""Optional OCR of PDF pages without a text layer, by Debian's Tesseract (tesseract-ocr
with the Korean model tesseract-ocr-kor). Off where Tesseract is not installed."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from ..errors import CorpusError

log = logging.getLogger(__name__)
LANGUAGES = ("kor", "eng")
# Render pages at this resolution: Tesseract reads Hangul best at about 300 dpi.
DPI = 300
TIMEOUT_S = 120


@lru_cache(maxsize=1)
def tesseract_languages() -> tuple[str, ...]:
    """The language models the installed Tesseract has, () where it is not installed."""
    binary = shutil.which("tesseract")
    if not binary:
        return ()
    try:
        out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in out.splitlines()[1:] if line.strip())


def page_reader(mode: str) -> Callable[[object], str] | None:
    """A function reading one pypdfium2 page by OCR, or None when OCR is off.

    mode "auto" uses Tesseract where it has the Korean model; "on" requires it; "off"
    never reads by OCR.
    """
    if mode == "off":
        return None
    languages = [lang for lang in LANGUAGES if lang in tesseract_languages()]
    if "kor" not in languages:
        if mode == "on":
            raise CorpusError("OCR is on (RAG_OCR=on) but Tesseract with its Korean model "
                              "is not installed; run: apt-get install tesseract-ocr "
                              "tesseract-ocr-kor")
        return None
    return lambda page: read_page(page, "+".join(languages))


def read_page(page, languages: str = "kor+eng") -> str:
    """The text Tesseract reads on a rendered page, paragraphs separated by blank lines."""
    image = page.render(scale=DPI / 72).to_pil()
    with tempfile.TemporaryDirectory(prefix="rag-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        image.save(png)
        try:
            done = subprocess.run(["tesseract", str(png), "stdout", "-l", languages,
                                   "--psm", "3"], capture_output=True, text=True,
                                  timeout=TIMEOUT_S, check=True)
        except subprocess.TimeoutExpired as exc:
            raise CorpusError(f"OCR of a page took over {TIMEOUT_S} s; the page is left "
                              "unread") from exc
        except (OSError, subprocess.CalledProcessError) as exc:
            raise CorpusError(f"Tesseract failed on a page ({exc}); check the "
                              "tesseract-ocr install") from exc
    return _paragraphs(done.stdout)


def _paragraphs(text: str) -> str:
    """Tesseract's lines joined into paragraphs (its blank lines separate them)."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines:
            paragraphs.append(" ".join(lines))
    return "\n\n".join(paragraphs)
