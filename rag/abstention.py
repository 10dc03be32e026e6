"""Whether the passages answer a question: a confidence fitted on labelled questions.

The evidence features (rag.answer.Evidence) hold for any corpus: how much of the
question's IDF-weighted vocabulary the best passage and the best sentence hold, how similar
the best sentence and passage are to it, whether one of its names is in no passage, and
whether it asks for a kind of answer (a date, a figure) that no sentence gives beside its
names. A logistic regression over them gives the probability that the question is answered
by the passages; the answer abstains below `Config.abstain_min_confidence`.

The weights are in abstention_model.json, written by bench/fit_abstention.py from the
evaluation runs of two corpora (the project's question set, and KorQuAD dev articles with
held-out documents, whose questions no passage answers), fitted on one split of each and
reported on the other. The similarities are the embedding model's own, so the weights
hold for the model they were fitted with; with another, the rules decide. English
questions differ (their words are not in Korean reports), so each similarity and overlap
feature has a separate weight per language, and the model decides only for the languages
it was fitted on (`languages`; the shipped one: Korean, docs/tuning.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

MODEL_PATH = Path(__file__).with_name("abstention_model.json")
MODEL_VERSION = 1

# Evidence fields read per language (the same number means less for an English question).
_PER_LANGUAGE = ("coverage", "best_sentence", "top_passage", "best_overlap")


def features_of(evidence: Mapping[str, Any], language: str) -> dict[str, float]:
    """The model's inputs from an Evidence (as rag.answer writes it in `search.evidence`)
    and the question's language ("ko", or anything else for a question in English)."""
    english = 0.0 if language == "ko" else 1.0
    out = {"english": english}
    for name in _PER_LANGUAGE:
        value = float(evidence.get(name) or 0.0)
        out[f"{name}_ko"] = value * (1 - english)
        out[f"{name}_en"] = value * english
    out["missing_name"] = 1.0 if evidence.get("missing_names") else 0.0
    out["has_names"] = 1.0 if evidence.get("names") else 0.0
    kind = bool(evidence.get("kind"))
    out["asks_kind"] = 1.0 if kind else 0.0
    out["kind_missing"] = 1.0 if kind and not evidence.get("kind_given", True) else 0.0
    out["kind_far"] = 1.0 if kind and not evidence.get("kind_near", True) else 0.0
    return out


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression weights over standardised features."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float
    fitted_on: Mapping[str, Any]
    # The question languages it was fitted on and decides for ("ko", "en"); the rules
    # decide for the others.
    languages: tuple[str, ...] = ("ko",)

    @property
    def embedder(self) -> str | None:
        """The embedding model whose similarities the weights were fitted on."""
        return self.fitted_on.get("model")

    def covers(self, language: str) -> bool:
        """Whether the model decides for questions in this language."""
        return ("ko" if language == "ko" else "en") in self.languages

    def confidence(self, evidence: Mapping[str, Any], language: str) -> float:
        """The fitted probability that the passages answer the question."""
        x = features_of(evidence, language)
        z = self.bias + sum(w * (x[f] - m) / s for f, w, m, s in
                            zip(self.features, self.weights, self.means, self.scales))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {"version": MODEL_VERSION, "features": list(self.features),
                "weights": list(self.weights), "bias": self.bias, "means": list(self.means),
                "scales": list(self.scales), "threshold": self.threshold,
                "languages": list(self.languages), "fitted_on": dict(self.fitted_on)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfidenceModel:
        if data.get("version") != MODEL_VERSION:
            raise ConfigError(f"abstention model version {data.get('version')!r} is not "
                              f"{MODEL_VERSION}; refit it with bench/fit_abstention.py")
        features = tuple(data["features"])
        known = set(features_of({}, "ko"))
        if set(features) - known:
            raise ConfigError(f"abstention model uses unknown features "
                              f"{sorted(set(features) - known)}; refit it with "
                              "bench/fit_abstention.py")
        sizes = {len(features), len(data["weights"]), len(data["means"]), len(data["scales"])}
        if len(sizes) != 1 or any(s <= 0 for s in data["scales"]):
            raise ConfigError("abstention model is malformed (feature, weight, mean and "
                              "scale counts differ, or a scale is not positive); refit it")
        languages = tuple(data.get("languages") or ())
        if not languages or set(languages) - {"ko", "en"}:
            raise ConfigError(f"abstention model languages {list(languages)} must be some of "
                              "ko and en; refit it with bench/fit_abstention.py")
        return cls(features, tuple(map(float, data["weights"])), float(data["bias"]),
                   tuple(map(float, data["means"])), tuple(map(float, data["scales"])),
                   float(data["threshold"]), data.get("fitted_on", {}), languages)


@cache
def load_model(path: Path = MODEL_PATH) -> ConfidenceModel:
    """The fitted model shipped with the package (read once)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the abstention model {path}: {exc}; reinstall the "
                          "package or refit it with bench/fit_abstention.py") from exc
    return ConfidenceModel.from_dict(data)
