"""The learned scorer: P(this topic answers this question) from a pair's features, and where to draw the lines."""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rolebot.engine.classifier import TopicClassifier, classifier_from_json
from rolebot.engine.features import FEATURES, CharSpace

MODEL_FILE = "model.json"  # beside this module; rebuilt by scripts/train.py


@dataclass(frozen=True)
class Thresholds:
    """Probabilities that separate the four outcomes (chosen by cross-validation in scripts/train.py)."""

    answer: float  # answer the best topic at or above this ...
    margin: float  # ... when the runner-up is at least this much lower
    choice: float  # otherwise offer the topics at or above this as a choice (two or three of them)
    related: float  # otherwise, for a question about our roles, show the nearest topics at or above this


@dataclass(frozen=True)
class Tree:
    """One regression tree of a boosted ensemble, as flat node arrays (a leaf has feature -1)."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, row: list[float]) -> float:
        """Return the leaf value a row ends in."""
        node = 0
        while (f := self.feature[node]) >= 0:
            node = self.left[node] if row[f] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class Model:
    """A logistic regression over standardised features plus, optionally, boosted trees on the same features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    thresholds: Thresholds
    space: CharSpace
    off_topic: frozenset[str]  # words of questions we do not answer that the knowledge never uses
    fingerprint: str  # of the knowledge it was trained on (tests/test_scorer.py checks it is current)
    trees: tuple[Tree, ...] = ()  # when present, the log-odds are their sum and `intercept` is the baseline
    classifier: TopicClassifier | None = None
    # a monotone map from the fitted probability to how often a best topic that likely is right (isotonic,
    # from cross-validation): the reported score then means what it says; empty: the fitted probability
    calibration: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())

    def probability(self, row: list[float]) -> float:
        """Return P(answers) for one feature row."""
        return self.calibrated(self.raw_probability(row))

    def raw_probability(self, row: list[float]) -> float:
        """Return the fitted model's probability for one feature row, before calibration."""
        if self.trees:
            z = self.intercept + sum(t.predict(row) for t in self.trees)
        else:
            z = self.intercept + sum(
                c * (x - m) / s for c, x, m, s in zip(self.coef, row, self.mean, self.scale, strict=True)
            )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def calibrated(self, p: float) -> float:
        """Return a fitted probability through the calibration map (linear between its points)."""
        xs, ys = self.calibration
        if not xs:
            return p
        i = bisect.bisect_right(xs, p)
        if i == 0:
            return ys[0]
        if i == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (p - x0) / (x1 - x0) if x1 > x0 else y1

    def to_json(self) -> dict[str, object]:
        """Return the model as its file holds it."""
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "thresholds": vars(self.thresholds),
            "idf": self.space.idf,
            "idf_default": self.space.default,
            "off_topic": sorted(self.off_topic),
            "fingerprint": self.fingerprint,
            "trees": [vars(t) for t in self.trees],
            "classifier": self.classifier.to_json() if self.classifier else None,
            "calibration": {"x": list(self.calibration[0]), "y": list(self.calibration[1])},
        }


def model_from_json(data: dict[str, object]) -> Model:
    """Return a model from its file's contents; refuses one made for other features."""
    features = tuple(str(f) for f in data["features"])  # type: ignore[attr-defined]
    if features != FEATURES:
        raise ValueError("the scorer model was trained on other features: run scripts/train.py")
    floats = {k: tuple(float(v) for v in data[k]) for k in ("mean", "scale", "coef")}  # type: ignore[attr-defined]
    idf = {str(k): float(v) for k, v in data["idf"].items()}  # type: ignore[attr-defined]
    return Model(
        features=features,
        mean=floats["mean"],
        scale=floats["scale"],
        coef=floats["coef"],
        intercept=float(data["intercept"]),  # type: ignore[arg-type]
        thresholds=Thresholds(**{k: float(v) for k, v in data["thresholds"].items()}),  # type: ignore[attr-defined]
        space=CharSpace(idf, float(data["idf_default"])),  # type: ignore[arg-type]
        off_topic=frozenset(str(w) for w in data["off_topic"]),  # type: ignore[attr-defined]
        fingerprint=str(data["fingerprint"]),
        trees=tuple(
            Tree(**{k: tuple(t[k]) for k in ("feature", "threshold", "left", "right", "value")})
            for t in data.get("trees") or []  # type: ignore[attr-defined]
        ),
        classifier=classifier_from_json(data["classifier"]) if data.get("classifier") else None,  # type: ignore[arg-type]
        calibration=_calibration(data.get("calibration")),  # type: ignore[arg-type]
    )


def _calibration(data: dict[str, list[float]] | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return a model file's calibration points (none in a file written before calibration existed)."""
    if not data:
        return (), ()
    return tuple(float(x) for x in data["x"]), tuple(float(y) for y in data["y"])


def load_model(path: Path | None = None) -> Model:
    """Return the shipped model (or one from a file)."""
    if path is not None:
        return model_from_json(json.loads(path.read_text(encoding="utf-8")))
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> Model:
    text = resources.files("rolebot.engine").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return model_from_json(json.loads(text))
