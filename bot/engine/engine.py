"""The answer engine: shortlist from the index, score with rapidfuzz and domain knowledge, decide."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz import fuzz

from rolebot.engine.cache import Recent
from rolebot.engine.features import NONE, Shortlisted, TopicProfile, build_profile, pair_features
from rolebot.engine.scorer import Model, load_model
from rolebot.engine.sources import SHIPPED, SourceIndex, held_source
from rolebot.language import segment
from rolebot.language.normalize import Normalized, clean, exact_keys, normalize
from rolebot.language.script import SIMPLIFIED_READER, Reader
from rolebot.language.understand import Query, entities_of, intents_of, understand
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.index import ExactHit
from rolebot.store.schema import Choice, FaqRow, FollowUp, Links, Source
from rolebot.store.store import Candidate, Store

SHORTLIST = 80  # phrasings scored per question (tuned with scripts/tune.py --shortlist: 60 -> 80 lifts leave-one-out 0.867 -> 0.881)
CUE_WEIGHT = 0.5  # an intent cue word's share in the shortlist's BM25 (scripts/tune.py --cue-weight: 0 -> 0.5 at 80, 0.878 -> 0.881)
SCORED_TOPICS = 8  # topics the learned scorer looks at: the hand-made score's best
PASSAGE_AT = 85
PASSAGE_BELOW = 45  # a passage answers only when no entry comes this close by the hand-made score
EXACT_BONUS = 0.1
ANSWER_CACHE = 2048  # answers kept per engine: the questions asked again and again (LRU)
UNSEEN_WEIGHT = 1.5  # weight of a word no phrasing or passage uses (see Engine._weights)
# Rows read from the store, kept for the questions that follow: bounded, so that memory stays what the
# shipped knowledge needs however many entries are imported (anything else is read again from SQLite)
KEPT_TERMS = 50_000  # phrasing counts of words
KEPT_ENTRIES = 2_048
KEPT_TOPICS = 1_024  # topic profiles (all their phrasings' words and answers' words, a centroid)
KEPT_PHRASINGS = 20_000  # phrasings read into content words, roles and intents


@dataclass
class Result:
    """What the engine decided for one question; `to_json` is the stable `rolebot ask --json` contract."""

    answered: bool
    kind: str  # "answer" | "passage" | "unsure" (a choice) | "related" | "decline" | "empty"
    reader: Reader  # who the reply is for: script, region, the local words they wrote
    topic: str | None = None
    entry_id: str | None = None
    score: int = 0
    question: str | None = None
    answer: str | None = None
    sources: list[Source] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    candidates: list[Choice] = field(default_factory=list)
    passage_id: str | None = None
    has_more: bool = False
    normalized: str = ""

    @property
    def script(self) -> str:
        """Return the reply's script: "simplified" | "traditional"."""
        return self.reader.script

    def to_json(self) -> dict[str, Any]:
        """Return the JSON contract of `rolebot ask --json`."""
        return {
            "answered": self.answered,
            "topic": self.topic,
            "entry_id": self.entry_id,
            "score": self.score,
            "question": self.question,
            "answer": self.answer,
            "sources": self.sources,
            "follow_ups": self.follow_ups,
            "candidates": [{"topic": c["topic"], "score": c["score"]} for c in self.candidates],
            "script": self.script,
            "kind": OUTCOMES.get(self.kind, "decline"),
        }


# what `--json` reports as kind: the four outcomes a user can get
OUTCOMES = {"answer": "answer", "passage": "answer", "unsure": "choice", "related": "related"}


def _pct(score: float) -> int:
    """Report a score as a whole number from 0 to 100."""
    return max(0, min(100, round(score)))


@dataclass(frozen=True)
class Weights:
    """How much each part counts in a phrasing's score (tuned with scripts/tune.py)."""

    entities: float = 0.35
    cover_q: float = 0.2
    cover_p: float = 0.15
    fuzzy: float = 0.15
    intent: float = 0.15
    unknown: float = 0.25
    second: float = 0.1  # share of a topic's score taken from its second-best phrasing


@dataclass(frozen=True)
class _Scored:
    candidate: Candidate
    score: float


def _copy(result: Result) -> Result:
    """Return a result that callers may change (the service sets its reader) without touching the cached one."""
    return replace(
        result,
        sources=list(result.sources),
        follow_ups=list(result.follow_ups),
        candidates=[c.copy() for c in result.candidates],
    )


def _ranks_by_source(found: list[Shortlisted], shipped: list[bool]) -> list[Shortlisted]:
    """Return the topics with each BM25 rank over the best of its own source, when both sources are there.

    Imported phrasings are ranked by the whole index's statistics and shipped ones by their own, so the
    scorer's bm25 feature (a topic's rank over the best) compares a topic with the best of its own kind.
    `shipped` says, per topic, whether its best-ranked phrasing is shipped.
    """
    if all(shipped) or not any(shipped):
        return found  # one source: the feature divides by the best itself
    best = {
        kind: max((abs(s.rank) for s, k in zip(found, shipped, strict=True) if k == kind), default=0.0) or 1.0
        for kind in (True, False)
    }
    return [replace(s, rank=-abs(s.rank) / best[k]) for s, k in zip(found, shipped, strict=True)]


def _sole_owner(hits: list[ExactHit]) -> str | None:
    """Return the entry that owns a wording: its own question beats another's alternate; a tie is no owner."""
    if not hits:
        return None
    rank: dict[str, bool] = {}
    for h in hits:
        rank[h.ref] = rank.get(h.ref, False) or h.main
    top = max(rank.values())
    owners = [ref for ref, main in rank.items() if main == top]
    # true duplicates (two entries asked the same way): scoring and the choice between them decide
    return owners[0] if len(owners) == 1 else None


class Engine:
    """Answers questions from one store; safe to call from worker threads."""

    def __init__(
        self,
        store: Store,
        vocab: Vocabulary | None = None,
        weights: Weights | None = None,
        model: Model | None = None,
        lazy: bool = False,
    ) -> None:
        """Serve from a store; `lazy` loads jieba at the first question that needs cutting, not now (`rolebot ask`)."""
        self.store = store
        self.weights = weights or Weights()
        self.shortlist_size = SHORTLIST
        self.cue_weight = CUE_WEIGHT
        self.model = model or load_model()
        self._profiles: Recent[str, TopicProfile] = Recent(KEPT_TOPICS)
        self._profiles_without: frozenset[str] = frozenset()
        self.vocab = vocab or vocabulary()
        segment.prepare(self.vocab, now=not lazy)
        self._docs = max(store.phrasing_count(), 1)
        self._source: SourceIndex | None = None  # the shipped phrasings, read at the first question that is scored
        self._topic_questions: Recent[str, str] = Recent(KEPT_TOPICS)
        self._related_cache: dict[tuple[str, str], float] = {}  # pairs of roles only: bounded by the vocabulary
        self._df: Recent[str, int] = Recent(KEPT_TERMS)
        self._entries: Recent[str, FaqRow] = Recent(KEPT_ENTRIES)
        self._has_more: Recent[str, bool] = Recent(KEPT_TOPICS)
        self._version = store.data_version()
        self._knowledge = store.knowledge_version()
        self._checked = time.monotonic()
        # answers by cleaned question: reader, normalised words and exact keys are all made from it
        self._answers: Recent[tuple[str, frozenset[str]], Result] = Recent(ANSWER_CACHE)
        self._answers_lock = threading.Lock()  # a refresh and the keeping of an answer computed across it
        self._generation = 0  # moves at each refresh, so an answer computed across one is not kept
        self.cache_hits = 0
        self._phrasing_cache: Recent[tuple[str, ...], tuple[tuple[str, ...], frozenset[str], frozenset[str]]] = Recent(
            KEPT_PHRASINGS
        )

    def refresh(self) -> None:
        """Forget cached views of the store after it changed."""
        self._docs = max(self.store.phrasing_count(), 1)
        self._source = None
        for kept in (self._topic_questions, self._df, self._entries, self._has_more, self._profiles):
            kept.clear()
        self._version = self.store.data_version()
        self._knowledge = self.store.knowledge_version()
        with self._answers_lock:
            self._answers.clear()
            self._generation += 1

    def _check_fresh(self) -> None:
        """Drop the caches when another connection (a `rolebot import`) changed the knowledge (checked each second)."""
        now = time.monotonic()
        if now - self._checked < 1.0:
            return
        self._checked = now
        version = self.store.data_version()
        if version == self._version:
            return
        self._version = version
        # the bot's writer commits question counts every 2 s: only a change of the knowledge drops the caches
        if self.store.knowledge_version() != self._knowledge:
            self.refresh()

    def _doc_freq(self, terms: set[str]) -> dict[str, int]:
        """Return per-word phrasing counts, cached until the knowledge changes."""
        out: dict[str, int] = {}
        missing: list[str] = []
        for t in terms:
            n = self._df.get(t)
            if n is None:
                missing.append(t)
            elif n:
                out[t] = n
        if missing:
            found = self.store.doc_freq(sorted(missing))
            for t in missing:
                n = self._df.put(t, found.get(t, 0))
                if n:
                    out[t] = n
        return out

    def _entry(self, entry_id: str) -> FaqRow | None:
        """Return a stored entry, cached until the knowledge changes."""
        hit = self._entries.get(entry_id)
        if hit is None and (hit := self.store.entry(entry_id)) is not None:
            self._entries.put(entry_id, hit)
        return hit

    # -- scoring -----------------------------------------------------------------------------------
    def shipped(self) -> SourceIndex:
        """Return the shipped phrasings held in memory with their own statistics (read once per knowledge version)."""
        source = self._source
        if source is None:
            source = self._source = held_source(self.store.origin_phrasings(SHIPPED))
        return source

    def _is_shipped(self, cand: Candidate) -> bool:
        """Say whether a phrasing is of the shipped knowledge."""
        return (cand.kind, cand.ref) in self.shipped().refs

    def _weights(self, terms: set[str], operands: tuple[str, ...] = (), shipped: bool = True) -> dict[str, float]:
        """Return an IDF weight per term, counted over the shipped FAQ phrasings or over the imported ones.

        A word the knowledge never uses is usually context ("我大三，在找实习…") and weighs little,
        unless it is one of the things compared ("会计和出纳"), which then weighs the most.
        """
        source = self.shipped()
        if shipped:
            df = {t: k for t in terms if (k := source.df.get(t, 0))}
            n = max(source.faq_docs, 1)
        else:
            every = self._doc_freq(terms)
            df = {t: k for t, n_all in every.items() if (k := n_all - source.df.get(t, 0)) > 0}
            n = max(self._docs - source.faq_docs, 1)
        top = math.log((n + 1) / 0.5) + 1.0
        weak = self.vocab.role_suffixes  # 部门, 岗位: they say where a role sits, not which role
        return {
            t: (
                UNSEEN_WEIGHT
                if t in weak
                else math.log((n + 1) / (df[t] + 0.5)) + 1.0
                if t in df
                else top
                if t in operands
                else UNSEEN_WEIGHT
            )
            for t in terms
        }

    def _related(self, a: str, b: str) -> float:
        """Return how far two words mean the same role: 1 same, 0.5 one is a kind of the other."""
        if a == b:
            return 1.0
        roles = self.vocab.roles
        if a not in roles or b not in roles:
            return 0.0
        key = (a, b)
        hit = self._related_cache.get(key)
        if hit is None:
            kin = b in self.vocab.family(a)[1:] or a in self.vocab.family(b)[1:]
            hit = self._related_cache[key] = 0.5 if kin else 0.0
        return hit

    def _coverage(self, have: tuple[str, ...], other: set[str], w: dict[str, float]) -> float:
        """Return the weighted share of `have` that `other` contains (roles get family credit)."""
        total = sum(w[t] for t in have)
        if not total:
            return 0.0
        got = 0.0
        for t in have:
            if t in other:
                got += w[t]
            elif t in self.vocab.roles:
                got += w[t] * max((self._related(t, o) for o in other), default=0.0)
        return got / total

    def _entity_agreement(self, q: frozenset[str], p: frozenset[str]) -> float:
        """Return a soft Jaccard of the roles named by question and phrasing."""
        if not q and not p:
            return 0.4
        union = len(q | p)
        matched = 0.0
        for e in q:
            matched += max((self._related(e, o) for o in p), default=0.0)
        return matched / union

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

    def _score(self, query: Query, cand: Candidate, w: dict[str, float]) -> float:
        """Return a 0–100 confidence that a phrasing asks what the question asks."""
        return self._parts(query, cand, w)["score"]

    def _read_phrasing(self, words: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
        """Return a phrasing's content words, roles and intents (cached: phrasings recur across questions)."""
        hit = self._phrasing_cache.get(words)
        if hit is None:
            hit = (
                tuple(segment.content(list(words), self.vocab)),
                entities_of(words, self.vocab),
                intents_of("".join(words), self.vocab),
            )
            self._phrasing_cache.put(words, hit)
        return hit

    def _parts(self, query: Query, cand: Candidate, w: dict[str, float]) -> dict[str, float]:
        """Return the score of a phrasing and the parts it is made of."""
        p_words = cand.tokens
        p_content, p_entities, p_intents = self._read_phrasing(p_words)
        ent = self._entity_agreement(query.entities, p_entities)
        cov_q = self._coverage(query.content, set(p_content), w)
        cov_p = self._coverage(p_content, set(query.content), w)
        fz = fuzz.token_sort_ratio(" ".join(query.words), " ".join(p_words)) / 100.0
        intent = self._intent_agreement(query.intents, p_intents)
        k = self.weights
        total = k.entities + k.cover_q + k.cover_p + k.fuzzy + k.intent
        raw = (k.entities * ent + k.cover_q * cov_q + k.cover_p * cov_p + k.fuzzy * fz + k.intent * intent) / total
        # a compared thing that no role word and no phrasing explains: a question about other jobs
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
        return {
            "score": max(0.0, raw) * 100,
            "entities": ent,
            "cover_q": cov_q,
            "cover_p": cov_p,
            "fuzzy": fz,
            "intent": intent,
            "unknown": len(unknown),
        }

    def explain(self, text: str, limit: int = 8) -> list[dict[str, Any]]:
        """Return the best phrasings for a question with each part of their score (for tuning)."""
        query = understand(text, self.vocab)
        shortlist = [c for c in self.search(query) if c.kind == "faq"]
        weigh = self._weigher(query, shortlist)
        rows: list[dict[str, Any]] = [
            {
                "topic": c.topic,
                "phrasing": c.text,
                **{k: round(v, 2) for k, v in self._parts(query, c, weigh(c)).items()},
            }
            for c in shortlist
        ]
        rows.sort(key=lambda r: float(r["score"]), reverse=True)
        head = {
            "words": query.words,
            "entities": sorted(query.entities),
            "intents": sorted(query.intents),
            "operands": query.operands,
        }
        return [head, *rows[:limit]]

    # -- deciding ----------------------------------------------------------------------------------
    def search_terms(self, query: Query) -> list[str]:
        """Return the content words the shortlist searches for, without role suffixes."""
        # 部门/岗位 say little about which role is meant, yet would pull BM25 toward any phrasing using them
        return [t for t in query.content if t not in self.vocab.role_suffixes] or list(query.content)

    def search(self, query: Query, limit: int = 0) -> list[Candidate]:
        """Return the shortlist's phrasings: by BM25 over the content words, and the intent cue words weighed less.

        A cue word is often content too (英语 in 杠铃英语怎么说, 区别 and 哪个 beside two things): left out, an
        entry's own question can fall outside the shortlist among thousands sharing its other words.
        """
        terms = self.search_terms(query)
        cues = [w for w in dict.fromkeys(query.words) if w in self.vocab.cue_words and w not in terms]
        if not self.cue_weight:
            cues = []
        weights = [1.0] * len(terms) + [self.cue_weight] * len(cues)
        limit = limit or self.shortlist_size
        # each source by its own statistics, so imported entries neither crowd the shipped ones out nor
        # change how they rank: the shipped best, then the imported best of the whole index
        source = self.shipped()
        held = source.search(terms + cues, limit, weights)
        rest = [c for c in self.store.search(terms + cues, limit, weights) if (c.kind, c.ref) not in source.refs]
        return held + rest

    def _weigher(self, query: Query, shortlist: list[Candidate]) -> Callable[[Candidate], dict[str, float]]:
        """Return the word weights each shortlisted phrasing is scored with: those of its own source."""
        terms = set(query.content) | {t for c in shortlist for t in c.tokens}
        shipped = self._weights(terms, query.operands)
        if all(self._is_shipped(c) for c in shortlist):
            return lambda cand: shipped
        imported = self._weights(terms, query.operands, shipped=False)
        return lambda cand: shipped if self._is_shipped(cand) else imported

    def shortlist(
        self, query: Query, exclude: frozenset[str] = frozenset()
    ) -> tuple[list[Shortlisted], list[_Scored], list[_Scored]]:
        """Return the topics the hand-made score ranks best, with their best phrasings, and the scored passages."""
        self._check_fresh()
        shortlist = self.search(query)
        weigh = self._weigher(query, shortlist)
        per_topic: dict[str, list[tuple[_Scored, dict[str, float]]]] = {}
        passages: list[_Scored] = []
        for cand in shortlist:
            if cand.text in exclude:
                continue
            w = weigh(cand)
            if cand.kind == "passage":
                passages.append(_Scored(cand, self._passage_score(query, cand, w)))
                continue
            parts = self._parts(query, cand, w)
            per_topic.setdefault(cand.topic or cand.ref, []).append((_Scored(cand, parts["score"]), parts))
        found: list[Shortlisted] = []
        bests: list[_Scored] = []
        ranked_shipped: list[bool] = []
        for topic, scored in per_topic.items():
            scored.sort(key=lambda sp: sp[0].score, reverse=True)
            best = self._topic_score([s for s, _ in scored])
            found.append(
                Shortlisted(
                    topic=topic,
                    score=best.score,
                    parts=scored[0][1],
                    second=scored[1][0].score if len(scored) > 1 else 0.0,
                    phrasings=[s.candidate.tokens for s, _ in scored],
                    rank=min(s.candidate.rank for s, _ in scored),
                )
            )
            bests.append(best)
            ranked_shipped.append(self._is_shipped(min((s.candidate for s, _ in scored), key=lambda c: c.rank)))
        order = sorted(range(len(found)), key=lambda i: found[i].score, reverse=True)[:SCORED_TOPICS]
        top = _ranks_by_source([found[i] for i in order], [ranked_shipped[i] for i in order])
        return top, [bests[i] for i in order], passages

    def pairs(
        self, text: str, exclude: frozenset[str] = frozenset()
    ) -> tuple[Query, list[Shortlisted], list[list[float]]]:
        """Return a question, its shortlisted topics and their feature rows (what the learned scorer sees)."""
        query = understand(text, self.vocab)
        if not query.content:
            return query, [], []
        found, _, _ = self.shortlist(query, exclude)
        return query, found, self._features(query, found, exclude)

    def _features(self, query: Query, found: list[Shortlisted], exclude: frozenset[str]) -> list[list[float]]:
        if exclude != self._profiles_without:
            self._profiles.clear()
            self._profiles_without = exclude
        profiles = {s.topic: self._profile(s.topic, exclude) for s in found}
        return pair_features(
            query,
            found,
            profiles,
            self.model.space,
            self.vocab,
            self._related,
            lambda word: not self._doc_freq({word}),
            self.model.off_topic,
            self.model.classifier.probabilities("".join(query.words)) if self.model.classifier else None,
            self._clause_votes(query),
        )

    def _clause_votes(self, query: Query) -> tuple[list[str], dict[str, float]]:
        """Return a question's clause wordings and the classifier's best P(topic) over them."""
        texts = segment.clauses(query.norm.text)
        best: dict[str, float] = {}
        if self.model.classifier:
            for text in texts:
                for topic, p in self.model.classifier.probabilities(text).items():
                    if p > best.get(topic, 0.0) and topic != NONE:
                        best[topic] = p
        return texts, best

    def _profile(self, topic: str, exclude: frozenset[str]) -> TopicProfile:
        """Return what a topic's knowledge says (cached until the knowledge changes)."""
        hit = self._profiles.get(topic)
        if hit is None:
            phrasings = [(t, w) for t, w in self.store.topic_phrasings(topic) if t not in exclude]
            answers = [e["answer"] for e in self.store.topic_entries(topic)]
            hit = self._profiles.put(topic, build_profile(topic, phrasings, answers, self.model.space, self.vocab))
        return hit

    def exact_entry(self, text: str, exclude: frozenset[str] = frozenset()) -> str | None:
        """Return the one entry asked for word for word (up to width, case, script, then punctuation), or None."""
        key, bare = exact_keys(text)
        if not bare:
            return None
        hits = [h for h in self.store.exact_phrasings(key, bare) if h.text not in exclude]
        # punctuation kept first: 杠铃怎么保养 and 杠铃怎么保养？ may be two entries' questions
        stage = [h for h in hits if h.punctuated] or hits
        return _sole_owner(stage)

    def ask(self, text: str, exclude: frozenset[str] = frozenset(), norm: Normalized | None = None) -> Result:
        """Answer one question (`exclude` hides phrasings by text, for cross-validation), from the cache when asked before.

        `norm` is the question already normalised (the service normalises each message once), else made here.
        """
        self._check_fresh()
        key = (clean(text), exclude)
        with self._answers_lock:
            generation = self._generation
            hit = self._answers.get(key)
        if hit is not None:
            self.cache_hits += 1
            return _copy(hit)
        result = self._ask(text, exclude, norm)
        with self._answers_lock:
            if generation == self._generation:
                self._answers.put(key, _copy(result))
        return result

    def _ask(self, text: str, exclude: frozenset[str], norm: Normalized | None) -> Result:
        """Answer one question: an exact lookup first, then the shortlist, the learned scorer and the rules."""
        entry_id = self.exact_entry(text, exclude)
        if entry_id is not None and (entry := self._entry(entry_id)) is not None:
            norm = norm or normalize(text, self.vocab)
            owner: list[Choice] = [{"topic": entry["topic"], "score": 100, "entry_id": entry_id}]
            result = Result(False, "decline", norm.reader, candidates=owner, normalized=norm.text)
            return self._answer(result, _Scored(Candidate("faq", entry_id, entry["topic"], text, (), 0.0), 100.0))
        query = understand(text, self.vocab, norm)
        if not query.content:
            return Result(False, "empty", query.reader, normalized=query.norm.text)
        found, bests, passages = self.shortlist(query, exclude)
        rows = self._features(query, found, exclude)
        probs = [self.model.probability(r) for r in rows]
        order = sorted(range(len(found)), key=lambda i: probs[i], reverse=True)
        candidates: list[Choice] = [
            {"topic": found[i].topic, "score": _pct(100 * probs[i]), "entry_id": bests[i].candidate.ref}
            for i in order[:5]
        ]
        result = Result(False, "decline", query.reader, candidates=candidates, normalized=query.norm.text)
        th = self.model.thresholds
        p1 = probs[order[0]] if order else 0.0
        p2 = probs[order[1]] if len(order) > 1 else 0.0
        result.score = _pct(100 * p1)
        exact = [i for i, s in enumerate(found) if any(self._same_question(query, p) for p in s.phrasings)]
        if len(exact) > 1:
            # several topics were asked exactly this way: only the asker can say which is meant
            return self._offer(result, found, probs, bests, sorted(exact, key=lambda i: probs[i], reverse=True)[:3])
        if len(exact) == 1:
            # asked word for word as one topic's phrasing (an entry's own question, just imported, say)
            p1 = max(p1, th.answer)
            result.score = _pct(100 * p1)
            return self._answer(result, _Scored(bests[exact[0]].candidate, 100 * p1))
        # roles without a question ("运营和营销"): which of their topics is meant is for the asker to say
        underspecified = not query.intents and len(query.entities) >= 2 and set(query.content) <= query.entities
        if underspecified:
            # the topics about exactly these roles, however the scorer ranks them: the asker picks
            same = [i for i in order if self._profile(found[i].topic, exclude).own_roles == query.entities][:3]
            if len(same) >= 2:
                return self._offer(result, found, probs, bests, same)
            underspecified = False  # one topic is about just these roles: answer it as any question
        if order and p1 >= th.answer and p1 - p2 >= th.margin and not underspecified:
            best = bests[order[0]]
            return self._answer(result, _Scored(best.candidate, 100 * p1))
        passage = max(passages, key=lambda s: s.score, default=None)
        heuristic = max((s.score for s in found), default=0.0)
        if passage and passage.score >= PASSAGE_AT and heuristic < PASSAGE_BELOW and p1 < th.choice:
            return self._answer_passage(result, passage)
        close = [c for c in candidates if c["score"] >= 100 * (th.related if underspecified else th.choice)][:3]
        if len(close) >= 2 or (close and p1 >= th.answer):
            result.kind = "unsure"
            result.candidates = [{**c, "question": self.topic_question(c["topic"]) or c["topic"]} for c in close]
            return result
        near = [c for c in candidates if c["score"] >= 100 * th.related][:3]
        if near and query.entities:
            # about our roles, but asking what no entry covers: say so and show what is nearest
            result.kind = "related"
            result.candidates = [{**c, "question": self.topic_question(c["topic"]) or c["topic"]} for c in near]
        return result

    def _offer(
        self, result: Result, found: list[Shortlisted], probs: list[float], bests: list[_Scored], chosen: list[int]
    ) -> Result:
        """Return the result as a choice between the chosen shortlisted topics."""
        result.kind = "unsure"
        result.candidates = [
            {
                "topic": found[i].topic,
                "score": _pct(100 * probs[i]),
                "entry_id": bests[i].candidate.ref,
                "question": self.topic_question(found[i].topic) or found[i].topic,
            }
            for i in chosen
        ]
        return result

    def _same_question(self, query: Query, words: tuple[str, ...]) -> bool:
        """Say whether a phrasing asks the question itself: the same words, or the same content words and intents."""
        if words == query.words:
            return True
        content, _, intents = self._read_phrasing(words)
        return bool(query.content) and set(content) == set(query.content) and intents == query.intents

    def _topic_score(self, found: list[_Scored]) -> _Scored:
        """Return a topic's best phrasing, lifted a little when a second phrasing of it agrees."""
        found.sort(key=lambda s: s.score, reverse=True)
        best = found[0]
        if len(found) > 1 and self.weights.second:
            lifted = best.score + self.weights.second * max(0.0, found[1].score - 50.0)
            return _Scored(best.candidate, lifted)  # may pass 100 while ranking; reported clipped
        return best

    def _passage_score(self, query: Query, cand: Candidate, w: dict[str, float]) -> float:
        """Return how well a passage covers a question no FAQ entry fits: every role and nearly every word."""
        p = set(cand.tokens)
        if not query.entities or not query.entities <= p:
            return 0.0
        if query.operands and query.intents & {"difference", "career", "relation"}:
            return 0.0  # a comparison deserves a curated answer, not a paragraph that mentions both
        return 100 * self._coverage(query.content, p, w)

    def _answer(self, result: Result, top: _Scored) -> Result:
        entry = self._entry(top.candidate.ref)
        if entry is None:
            return result
        result.answered = True
        result.kind = "answer"
        result.topic = entry["topic"]
        result.entry_id = entry["id"]
        result.score = _pct(top.score)
        result.question = entry["question"]
        result.answer = entry["answer"]
        result.sources = entry["sources"]
        result.follow_ups = self.follow_ups(entry, [c["topic"] for c in result.candidates])
        topic = entry["topic"]
        more = self._has_more.get(topic)
        if more is None:
            more = self._has_more.put(topic, self.store.has_passages(topic))
        result.has_more = more
        return result

    def _answer_passage(self, result: Result, passage: _Scored) -> Result:
        row = self.store.passage(passage.candidate.ref)
        if row is None:
            return result
        result.answered = True
        result.kind = "passage"
        result.topic = row.get("topic")
        result.passage_id = row["id"]
        result.score = _pct(passage.score)
        result.question = row.get("title") or None
        result.answer = row["text"]
        result.sources = row["sources"]
        result.follow_ups = self.follow_ups(
            {"topic": row.get("topic"), "related": []}, [c["topic"] for c in result.candidates]
        )
        return result

    def topic_question(self, topic: str) -> str | None:
        """Return a topic's canonical question (cached), or None for an unknown topic."""
        hit = self._topic_questions.get(topic)
        if hit is None and (hit := self.store.topic_question(topic)) is not None:
            self._topic_questions.put(topic, hit)
        return hit

    def follow_ups(self, entry: FaqRow | Links, nearby: list[str], limit: int = 3) -> list[FollowUp]:
        """Return next questions: the entry's related topics, then nearby ones, never its own."""
        out: list[FollowUp] = []
        for topic in [*(entry.get("related") or []), *nearby]:
            if not topic or topic == entry.get("topic") or any(f["topic"] == topic for f in out):
                continue
            question = self.topic_question(topic)
            if question is not None:
                out.append({"topic": topic, "question": question})
            if len(out) >= limit:
                break
        return out

    def show_topic(self, topic: str, reader: Reader = SIMPLIFIED_READER) -> Result:
        """Return the answer of a topic's main entry, as if asked its canonical question."""
        entries = self.store.topic_entries(topic)
        if not entries:
            return Result(False, "decline", reader)
        entry = entries[0]
        result = Result(False, "answer", reader, candidates=[])
        cand = Candidate("faq", entry["id"], topic, entry["question"], (), 0.0)
        return self._answer(result, _Scored(cand, 100.0))
