"""The hand-made phrasing score: how far a stored phrasing asks what the question asks, from its parts.

It ranks the shortlist's topics before the learned ranker sees them, and its parts are features of the
ranker. Its weights are part of the featurizer's fingerprint (ranker.featurizer_hash): changing them
without retraining is refused when the model loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from rolebot.engine.cache import Recent
from rolebot.language import segment
from rolebot.language.understand import Query, entities_of, intents_of
from rolebot.language.vocabulary import Vocabulary
from rolebot.store.index import Candidate

EXACT_BONUS = 0.1
KEPT_PHRASINGS = 20_000  # phrasings read into content words, roles and intents


@dataclass(frozen=True)
class Weights:
    """How much each part counts in a phrasing's score (fixed by hand; measure a change with eval.py --cv)."""

    entities: float = 0.35
    cover_q: float = 0.2
    cover_p: float = 0.15
    fuzzy: float = 0.15
    intent: float = 0.15
    unknown: float = 0.25
    second: float = 0.1  # share of a topic's score taken from its second-best phrasing


WEIGHTS = Weights()


@dataclass(frozen=True)
class Parts:
    """A phrasing's hand-made score and the parts it is made of (each 0–1 but `unknown`, a count)."""

    score: float  # 0–100 (a little more for an exact match)
    entities: float
    cover_q: float
    cover_p: float
    fuzzy: float
    intent: float
    unknown: int


@dataclass(frozen=True)
class Scored:
    """A phrasing with its score."""

    candidate: Candidate
    score: float


class Roles:
    """How words of the vocabulary relate as roles: the same, a kind of the other, or not."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self._related: dict[tuple[str, str], float] = {}  # pairs of roles only: bounded by the vocabulary

    def related(self, a: str, b: str) -> float:
        """Return how far two words mean the same role: 1 same, 0.5 one is a kind of the other."""
        if a == b:
            return 1.0
        roles = self.vocab.roles
        if a not in roles or b not in roles:
            return 0.0
        key = (a, b)
        hit = self._related.get(key)
        if hit is None:
            kin = b in self.vocab.family(a)[1:] or a in self.vocab.family(b)[1:]
            hit = self._related[key] = 0.5 if kin else 0.0
        return hit


class PhrasingScorer:
    """Scores phrasings against a question with the hand weights; safe across threads."""

    def __init__(self, vocab: Vocabulary, roles: Roles, weights: Weights = WEIGHTS) -> None:
        self.vocab = vocab
        self.roles = roles
        self.weights = weights
        self._read: Recent[tuple[str, ...], tuple[tuple[str, ...], frozenset[str], frozenset[str]]] = Recent(
            KEPT_PHRASINGS
        )

    def read(self, words: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
        """Return a phrasing's content words, roles and intents (kept: phrasings recur across questions)."""
        hit = self._read.get(words)
        if hit is None:
            hit = (
                tuple(segment.content(list(words), self.vocab)),
                entities_of(words, self.vocab),
                intents_of("".join(words), self.vocab),
            )
            self._read.put(words, hit)
        return hit

    def coverage(self, have: tuple[str, ...], other: set[str], w: dict[str, float]) -> float:
        """Return the weighted share of `have` that `other` contains (roles get family credit)."""
        total = sum(w[t] for t in have)
        if not total:
            return 0.0
        got = 0.0
        related = self.roles.related
        for t in have:
            if t in other:
                got += w[t]
            elif t in self.vocab.roles:
                got += w[t] * max((related(t, o) for o in other), default=0.0)
        return got / total

    def _entity_agreement(self, q: frozenset[str], p: frozenset[str]) -> float:
        """Return a soft Jaccard of the roles named by question and phrasing."""
        if not q and not p:
            return 0.4
        related = self.roles.related
        matched = sum(max((related(e, o) for o in p), default=0.0) for e in q)
        return matched / len(q | p)

    def _intent_agreement(self, q: frozenset[str], p: frozenset[str]) -> float:
        """Return 1 when question and phrasing mainly ask the same kind of thing, 0 when clearly not."""
        if q and p:
            if self._primary(q) == self._primary(p):
                return 1.0
            return 0.3 if q & p else 0.0
        return 0.7 if not q and not p else 0.5

    def _primary(self, intents: frozenset[str]) -> str:
        """Return the most specific intent (vocabulary order: the specific ones come first)."""
        return next(name for name in self.vocab.intents if name in intents)

    def parts(self, query: Query, cand: Candidate, w: dict[str, float]) -> Parts:
        """Return the score of a phrasing and the parts it is made of."""
        p_words = cand.tokens
        p_content, p_entities, p_intents = self.read(p_words)
        ent = self._entity_agreement(query.entities, p_entities)
        cov_q = self.coverage(query.content, set(p_content), w)
        cov_p = self.coverage(p_content, set(query.content), w)
        fz = fuzz.token_sort_ratio(" ".join(query.words), " ".join(p_words)) / 100.0
        intent = self._intent_agreement(query.intents, p_intents)
        k = self.weights
        total = k.entities + k.cover_q + k.cover_p + k.fuzzy + k.intent
        raw = (k.entities * ent + k.cover_q * cov_q + k.cover_p * cov_p + k.fuzzy * fz + k.intent * intent) / total
        # a compared thing the phrasing does not name: another job altogether ("会计和出纳"), or, in a
        # comparison, only a kin of the role ("营销和品牌" is not "营销和市场")
        unknown = [
            o
            for o in query.operands
            if o not in p_content and (o not in self.vocab.roles or "difference" in query.intents)
        ]
        if unknown and query.intents & {"difference", "career", "relation"}:
            raw -= k.unknown * len(unknown)
        if p_words == query.words:
            raw += EXACT_BONUS  # asked exactly as a stored phrasing: no near neighbour should make us hesitate
        return Parts(max(0.0, raw) * 100, ent, cov_q, cov_p, fz, intent, len(unknown))

    def topic_score(self, found: list[Scored]) -> Scored:
        """Return a topic's best phrasing, lifted a little when a second phrasing of it agrees."""
        found.sort(key=lambda s: s.score, reverse=True)
        best = found[0]
        if len(found) > 1 and self.weights.second:
            lifted = best.score + self.weights.second * max(0.0, found[1].score - 50.0)
            return Scored(best.candidate, lifted)  # may pass 100 while ranking; reported clipped
        return best

    def passage_score(self, query: Query, cand: Candidate, w: dict[str, float]) -> float:
        """Return how well a passage covers a question no FAQ entry fits: every role and nearly every word."""
        p = set(cand.tokens)
        if not query.entities or not query.entities <= p:
            return 0.0
        if query.operands and query.intents & {"difference", "career", "relation"}:
            return 0.0  # a comparison deserves a curated answer, not a paragraph that mentions both
        return 100 * self.coverage(query.content, p, w)

    def same_question(self, query: Query, words: tuple[str, ...]) -> bool:
        """Say whether a phrasing asks the question itself: the same words, or the same content words and intents."""
        if words == query.words:
            return True
        content, _, intents = self.read(words)
        return bool(query.content) and set(content) == set(query.content) and intents == query.intents
