"""A topic classifier over character n-grams: which shipped topic a question's wording points to."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rolebot.engine.features import NONE, char_grams

__all__ = ["NONE", "TopicClassifier", "classifier_from_json"]


@dataclass(frozen=True)
class TopicClassifier:
    """Multinomial logistic regression over sublinear TF-IDF of character 1–3-grams (fitted by scripts/train.py).

    It knows only the topics it was trained on; a topic imported later gets no vote from it, and the
    scorer (trained with topics held back from the classifier) falls back on the pair features.
    """

    classes: tuple[str, ...]
    idf: dict[str, float]
    weights: dict[str, tuple[float, ...]]  # n-gram -> one weight per class
    bias: tuple[float, ...]

    def probabilities(self, text: str) -> dict[str, float]:
        """Return P(class) for a text (normalised words joined without spaces)."""
        grams = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in char_grams(text).items() if g in self.idf}
        norm = math.sqrt(sum(v * v for v in grams.values())) or 1.0
        z = list(self.bias)
        for g, v in grams.items():
            for k, w in enumerate(self.weights[g]):
                z[k] += w * v / norm
        top = max(z)
        exp = [math.exp(x - top) for x in z]
        total = sum(exp)
        return {c: e / total for c, e in zip(self.classes, exp, strict=True)}

    def to_json(self) -> dict[str, object]:
        """Return the classifier as the model file holds it."""
        return {
            "classes": list(self.classes),
            "idf": self.idf,
            "weights": {g: list(w) for g, w in self.weights.items()},
            "bias": list(self.bias),
        }


def classifier_from_json(data: dict[str, object]) -> TopicClassifier:
    """Return a classifier from its part of the model file."""
    return TopicClassifier(
        classes=tuple(str(c) for c in data["classes"]),  # type: ignore[attr-defined]
        idf={str(g): float(v) for g, v in data["idf"].items()},  # type: ignore[attr-defined]
        weights={str(g): tuple(float(x) for x in w) for g, w in data["weights"].items()},  # type: ignore[attr-defined]
        bias=tuple(float(b) for b in data["bias"]),  # type: ignore[attr-defined]
    )
