"""The live engine: the current pipeline over a store, rebuilt when the knowledge changes, and an answer cache.

The parts, in the order a question meets them (each its own module, testable alone):
  snapshot.py   the knowledge at one version: shipped phrasings held in memory, word counts, entries, profiles
  retriever.py  the shortlist: BM25 per source, the hand-made phrasing score (heuristic.py), the best topics
  features.py   the featurizer: named features of each (question, shortlisted topic) pair
  ranker.py     the model: P(the topic answers the question), calibrated; its file refuses other features
  policy.py     the thresholds and the few rules: answer, choice, related or decline
  points.py     which claim of the answering topic the question asks for, to lead the answer with
  pipeline.py   those parts composed for one snapshot, and the result a decision makes (result.py)
"""

from __future__ import annotations

import threading
import time

from rolebot.engine.cache import Recent
from rolebot.engine.features import FeatureTable, Shortlisted
from rolebot.engine.heuristic import PhrasingScorer, Roles
from rolebot.engine.pipeline import Pipeline
from rolebot.engine.points import Points
from rolebot.engine.ranker import Model, load_model
from rolebot.engine.result import OUTCOMES, Result, copy_result
from rolebot.engine.snapshot import Snapshot
from rolebot.language import segment
from rolebot.language.normalize import Normalized, clean
from rolebot.language.script import SIMPLIFIED_READER, Reader
from rolebot.language.understand import Query
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.schema import FaqRow, FollowUp, Links, Point
from rolebot.store.store import Store

__all__ = ["ANSWER_CACHE", "OUTCOMES", "Engine", "Result"]

ANSWER_CACHE = 2048  # answers kept per engine: the questions asked again and again (LRU)
FRESH_EVERY = 1.0  # seconds between looks at whether another connection changed the knowledge


class Engine:
    """Answers questions from one store, always from the knowledge as it is now; safe to call from worker threads."""

    def __init__(
        self,
        store: Store,
        vocab: Vocabulary | None = None,
        model: Model | None = None,
        lazy: bool = False,
        points: list[Point] | None = None,
    ) -> None:
        """Serve from a store; `lazy` loads jieba at the first question that needs cutting, not now (`rolebot ask`).

        `points` are the claims an answer may lead with (the shipped knowledge's, from the kb layer)."""
        self.store = store
        self.model = model or load_model()
        self.vocab = vocab or vocabulary()
        segment.prepare(self.vocab, now=not lazy)
        roles = Roles(self.vocab)
        self._scorer = PhrasingScorer(self.vocab, roles)  # kept across knowledge versions: it reads words only
        self._roles = roles
        self.points = Points(points, self.vocab) if points else None
        self._pipeline = self._build()
        self._data_version = store.data_version()
        self._checked = time.monotonic()
        # answers by cleaned question: reader, normalised words and exact keys are all made from it
        self._answers: Recent[str, Result] = Recent(ANSWER_CACHE)
        self._lock = threading.Lock()  # a new pipeline and the keeping of an answer computed with the old one
        self.cache_hits = 0

    def _build(self) -> Pipeline:
        """Return a pipeline over the store's knowledge as it is now."""
        snapshot = Snapshot(self.store, self.vocab, self.model.space)
        return Pipeline(snapshot, self.model, self._scorer, self._roles, self.points)

    @property
    def pipeline(self) -> Pipeline:
        """Return the pipeline of the knowledge as it is now (another connection's import is seen within a second)."""
        now = time.monotonic()
        if now - self._checked >= FRESH_EVERY:
            self._checked = now
            version = self.store.data_version()
            # the bot's writer commits question counts every 2 s: only a change of the knowledge makes a new one
            if version != self._data_version:
                self._data_version = version
                if self.store.knowledge_version() != self._pipeline.snapshot.version:
                    self.refresh()
        return self._pipeline

    def refresh(self) -> None:
        """Read the knowledge afresh after it changed, and forget the answers given from the old one."""
        pipeline = self._build()
        with self._lock:
            self._pipeline = pipeline
            self._answers.clear()
        self._data_version = self.store.data_version()

    def fold(self, hidden: frozenset[str], model: Model | None = None) -> Pipeline:
        """Return a pipeline that does not know these phrasings (a cross-validation fold), with its own model."""
        return self.pipeline.without(hidden, model)

    def ask(self, text: str, norm: Normalized | None = None) -> Result:
        """Answer one question, from the cache when asked before.

        `norm` is the question already normalised (the service normalises each message once), else made here.
        """
        pipeline = self.pipeline
        key = clean(text)
        hit = self._answers.get(key)
        if hit is not None:
            self.cache_hits += 1
            return copy_result(hit)
        result = pipeline.answer(text, norm)
        with self._lock:
            if pipeline is self._pipeline:  # not computed across a refresh
                self._answers.put(key, copy_result(result))
        return result

    def pairs(self, text: str) -> tuple[Query, list[Shortlisted], FeatureTable]:
        """Return a question, its shortlisted topics and their features (what the ranker sees)."""
        return self.pipeline.pairs(text)

    def topic_question(self, topic: str) -> str | None:
        """Return a topic's canonical question, or None for an unknown topic."""
        return self.pipeline.snapshot.topic_question(topic)

    def follow_ups(self, entry: FaqRow | Links, nearby: list[str]) -> list[FollowUp]:
        """Return next questions: the entry's related topics, then nearby ones, never its own."""
        return self.pipeline.follow_ups(entry, nearby)

    def show_topic(self, topic: str, reader: Reader = SIMPLIFIED_READER) -> Result:
        """Return the answer of a topic's main entry, as if asked its canonical question."""
        return self.pipeline.show_topic(topic, reader)
