"""What the learned scorer sees of one (question, topic) pair, computed from the question and the topic's knowledge."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rolebot.engine.cache import Recent
from rolebot.language import segment
from rolebot.language.light import is_light
from rolebot.language.understand import Query
from rolebot.language.vocabulary import Vocabulary

if TYPE_CHECKING:
    from rolebot.engine.classifier import TopicClassifier
    from rolebot.engine.heuristic import Parts, Roles
    from rolebot.engine.snapshot import Snapshot

NONE = "__none__"  # the topic classifier's class of questions no topic answers
COVERED = "covered"  # the aspect reader's class of questions asking what the knowledge covers

# The ranker's inputs by name; the model file lists the names it was trained on, and the ranker takes its
# columns by name (scripts/train.py writes them, with a hash of this module, heuristic.py and retriever.py).
FEATURES = (
    "heuristic",  # the hand-made phrasing score of the topic's best phrasing, 0–1
    "heuristic_gap",  # how far it is ahead of (or behind) the best other topic
    "heuristic_top",  # the topic ranks first by the hand-made score
    "entities",  # roles named: soft Jaccard of question and best phrasing
    "cover_question",  # weighted share of the question's words the phrasing has
    "cover_phrasing",  # weighted share of the phrasing's words the question has
    "fuzzy",  # rapidfuzz token_sort_ratio of the two, 0–1
    "intent",  # they ask the same kind of thing
    "unknown_operands",  # things compared that the phrasing does not name
    "char_best",  # character 1–3-gram TF-IDF cosine with the topic's closest shortlisted phrasing
    "char_centroid",  # ... with the centre of all the topic's phrasings
    "char_gap",  # char_best minus the best other topic's
    "bm25",  # the topic's best BM25 rank relative to the shortlist's best
    "unexplained",  # rarity-weighted share of the question's words neither phrasings nor answer of the topic use
    "unexplained_max",  # the rarest such word, 0–1
    "roles_extra",  # roles the question names that the topic never does
    "roles_missing",  # roles of the topic's own question the question does not name
    "length",  # question length in characters, 0–1 at 40
    "words",  # content words in the question, 0–1 at 10
    "exact",  # the question is word for word one of the topic's phrasings
    "has_roles",  # the question names any role at all
    "unseen_operands",  # compared things the whole knowledge never uses
    "support",  # score of the topic's second-best phrasing
    "off_topic_words",  # words that mark questions we do not answer (pay, interviews, tools …) the topic does not use
    "classifier",  # P(topic) from the topic classifier over the question's wording
    "classifier_none",  # P(no topic) from it
    "classifier_knows",  # the classifier was trained on this topic (imported topics: 0)
    "unexplained_things",  # how many words naming a thing (not an adverb, pronoun, particle …) nothing of the topic uses
    "clause_char",  # char_best of the question's best-matching clause (the whole question when it has one clause)
    "clause_classifier",  # the classifier's P(topic) for its most telling clause
    "clauses",  # how many clauses the question has, 0–1 at 3
    "aspect_covered",  # P(the question asks what the knowledge covers) from the aspect reader (no reader: 1)
    "aspect_missing",  # its P for the likeliest aspect the knowledge lacks (pay, interviews, a company …)
)

KEPT_VECTORS = 10_000  # phrasing vectors kept across questions (~2.5 kB each)
_COMMON = 8.0  # general-language rarity (−log frequency) of an everyday word; rarer words weigh more
_RARE = 18.0


def char_grams(text: str) -> Counter[str]:
    """Return the character 1–3-grams of a text (spaces ignored)."""
    s = text.replace(" ", "")
    grams: Counter[str] = Counter()
    for n in (1, 2, 3):
        for i in range(len(s) - n + 1):
            grams[s[i : i + n]] += 1
    return grams


class CharSpace:
    """TF-IDF vectors of character n-grams; the IDF table comes from the model file."""

    def __init__(self, idf: dict[str, float], default: float) -> None:
        self.idf = idf
        self.default = default
        self._known: Recent[str, dict[str, float]] = Recent(KEPT_VECTORS)

    def phrasing_vector(self, text: str) -> dict[str, float]:
        """Return `vector(text)` for a stored phrasing, kept: the same phrasings come back question after question."""
        hit = self._known.get(text)
        if hit is None:
            hit = self._known.put(text, self.vector(text))
        return hit

    def vector(self, text: str) -> dict[str, float]:
        """Return the unit-length TF-IDF vector of a text."""
        raw = {g: (1.0 + math.log(c)) * self.idf.get(g, self.default) for g, c in char_grams(text).items()}
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        return {g: v / norm for g, v in raw.items()}

    @staticmethod
    def centroid(vectors: Iterable[dict[str, float]]) -> dict[str, float]:
        """Return the unit-length mean of vectors."""
        total: Counter[str] = Counter()
        for v in vectors:
            total.update(v)
        norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
        return {g: v / norm for g, v in total.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Return the dot product of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(g, 0.0) for g, v in a.items())


@dataclass(frozen=True)
class TopicProfile:
    """What a topic's knowledge says, for checking a question against it."""

    topic: str
    asked: frozenset[str]  # every word of its phrasings
    words: frozenset[str]  # ... and of its answers
    roles: frozenset[str]  # every role its phrasings name
    own_roles: frozenset[str]  # the roles its canonical question names
    centroid: dict[str, float]


def rarity(word: str) -> float:
    """Return how rare a word is in general Chinese, 0 (everyday) to 1 (rare or unknown), from jieba's dictionary."""
    freq, total = segment.general_frequency(word)
    if not freq:
        return 1.0
    r = math.log(total / freq)
    return min(1.0, max(0.0, (r - _COMMON) / (_RARE - _COMMON)))


def _compound_of(word: str, known: frozenset[str]) -> bool:
    """Say whether a word jieba kept whole is two words the topic asks with (英语翻译 = 英语 + 翻译)."""
    return len(word) > 2 and any(
        word[:i] in known and (word[i:] in known or is_light(word[i:])) for i in range(1, len(word))
    )


def build_profile(
    topic: str,
    phrasings: list[tuple[str, tuple[str, ...]]],
    answers: list[str],
    space: CharSpace,
    vocab: Vocabulary,
) -> TopicProfile:
    """Return a topic's profile from its (text, words) phrasings, canonical first, and its answers' texts."""
    words: set[str] = set()
    roles: set[str] = set()
    for _, toks in phrasings:
        words.update(toks)
        roles.update(t for t in toks if t in vocab.roles)
    asked = frozenset(words)
    for answer in answers:
        words.update(segment.words(answer.lower()))
    own = frozenset(t for t in phrasings[0][1] if t in vocab.roles) if phrasings else frozenset()
    centroid = space.centroid(space.vector("".join(toks)) for _, toks in phrasings)
    return TopicProfile(topic, asked, frozenset(words), frozenset(roles), own, centroid)


@dataclass(frozen=True)
class Shortlisted:
    """One topic as the hand-made scorer left it: its best phrasings with their scores and parts."""

    topic: str
    score: float  # topic score (best phrasing, lifted by a second one)
    parts: Parts  # the best phrasing's parts
    second: float  # the second-best phrasing's score
    phrasings: list[tuple[str, ...]]  # words of its shortlisted phrasings
    rank: float  # its best BM25 rank (more negative is better)


@dataclass(frozen=True)
class FeatureTable:
    """Named feature columns, one row per shortlisted topic."""

    names: tuple[str, ...]
    rows: list[list[float]]

    def column(self, name: str) -> list[float]:
        """Return one feature's values, a row's each."""
        i = self.names.index(name)
        return [r[i] for r in self.rows]

    def ordered(self, names: tuple[str, ...]) -> list[list[float]]:
        """Return the rows with their columns in this order (a model's): refuses a name the table lacks."""
        if names == self.names:
            return self.rows
        missing = [n for n in names if n not in self.names]
        if missing:
            raise KeyError(f"features not computed: {', '.join(missing)}")
        at = [self.names.index(n) for n in names]
        return [[r[i] for i in at] for r in self.rows]


class Featurizer:
    """Computes each (question, shortlisted topic) pair's named features in one snapshot of the knowledge."""

    def __init__(
        self,
        snapshot: Snapshot,
        roles: Roles,
        space: CharSpace,
        off_topic: frozenset[str],
        classifier: TopicClassifier | None,
        aspects: TopicClassifier | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.roles = roles
        self.space = space
        self.off_topic = off_topic
        self.classifier = classifier
        self.aspects = aspects

    def aspect(self, query: Query) -> tuple[float, float]:
        """Return P(covered) and the likeliest missing aspect's P for a question (1 and 0 without a reader)."""
        if self.aspects is None:
            return 1.0, 0.0
        votes = self.aspects.probabilities("".join(query.words))
        return votes.get(COVERED, 0.0), max((p for k, p in votes.items() if k != COVERED), default=0.0)

    def votes(self, query: Query) -> dict[str, float] | None:
        """Return the topic classifier's P(topic) over the question's wording, when there is a classifier."""
        return self.classifier.probabilities("".join(query.words)) if self.classifier else None

    def clause_votes(self, query: Query) -> tuple[list[str], dict[str, float]]:
        """Return a question's clause wordings and the classifier's best P(topic) over them."""
        texts = segment.clauses(query.norm.text)
        best: dict[str, float] = {}
        if self.classifier:
            for text in texts:
                for topic, p in self.classifier.probabilities(text).items():
                    if p > best.get(topic, 0.0) and topic != NONE:
                        best[topic] = p
        return texts, best

    def table(self, query: Query, found: list[Shortlisted]) -> FeatureTable:
        """Return the features of every shortlisted topic for a question."""
        profiles = {s.topic: self.snapshot.profile(s.topic) for s in found}
        rows = pair_features(
            query,
            found,
            profiles,
            self.space,
            self.snapshot.vocab,
            self.roles.related,
            self.snapshot.unseen,
            self.off_topic,
            self.votes(query),
            self.clause_votes(query),
            self.aspect(query),
        )
        return FeatureTable(FEATURES, [[row[n] for n in FEATURES] for row in rows])


def pair_features(
    query: Query,
    found: list[Shortlisted],
    profiles: dict[str, TopicProfile],
    space: CharSpace,
    vocab: Vocabulary,
    related: Callable[[str, str], float],
    unseen: Callable[[str], bool],
    off_topic: frozenset[str],
    votes: dict[str, float] | None = None,
    clauses: tuple[list[str], dict[str, float]] = ([], {}),
    aspect: tuple[float, float] = (1.0, 0.0),
) -> list[dict[str, float]]:
    """Return each shortlisted topic's features by name; `clauses` are the question's clause wordings (none for
    a one-clause question) and the classifier's best vote for each topic over them."""
    qvec = space.vector("".join(query.words))
    texts, clause_votes = clauses
    cvecs = [space.vector(t) for t in texts]
    pvecs = [[space.phrasing_vector("".join(p)) for p in s.phrasings] for s in found]
    char_best = [max((cosine(qvec, v) for v in vs), default=0.0) for vs in pvecs]
    clause_char = [max((cosine(c, v) for c in cvecs for v in vs), default=0.0) for vs in pvecs]
    best_rank = max((abs(s.rank) for s in found), default=0.0) or 1.0
    # an adverb or particle left unexplained (到底, 具体) says little about what is asked, however rare
    weights = {w: 0.05 if is_light(w) else 0.2 + rarity(w) for w in query.content}
    for w in query.operands:
        if w in weights:
            weights[w] = max(weights[w], 1.0)  # a thing compared is what is asked, however everyday the word
    total = sum(weights.values()) or 1.0
    unseen_ops = min(2, sum(1 for o in query.operands if unseen(o)))
    ops = frozenset(query.operands)
    votes = votes or {}
    rows: list[dict[str, float]] = []
    for i, s in enumerate(found):
        prof = profiles[s.topic]
        others = [o.score for j, o in enumerate(found) if j != i]
        other_chars = [c for j, c in enumerate(char_best) if j != i]
        unexplained = [w for w in query.content if w not in prof.asked and not _compound_of(w, prof.asked)]
        # a role of the same family (KOL for a topic about 运营) is half explained, as is a word only the answer
        # uses: the topic speaks of it, but no phrasing asks about it. A thing compared is not: an answer that
        # mentions 总经理 in passing does not compare 总经理 with anything
        kin = {w for w in unexplained if w in vocab.roles and any(related(w, r) for r in prof.roles)}
        spoken = {w for w in unexplained if w in prof.words and w not in ops}
        share = sum(weights[w] * (0.5 if w in kin or w in spoken else 1.0) for w in unexplained) / total
        unexplained = [w for w in unexplained if w not in kin]
        extra = [e for e in query.entities if not any(related(e, r) for r in prof.roles)]
        missing = [r for r in prof.own_roles if not any(related(r, e) for e in query.entities)]
        p = s.parts
        rows.append(
            {
                "heuristic": min(s.score, 120.0) / 100,
                "heuristic_gap": (s.score - max(others, default=0.0)) / 100,
                "heuristic_top": float(s.score >= max(others, default=0.0)),
                "entities": p.entities,
                "cover_question": p.cover_q,
                "cover_phrasing": p.cover_p,
                "fuzzy": p.fuzzy,
                "intent": p.intent,
                "unknown_operands": min(2.0, p.unknown),
                "char_best": char_best[i],
                "char_centroid": cosine(qvec, prof.centroid),
                "char_gap": char_best[i] - max(other_chars, default=0.0),
                "bm25": abs(s.rank) / best_rank,
                "unexplained": share,
                "unexplained_max": max((rarity(w) for w in unexplained if w not in spoken), default=0.0),
                "roles_extra": float(min(2, len(extra))),
                "roles_missing": float(min(2, len(missing))),
                "length": min(len(query.norm.text), 40) / 40,
                "words": min(len(query.content), 10) / 10,
                "exact": float(any(ph == query.words for ph in s.phrasings)),
                "has_roles": float(bool(query.entities)),
                "unseen_operands": float(unseen_ops),
                "support": s.second / 100,
                "off_topic_words": float(min(2, sum(1 for w in unexplained if w in off_topic))),
                "classifier": votes.get(s.topic, 0.0),
                "classifier_none": votes.get(NONE, 0.0),
                "classifier_knows": float(s.topic in votes),
                "unexplained_things": min(
                    3, sum(1 for w in unexplained if w not in spoken and len(w) > 1 and not is_light(w))
                )
                / 3,
                "clause_char": max(char_best[i], clause_char[i]),
                "clause_classifier": max(votes.get(s.topic, 0.0), clause_votes.get(s.topic, 0.0)),
                "clauses": min(max(1, len(texts)), 3) / 3,
                "aspect_covered": aspect[0],
                "aspect_missing": aspect[1],
            }
        )
    return rows
