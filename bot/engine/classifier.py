"""A topic classifier over character n-grams: which shipped topic a question's wording points to."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from rolebot.engine.features import NONE, char_grams

__all__ = ["NONE", "TopicClassifier"]


class TopicClassifier:
    """Multinomial logistic regression over sublinear TF-IDF of character 1–3-grams (fitted by scripts/train.py).

    It knows only the topics it was trained on; a topic imported later gets no vote from it, and the
    scorer (trained with topics held back from the classifier) falls back on the pair features.
    """

    def __init__(
        self,
        classes: Sequence[str],
        idf: Mapping[str, float],
        weights: Mapping[str, Sequence[float]],
        bias: Sequence[float],
    ) -> None:
        self.classes = tuple(classes)
        # one row of class weights per n-gram in a matrix: as a dict of tuples of floats it held ~15 MB
        self._row = {g: i for i, g in enumerate(weights)}
        self._matrix: npt.NDArray[np.float64] = np.array(
            [tuple(w) for w in weights.values()] or np.zeros((0, len(self.classes))), dtype=np.float64
        ).reshape(len(self._row), len(self.classes))
        self._idf = {g: float(v) for g, v in idf.items() if g in self._row}
        self.bias = tuple(float(b) for b in bias)

    @property
    def idf(self) -> dict[str, float]:
        """Return the IDF of each n-gram the classifier weighs."""
        return dict(self._idf)

    @property
    def weights(self) -> dict[str, tuple[float, ...]]:
        """Return each n-gram's weight per class."""
        return {g: tuple(float(x) for x in self._matrix[i]) for g, i in self._row.items()}

    def probabilities(self, text: str) -> dict[str, float]:
        """Return P(class) for a text (normalised words joined without spaces)."""
        grams = [(g, (1.0 + math.log(c)) * self._idf[g]) for g, c in char_grams(text).items() if g in self._idf]
        norm = math.sqrt(sum(v * v for _, v in grams)) or 1.0
        z = np.array(self.bias, dtype=np.float64)
        if grams:
            rows = self._matrix[[self._row[g] for g, _ in grams]]
            z = z + np.array([v / norm for _, v in grams]) @ rows
        top = float(z.max())
        exp = np.exp(z - top)
        total = float(exp.sum())
        return {c: float(e) / total for c, e in zip(self.classes, exp, strict=True)}

    def header(self) -> dict[str, object]:
        """Return what the model's JSON file holds of the classifier: classes, n-grams (weight rows), IDF, bias."""
        grams = sorted(self._row, key=self._row.__getitem__)
        return {
            "classes": list(self.classes),
            "grams": grams,
            "idf": [self._idf[g] for g in grams],
            "bias": list(self.bias),
            "weights": f"classifier.npy: int16 thousandths, {len(grams)} n-grams x {len(self.classes)} classes",
        }

    def milli_weights(self) -> npt.NDArray[np.int16]:
        """Return the weights in thousandths, the way the model file keeps them (training rounds them so)."""
        milli = np.rint(self._matrix * 1000)
        if np.abs(milli).max(initial=0) > np.iinfo(np.int16).max:
            raise ValueError("a classifier weight is beyond ±32.767: widen classifier.npy's type")
        return milli.astype(np.int16)

    @classmethod
    def from_header(cls, header: Mapping[str, Any], milli: npt.NDArray[Any]) -> TopicClassifier:
        """Return a classifier from the model file's header and its weights in thousandths."""
        grams = [str(g) for g in header["grams"]]
        if milli.shape != (len(grams), len(header["classes"])):
            raise ValueError(f"classifier.npy holds {milli.shape}, the model file names {len(grams)} n-grams")
        clf = cls.__new__(cls)
        clf.classes = tuple(str(c) for c in header["classes"])
        clf._row = {g: i for i, g in enumerate(grams)}
        clf._matrix = milli.astype(np.float64) / 1000.0
        clf._idf = {g: float(v) for g, v in zip(grams, header["idf"], strict=True)}
        clf.bias = tuple(float(b) for b in header["bias"])
        return clf
