"""The ranker: P(this topic answers this question) from a pair's named features, and where to draw the lines.

The model is two files beside this module, written by scripts/train.py: `model.json` (feature names, the
featurizer's hash, seed, library versions, cross-validated figures, thresholds, trees, calibration, the
n-gram tables) and `classifier.npy` (the topic classifier's weights, in thousandths). A model whose
featurizer hash differs from the code's is refused in one line: the features it learnt from are not
the ones computed now.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rolebot.engine.classifier import TopicClassifier
from rolebot.engine.features import FEATURES, CharSpace, FeatureTable
from rolebot.errors import RolebotError

MODEL_FILE = "model.json"  # beside this module; rebuilt by scripts/train.py
WEIGHTS_FILE = "classifier.npy"  # beside the model file
ASPECTS_FILE = "aspects.npy"  # the aspect reader's weights, beside it too
# the code whose output the model learnt from: a change to any of these (but comments and docstrings) is a new featurizer
FEATURIZER_MODULES = ("features.py", "heuristic.py", "retriever.py")


class ModelMismatch(RolebotError):
    """The model file was trained for other features than the code computes."""


def featurizer_hash(sources: dict[str, str] | None = None) -> str:
    """Return a hash of the featurizer's code and hand weights, blind to comments, docstrings and layout."""
    if sources is None:
        here = resources.files("rolebot.engine")
        sources = {name: here.joinpath(name).read_text(encoding="utf-8") for name in FEATURIZER_MODULES}
    digest = hashlib.sha256()
    for name in sorted(sources):
        tree = ast.parse(sources[name])
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        digest.update(name.encode() + b"\0" + ast.dump(tree, annotate_fields=False).encode() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Thresholds:
    """Probabilities that separate the four outcomes (chosen by cross-validation in scripts/train.py)."""

    answer: float  # answer the best topic at or above this ...
    margin: float  # ... when the runner-up is at least this much lower
    choice: float  # otherwise offer the topics at or above this as a choice (two or three of them)
    related: float  # otherwise, for a question about our roles, show the nearest topics at or above this
    point: float = 1.01  # an answer leads with one of its topic's points that explains this share of the question
    point_margin: float = 0.0  # ... and this much more than any plain phrasing of the topic


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
    """Boosted trees (or a logistic regression) over named features, calibrated; the topic classifier beside it."""

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
    # a monotone map from the fitted probability to how often a best topic that likely is right (Platt scaling,
    # from cross-validation): the reported score then means what it says; empty: the fitted probability
    calibration: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    featurizer: str = ""  # featurizer_hash() of the code it was trained with
    card: dict[str, Any] = field(default_factory=dict)  # seed, library versions, cross-validated figures
    aspects: TopicClassifier | None = None  # what a question asks that no answer covers (salary, interview …)

    def probabilities(self, table: FeatureTable) -> list[float]:
        """Return P(answers) for every row of a feature table, its columns taken by name."""
        return [self.probability(r) for r in table.ordered(self.features)]

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
        """Return the model file's JSON part (the classifier's weights go to their own file)."""
        return {
            "featurizer": self.featurizer,
            "features": list(self.features),
            "card": self.card,
            "fingerprint": self.fingerprint,
            "thresholds": vars(self.thresholds),
            "calibration": {"x": list(self.calibration[0]), "y": list(self.calibration[1])},
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "trees": [vars(t) for t in self.trees],
            "off_topic": sorted(self.off_topic),
            "idf_default": self.space.default,
            "idf": self.space.idf,
            "classifier": self.classifier.header() if self.classifier else None,
            "aspects": self.aspects.header() if self.aspects else None,
        }


def write_model(model: Model, path: Path) -> None:
    """Write a model as its two files: JSON at `path`, the classifier's weights beside it."""
    path.write_text(_layout(model.to_json()), encoding="utf-8")
    if model.classifier:
        np.save(path.with_name(WEIGHTS_FILE), model.classifier.milli_weights(), allow_pickle=False)
    if model.aspects:
        np.save(path.with_name(ASPECTS_FILE), model.aspects.milli_weights(), allow_pickle=False)


def _layout(data: dict[str, object]) -> str:
    """Return the model's JSON with a line per field (a tree per line), so a retrained model diffs readably."""

    def one(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    lines = []
    for key, value in data.items():
        if key == "trees" and isinstance(value, list):
            inner = ",\n  ".join(one(tree) for tree in value)
            lines.append(f' "{key}": [\n  {inner}\n ]' if value else f' "{key}": []')
        elif key in ("card", "thresholds") and isinstance(value, dict):
            lines.append(
                f' "{key}": ' + json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).replace("\n", "\n ")
            )
        else:
            lines.append(f' "{key}": {one(value)}')
    return "{\n" + ",\n".join(lines) + "\n}\n"


def model_from_json(
    data: dict[str, Any],
    weights: np.ndarray[Any, Any] | None = None,
    check: bool = True,
    aspects: np.ndarray[Any, Any] | None = None,
) -> Model:
    """Return a model from its file's contents; refuses one made for other features (unless `check` is False)."""
    features = tuple(str(f) for f in data["features"])
    if check and (data.get("featurizer") != featurizer_hash() or not set(features) <= set(FEATURES)):
        raise ModelMismatch(
            "the ranker model was trained with other features than this code computes: retrain: scripts/train.py"
        )
    floats = {k: tuple(float(v) for v in data[k]) for k in ("mean", "scale", "coef")}
    clf = data.get("classifier")
    return Model(
        features=features,
        mean=floats["mean"],
        scale=floats["scale"],
        coef=floats["coef"],
        intercept=float(data["intercept"]),
        thresholds=Thresholds(**{k: float(v) for k, v in data["thresholds"].items()}),
        space=CharSpace({str(k): float(v) for k, v in data["idf"].items()}, float(data["idf_default"])),
        off_topic=frozenset(str(w) for w in data["off_topic"]),
        fingerprint=str(data["fingerprint"]),
        trees=tuple(
            Tree(**{k: tuple(t[k]) for k in ("feature", "threshold", "left", "right", "value")})
            for t in data.get("trees") or []
        ),
        classifier=TopicClassifier.from_header(clf, weights) if clf and weights is not None else None,
        calibration=_calibration(data.get("calibration")),
        featurizer=str(data.get("featurizer", "")),
        card=dict(data.get("card") or {}),
        aspects=TopicClassifier.from_header(data["aspects"], aspects)
        if data.get("aspects") and aspects is not None
        else None,
    )


def _calibration(data: dict[str, list[float]] | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return a model file's calibration points (none: the fitted probability is reported)."""
    if not data:
        return (), ()
    return tuple(float(x) for x in data["x"]), tuple(float(y) for y in data["y"])


def load_model(path: Path | None = None) -> Model:
    """Return the shipped model (or one from a file, with its classifier's weights beside it)."""
    if path is not None:
        found = [
            np.load(f, allow_pickle=False) if (f := path.with_name(n)).exists() else None
            for n in (WEIGHTS_FILE, ASPECTS_FILE)
        ]
        return model_from_json(json.loads(path.read_text(encoding="utf-8")), found[0], aspects=found[1])
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> Model:
    here = resources.files("rolebot.engine")
    with here.joinpath(WEIGHTS_FILE).open("rb") as f:
        weights = np.load(f, allow_pickle=False)
    aspects = None
    if here.joinpath(ASPECTS_FILE).is_file():
        with here.joinpath(ASPECTS_FILE).open("rb") as f:
            aspects = np.load(f, allow_pickle=False)
    data = json.loads(here.joinpath(MODEL_FILE).read_text(encoding="utf-8"))
    return model_from_json(data, weights, aspects=aspects)
