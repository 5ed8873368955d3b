"""The learned scorer: the shipped model matches the knowledge, reads its own file, and scores imported topics."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rolebot.engine import ranker
from rolebot.engine.engine import Engine
from rolebot.engine.features import FEATURES, char_grams
from rolebot.engine.ranker import (
    FEATURIZER_MODULES,
    ModelMismatch,
    featurizer_hash,
    load_model,
    model_from_json,
    write_model,
)
from rolebot.kb.knowledge import import_files, training_fingerprint
from rolebot.store.store import Store
from rolebot.terminal import cli


def test_shipped_model_is_trained_on_the_current_knowledge() -> None:
    assert load_model().fingerprint == training_fingerprint(), (
        "knowledge/ changed since the scorer was trained: run `python scripts/train.py` and commit the model"
    )


def test_model_round_trips_through_its_file(tmp_path: Path) -> None:
    model = load_model()
    path = tmp_path / "model.json"
    write_model(model, path)
    again = load_model(path)
    row = [0.5] * len(FEATURES)
    assert again.probability(row) == model.probability(row)
    assert again.thresholds == model.thresholds and again.card == model.card
    assert again.classifier is not None and model.classifier is not None
    assert again.classifier.probabilities("营销和销售") == model.classifier.probabilities("营销和销售")
    assert again.aspects is not None and model.aspects is not None
    assert again.aspects.probabilities("运营工资多少") == model.aspects.probabilities("运营工资多少")


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
    rows = engine.pairs("营销和运营哪个更偏对外")[2].rows
    assert len(rows) >= 2
    assert [raw.probability(r) for r in rows] == [engine.model.raw_probability(r) for r in rows]
    by_raw = sorted(range(len(rows)), key=lambda i: raw.probability(rows[i]))
    by_reported = sorted(range(len(rows)), key=lambda i: engine.model.probability(rows[i]))
    assert by_raw == by_reported
    assert any(raw.probability(r) != engine.model.probability(r) for r in rows)


def test_a_model_for_other_features_is_refused() -> None:
    data = load_model().to_json()
    data["features"] = [*FEATURES, "something-new"]
    with pytest.raises(ModelMismatch, match="scripts/train.py"):
        model_from_json(data)


def test_probabilities_are_probabilities(engine: Engine) -> None:
    for text in ("营销和销售有什么区别", "运营岗位的工资高吗", "红烧肉怎么做", "4P"):
        _, found, table = engine.pairs(text)
        for row in table.rows:
            assert 0.0 <= engine.model.probability(row) <= 1.0


def test_the_scorer_prefers_the_topic_that_answers(engine: Engine) -> None:
    _, found, table = engine.pairs("做市场和做运营，新人选哪个更好")
    probs = engine.model.probabilities(table)
    best = max(zip(found, probs, strict=True), key=lambda fp: fp[1])[0]
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


def _votes_from_file(header: dict[str, Any], milli: Any, text: str) -> dict[str, float]:
    """Return the classifier's P(topic) computed straight from the model's files, as a reference."""
    idf = dict(zip(header["grams"], header["idf"], strict=True))
    row = {g: i for i, g in enumerate(header["grams"])}
    grams = {g: (1.0 + math.log(c)) * idf[g] for g, c in char_grams(text).items() if g in idf}
    norm = math.sqrt(sum(v * v for v in grams.values())) or 1.0
    z = list(header["bias"])
    for g, v in grams.items():
        for k, w in enumerate(milli[row[g]]):
            z[k] += int(w) / 1000 * v / norm
    exp = [math.exp(x - max(z)) for x in z]
    return {c: e / sum(exp) for c, e in zip(header["classes"], exp, strict=True)}


@pytest.mark.parametrize("text", ["营销和销售有什么区别", "用户运营做什么", "杠铃怎么保养", ""])
def test_classifier_held_as_a_matrix_votes_as_its_files_say(text: str) -> None:
    here = resources.files("rolebot.engine")
    data = json.loads(here.joinpath("model.json").read_text(encoding="utf-8"))
    with here.joinpath("classifier.npy").open("rb") as f:
        milli = np.load(f)
    classifier = load_model().classifier
    assert classifier is not None
    got = classifier.probabilities(text)
    want = _votes_from_file(data["classifier"], milli, text)
    assert list(got) == list(want)
    assert got == pytest.approx(want, abs=1e-12)
    assert classifier.header() == data["classifier"]


def test_the_model_file_describes_itself() -> None:
    data = json.loads(resources.files("rolebot.engine").joinpath("model.json").read_text(encoding="utf-8"))
    assert data["featurizer"] == featurizer_hash() and data["features"] == list(FEATURES)
    card = data["card"]
    assert isinstance(card["seed"], int) and {"numpy", "scikit-learn", "python"} <= set(card["libraries"])
    assert {"top1", "oos_declined", "wrong"} <= set(card["cross_validated"])


def _featurizer_sources() -> dict[str, str]:
    here = resources.files("rolebot.engine")
    return {name: here.joinpath(name).read_text(encoding="utf-8") for name in FEATURIZER_MODULES}


def test_the_featurizer_hash_follows_code_and_hand_weights_not_comments() -> None:
    sources = _featurizer_sources()
    assert featurizer_hash(sources) == featurizer_hash()
    weights = dict(
        sources, **{"heuristic.py": sources["heuristic.py"].replace("entities: float = 0.35", "entities: float = 0.36")}
    )
    assert weights != sources and featurizer_hash(weights) != featurizer_hash()
    feature = dict(
        sources,
        **{
            "features.py": sources["features.py"].replace(
                "min(len(query.norm.text), 40) / 40", "min(len(query.norm.text), 50) / 50"
            )
        },
    )
    assert feature != sources and featurizer_hash(feature) != featurizer_hash()
    comment = dict(
        sources,
        **{
            "features.py": "# a new comment\n"
            + sources["features.py"].replace('"""What the learned', '"""What the ranker')
        },
    )
    assert featurizer_hash(comment) == featurizer_hash()


def test_a_featurizer_change_without_retraining_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sources = _featurizer_sources()
    changed = dict(
        sources, **{"heuristic.py": sources["heuristic.py"].replace("fuzzy: float = 0.15", "fuzzy: float = 0.2")}
    )
    monkeypatch.setattr(ranker, "featurizer_hash", lambda sources=None, _h=featurizer_hash(changed): _h)
    ranker._shipped.cache_clear()
    try:
        with pytest.raises(ModelMismatch) as refused:
            load_model()
        assert "\n" not in str(refused.value) and str(refused.value).endswith("retrain: scripts/train.py")
        monkeypatch.setenv("ROLEBOT_DB", str(tmp_path / "r.db"))
        monkeypatch.setattr(sys, "argv", ["rolebot", "ask", "营销是什么"])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code not in (0, None)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and err[0].endswith("retrain: scripts/train.py"), err
    finally:
        ranker._shipped.cache_clear()


def test_exported_trees_give_scikit_learns_probabilities() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn is in the test extra; this checks train.py's tree export")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import train

    rng = np.random.default_rng(3)
    rows = rng.random((600, len(FEATURES)))
    labels = (rows[:, 0] + 0.5 * rows[:, 3] - rows[:, 9] + 0.2 * rng.standard_normal(600) > 0.3).astype(int)
    gb = train.fit_trees(rows.tolist(), labels.tolist())
    base = load_model()
    model = dataclasses.replace(
        base, trees=train.export_trees(gb), intercept=float(gb._baseline_prediction.ravel()[0]), calibration=((), ())
    )
    sample = rng.random((200, len(FEATURES)))
    theirs = gb.predict_proba(sample)[:, 1]
    ours = [model.raw_probability(r) for r in sample.tolist()]
    assert ours == pytest.approx(theirs.tolist(), abs=1e-9)
    train.check_export(model, gb, sample.tolist())
    first = model.trees[0]
    broken = dataclasses.replace(
        model, trees=(dataclasses.replace(first, value=tuple(v + 1 for v in first.value)), *model.trees[1:])
    )
    with pytest.raises(SystemExit, match="differ"):
        train.check_export(broken, gb, sample.tolist())
