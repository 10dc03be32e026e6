"""The fitted abstention confidence: its features, its file, and the shipped model."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from rag.abstention import MODEL_PATH, ConfidenceModel, features_of, load_model
from rag.answer import Evidence
from rag.config import Config
from rag.errors import ConfigError


def _evidence(**changes: object) -> dict:
    base = Evidence(coverage=0.8, best_sentence=0.86, top_passage=0.84, best_overlap=0.7,
                    names=1)
    return {**asdict(base), **changes}


def test_features_split_similarities_by_language() -> None:
    ko = features_of(_evidence(), "ko")
    en = features_of(_evidence(), "en")
    assert ko["coverage_ko"] == 0.8 and ko["coverage_en"] == 0.0 and ko["english"] == 0.0
    assert en["coverage_en"] == 0.8 and en["coverage_ko"] == 0.0 and en["english"] == 1.0
    assert set(ko) == set(en)


def test_features_flag_missing_names_and_an_absent_kind() -> None:
    x = features_of(_evidence(missing_names=["Hanbit Bank"], kind="number",
                              kind_given=False), "ko")
    assert x["missing_name"] == 1.0 and x["asks_kind"] == 1.0 and x["kind_missing"] == 1.0
    given = features_of(_evidence(kind="date", kind_given=True), "ko")
    assert given["asks_kind"] == 1.0 and given["kind_missing"] == 0.0
    assert features_of(_evidence(names=0), "ko")["has_names"] == 0.0


def test_features_of_an_empty_evidence_are_zero_but_the_language() -> None:
    x = features_of({}, "en")
    assert x.pop("english") == 1.0
    assert set(x.values()) == {0.0}


def _model(**changes: object) -> dict:
    names = list(features_of({}, "ko"))
    data = {"version": 1, "features": names, "weights": [0.0] * len(names),
            "bias": 0.0, "means": [0.0] * len(names), "scales": [1.0] * len(names),
            "threshold": 0.5, "languages": ["ko", "en"], "fitted_on": {"runs": ["made-up"]}}
    return {**data, **changes}


def test_model_round_trips_and_computes_a_probability() -> None:
    names = list(features_of({}, "ko"))
    weights = [2.0 if n == "coverage_ko" else 0.0 for n in names]
    model = ConfidenceModel.from_dict(_model(weights=weights))
    assert ConfidenceModel.from_dict(model.to_dict()) == model
    assert model.confidence(_evidence(coverage=0.0), "ko") == pytest.approx(0.5)
    assert model.confidence(_evidence(coverage=1.0), "ko") == pytest.approx(0.8808, abs=1e-4)
    # An English question does not read the Korean coverage weight.
    assert model.confidence(_evidence(coverage=1.0), "en") == pytest.approx(0.5)
    korean = ConfidenceModel.from_dict(_model(languages=["ko"]))
    assert korean.covers("ko") and not korean.covers("en")


@pytest.mark.parametrize("changes, message", [
    ({"version": 0}, "version"),
    ({"features": ["coverage_ko", "shoe_size"]}, "unknown features"),
    ({"scales": [0.0] * len(features_of({}, "ko"))}, "malformed"),
    ({"weights": [1.0]}, "malformed"),
    ({"languages": []}, "languages"),
    ({"languages": ["ko", "ja"]}, "languages"),
])
def test_model_file_is_checked(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ConfidenceModel.from_dict(_model(**changes))


def test_unreadable_model_file_says_what_to_do(tmp_path) -> None:
    path = tmp_path / "model.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"refit it with bench/fit_abstention\.py"):
        load_model(path)


def test_shipped_model_threshold_is_the_default_setting() -> None:
    model = load_model()
    assert Config().abstain_min_confidence == model.threshold
    assert json.loads(MODEL_PATH.read_text(encoding="utf-8"))["fitted_on"]["runs"]
    assert model.embedder == Config().model


def test_shipped_model_tells_strong_evidence_from_a_missing_name() -> None:
    model = load_model()
    strong = _evidence(coverage=1.0, best_sentence=0.9, top_passage=0.88, best_overlap=1.0)
    weak = _evidence(coverage=0.2, best_sentence=0.78, top_passage=0.77, best_overlap=0.2,
                     missing_names=["Hanbit Bank"])
    assert model.covers("ko") and model.languages
    for language in model.languages:
        assert model.confidence(strong, language) >= model.threshold
        assert model.confidence(weak, language) < model.threshold


@pytest.mark.parametrize("changes", [{"abstention": "vibes"},
                                     {"abstain_min_confidence": 1.5}])
def test_abstention_settings_are_validated(changes: dict) -> None:
    with pytest.raises(ConfigError):
        Config(**changes)
