"""The learned scorer: the shipped model matches the knowledge, reads its own file, and scores imported topics."""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from rolebot.engine.engine import Engine
from rolebot.engine.features import FEATURES, char_grams
from rolebot.engine.scorer import load_model, model_from_json
from rolebot.kb.knowledge import import_files, training_fingerprint
from rolebot.store.store import Store


def test_shipped_model_is_trained_on_the_current_knowledge() -> None:
    assert load_model().fingerprint == training_fingerprint(), (
        "knowledge/ changed since the scorer was trained: run `python scripts/train.py` and commit the model"
    )


def test_model_round_trips_through_its_file(tmp_path: Path) -> None:
    model = load_model()
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False), encoding="utf-8")
    again = load_model(path)
    row = [0.5] * len(FEATURES)
    assert again.probability(row) == pytest.approx(model.probability(row))
    assert again.thresholds == model.thresholds


def test_calibration_is_a_monotone_map_into_probabilities() -> None:
    model = load_model()
    assert model.calibration[0], "the shipped model carries its calibration (scripts/train.py fits it)"
    ps = [i / 1000 for i in range(1001)]
    mapped = [model.calibrated(p) for p in ps]
    assert all(0.0 <= m <= 1.0 for m in mapped)
    assert all(b >= a for a, b in zip(mapped, mapped[1:], strict=False)), "a better fit never scores lower"
    assert mapped[-1] - mapped[0] > 0.9  # it still separates sure from unsure


def test_calibration_moves_the_reported_score_not_the_order(engine: Engine) -> None:
    raw = dataclasses.replace(engine.model, calibration=((), ()))
    _, _, rows = engine.pairs("营销和运营哪个更偏对外")
    assert len(rows) >= 2
    assert [raw.probability(r) for r in rows] == [engine.model.raw_probability(r) for r in rows]
    by_raw = sorted(range(len(rows)), key=lambda i: raw.probability(rows[i]))
    by_reported = sorted(range(len(rows)), key=lambda i: engine.model.probability(rows[i]))
    assert by_raw == by_reported
    assert any(raw.probability(r) != engine.model.probability(r) for r in rows)


def test_a_model_for_other_features_is_refused() -> None:
    data = load_model().to_json()
    data["features"] = [*FEATURES, "something-new"]
    with pytest.raises(ValueError, match="scripts/train.py"):
        model_from_json(data)


def test_probabilities_are_probabilities(engine: Engine) -> None:
    for text in ("营销和销售有什么区别", "运营岗位的工资高吗", "红烧肉怎么做", "4P"):
        _, found, rows = engine.pairs(text)
        for row in rows:
            assert 0.0 <= engine.model.probability(row) <= 1.0


def test_the_scorer_prefers_the_topic_that_answers(engine: Engine) -> None:
    _, found, rows = engine.pairs("做市场和做运营，新人选哪个更好")
    best = max(zip(found, rows, strict=True), key=lambda fr: engine.model.probability(fr[1]))[0]
    assert best.topic == "career-market-vs-operations"


def test_imported_topic_is_scored_without_retraining(store: Store, tmp_path: Path) -> None:
    """A topic the model never saw is found by a paraphrase, not only by its exact question."""
    rec = {
        "id": "brand-vs-marketing",
        "topic": "brand-vs-marketing",
        "question": "品牌部和营销部的分工有什么不同",
        "alternates": ["品牌部跟营销部怎么分工", "品牌部门和营销部门各管什么"],
        "answer": "品牌部守护长期的品牌形象与定位；营销部把它落到具体的推广和增长目标上。",
        "sources": [{"title": "测试来源"}],
    }
    path = tmp_path / "brand.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    import_files(store, [path])
    r = Engine(store).ask("品牌部门和营销部门的分工差在哪里")
    shown = [r.topic] if r.answered else [c["topic"] for c in r.candidates]
    assert shown and shown[0] == "brand-vs-marketing", (r.kind, r.candidates)


def _votes_from_file(data: dict[str, Any], text: str) -> dict[str, float]:
    """Return the classifier's P(topic) computed straight from the model file's numbers, as a reference."""
    idf, weights, classes = data["idf"], data["weights"], data["classes"]
    grams = {g: (1.0 + math.log(c)) * idf[g] for g, c in char_grams(text).items() if g in idf}
    norm = math.sqrt(sum(v * v for v in grams.values())) or 1.0
    z = list(data["bias"])
    for g, v in grams.items():
        for k, w in enumerate(weights[g]):
            z[k] += w * v / norm
    exp = [math.exp(x - max(z)) for x in z]
    return {c: e / sum(exp) for c, e in zip(classes, exp, strict=True)}


@pytest.mark.parametrize("text", ["营销和销售有什么区别", "用户运营做什么", "杠铃怎么保养", ""])
def test_classifier_held_as_a_matrix_votes_as_its_file_says(text: str) -> None:
    data = json.loads(resources.files("rolebot.engine").joinpath("model.json").read_text(encoding="utf-8"))
    classifier = load_model().classifier
    assert classifier is not None
    got = classifier.probabilities(text)
    want = _votes_from_file(data["classifier"], text)
    assert list(got) == list(want)
    assert got == pytest.approx(want, abs=1e-12)
    assert classifier.to_json() == data["classifier"]
