"""Points: the specific claims of a topic, and which one (if any) a question answered by that topic asks for.

The ranker decides which topic answers; a point then lets the reply lead with the claim asked about (a
verdict, a metaphor, an organisational detail …) instead of only the topic's general answer. A point is
read from words: the rarity-weighted share of the question's words (roles aside) that the point's text and
questions use. The answer leads with the best point when that share reaches the model's `point` line and
beats every plain phrasing of the topic by its `point_margin` (both chosen by scripts/train.py on the
claims' held-out questions and the topics' own phrasings).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable

from rolebot.engine.cache import Recent
from rolebot.language import segment
from rolebot.language.normalize import normalize
from rolebot.language.vocabulary import Vocabulary
from rolebot.store.schema import Point

KEPT_PHRASINGS = 20_000  # plain phrasings read into words


class Points:
    """The points of every topic with the words they use, and how telling each word is among all points."""

    def __init__(self, points: list[Point], vocab: Vocabulary) -> None:
        self.vocab = vocab
        self._by_topic: dict[str, list[Point]] = {}
        for p in points:
            if p.asks:
                self._by_topic.setdefault(p.topic, []).append(p)
        self._words: dict[tuple[str, str], frozenset[str]] = {}  # (point id, text) → its content words
        self._idf: dict[str, float] | None = None
        self._cut: Recent[tuple[str, ...], frozenset[str]] = Recent(KEPT_PHRASINGS)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_topic.values())

    def words(self, text: str) -> frozenset[str]:
        """Return a text's content words but roles, as the engine cuts it."""
        return self.content(tuple(segment.words(normalize(text, self.vocab).text)))

    def content(self, words: tuple[str, ...]) -> frozenset[str]:
        """Return the content words but roles of words already cut (a stored phrasing's, kept: they recur)."""
        hit = self._cut.get(words)
        if hit is None:
            hit = self._cut.put(
                words, frozenset(w for w in segment.content(list(words), self.vocab) if w not in self.vocab.roles)
            )
        return hit

    def _texts(self, point: Point) -> list[tuple[str, frozenset[str]]]:
        """Return a point's texts (its claim and its questions) with their words."""
        out = []
        for text in (point.text, *point.asks):
            key = (point.id, text)
            hit = self._words.get(key)
            if hit is None:
                hit = self._words.setdefault(key, self.words(text))
            out.append((text, hit))
        return out

    def idf(self) -> dict[str, float]:
        """Return each word's rarity among the points (made at first use)."""
        if self._idf is None:
            df: Counter[str] = Counter()
            for points in self._by_topic.values():
                for p in points:
                    df.update(frozenset().union(*(w for _, w in self._texts(p))))
            n = len(self)
            with self._lock:
                self._idf = {w: math.log((n + 1) / (k + 0.5)) for w, k in df.items()}
        return self._idf

    def share(self, asked: Iterable[str], have: frozenset[str]) -> float:
        """Return the rarity-weighted share of the asked words that `have` holds."""
        idf = self.idf()
        top = math.log(len(self) + 2)
        asked = [w for w in set(asked) if w not in self.vocab.roles]
        total = sum(idf.get(w, top) for w in asked)
        return sum(idf.get(w, top) for w in asked if w in have) / total if total else 0.0

    def scored(
        self, asked: frozenset[str], topic: str, hidden: frozenset[str] = frozenset()
    ) -> list[tuple[float, Point]]:
        """Return a topic's points by how much of the question their words explain, best first."""
        out = []
        for point in self._by_topic.get(topic, []):
            have = frozenset().union(*(w for t, w in self._texts(point) if t not in hidden))
            out.append((self.share(asked, have), point))
        out.sort(key=lambda sp: sp[0], reverse=True)
        return out

    def plain(self, asked: frozenset[str], phrasings: list[frozenset[str]]) -> float:
        """Return how much of the question the closest plain phrasing of the topic explains."""
        return max((self.share(asked, p) for p in phrasings), default=0.0)

    def best(
        self, content: Iterable[str], topic: str, phrasings: list[frozenset[str]], line: float, margin: float
    ) -> Point | None:
        """Return the point a question answered by `topic` asks for, or None when none reads close enough."""
        asked = frozenset(w for w in content if w not in self.vocab.roles)
        scored = self.scored(asked, topic)
        if not scored or scored[0][0] < line:
            return None
        return scored[0][1] if scored[0][0] - self.plain(asked, phrasings) >= margin else None
