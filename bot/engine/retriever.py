"""The shortlist: phrasings found by BM25 in each source, scored by hand, grouped into the best topics."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from rolebot.engine.features import Shortlisted
from rolebot.engine.heuristic import Parts, PhrasingScorer, Scored
from rolebot.engine.snapshot import Snapshot
from rolebot.language.understand import Query
from rolebot.store.index import Candidate

SHORTLIST = 80  # phrasings scored per question
CUE_WEIGHT = 0.5  # an intent cue word's share in the shortlist's BM25
SCORED_TOPICS = 8  # topics the learned ranker looks at: the hand-made score's best
UNSEEN_WEIGHT = 1.5  # weight of a word no phrasing or passage uses (see Retriever.weights)


@dataclass(frozen=True)
class Shortlist:
    """A question's best topics (best first by the hand-made score), each one's best phrasing, and the passages."""

    topics: list[Shortlisted]
    bests: list[Scored]
    passages: list[Scored]


def ranks_by_source(found: list[Shortlisted], shipped: list[bool]) -> list[Shortlisted]:
    """Return the topics with each BM25 rank over the best of its own source, when both sources are there.

    Imported phrasings are ranked by the whole index's statistics and shipped ones by their own, so the
    ranker's bm25 feature (a topic's rank over the best) compares a topic with the best of its own kind.
    `shipped` says, per topic, whether its best-ranked phrasing is shipped.
    """
    if all(shipped) or not any(shipped):
        return found  # one source: the feature divides by the best itself
    best = {
        kind: max((abs(s.rank) for s, k in zip(found, shipped, strict=True) if k == kind), default=0.0) or 1.0
        for kind in (True, False)
    }
    return [replace(s, rank=-abs(s.rank) / best[k]) for s, k in zip(found, shipped, strict=True)]


class Retriever:
    """Finds and ranks by hand the topics a question may be about, in one snapshot of the knowledge."""

    def __init__(
        self, snapshot: Snapshot, scorer: PhrasingScorer, size: int = SHORTLIST, cue_weight: float = CUE_WEIGHT
    ) -> None:
        self.snapshot = snapshot
        self.scorer = scorer
        self.size = size
        self.cue_weight = cue_weight

    def search_terms(self, query: Query) -> list[str]:
        """Return the content words the shortlist searches for, without role suffixes."""
        # 部门/岗位 say little about which role is meant, yet would pull BM25 toward any phrasing using them
        suffixes = self.snapshot.vocab.role_suffixes
        return [t for t in query.content if t not in suffixes] or list(query.content)

    def search(self, query: Query) -> list[Candidate]:
        """Return the shortlist's phrasings: by BM25 over the content words, and the intent cue words weighed less.

        A cue word is often content too (英语 in 杠铃英语怎么说, 区别 and 哪个 beside two things): left out, an
        entry's own question can fall outside the shortlist among thousands sharing its other words.
        """
        terms = self.search_terms(query)
        cue_words = self.snapshot.vocab.cue_words
        cues = [w for w in dict.fromkeys(query.words) if w in cue_words and w not in terms] if self.cue_weight else []
        weights = [1.0] * len(terms) + [self.cue_weight] * len(cues)
        # each source by its own statistics, so imported entries neither crowd the shipped ones out nor
        # change how they rank: the shipped best, then the imported best of the whole index
        source = self.snapshot.shipped()
        held = source.search(terms + cues, self.size, weights)
        found = self.snapshot.store.search(terms + cues, self.size, weights)
        return held + [c for c in found if (c.kind, c.ref) not in source.refs]

    def weights(self, terms: set[str], operands: tuple[str, ...] = (), shipped: bool = True) -> dict[str, float]:
        """Return an IDF weight per term, counted over the shipped FAQ phrasings or over the imported ones.

        A word the knowledge never uses is usually context ("我大三，在找实习…") and weighs little,
        unless it is one of the things compared ("会计和出纳"), which then weighs the most.
        """
        source = self.snapshot.shipped()
        if shipped:
            df = {t: k for t in terms if (k := source.df.get(t, 0))}
            n = max(source.faq_docs, 1)
        else:
            every = self.snapshot.doc_freq(terms)
            df = {t: k for t, n_all in every.items() if (k := n_all - source.df.get(t, 0)) > 0}
            n = max(self.snapshot.docs - source.faq_docs, 1)
        top = math.log((n + 1) / 0.5) + 1.0
        weak = self.snapshot.vocab.role_suffixes  # 部门, 岗位: they say where a role sits, not which role
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

    def weigher(self, query: Query, found: list[Candidate]) -> Callable[[Candidate], dict[str, float]]:
        """Return the word weights each shortlisted phrasing is scored with: those of its own source."""
        terms = set(query.content) | {t for c in found for t in c.tokens}
        shipped = self.weights(terms, query.operands)
        is_shipped = self.snapshot.is_shipped
        if all(is_shipped(c) for c in found):
            return lambda cand: shipped
        imported = self.weights(terms, query.operands, shipped=False)
        return lambda cand: shipped if is_shipped(cand) else imported

    def shortlist(self, query: Query) -> Shortlist:
        """Return the topics the hand-made score ranks best, with their best phrasings, and the scored passages."""
        found = self.search(query)
        weigh = self.weigher(query, found)
        hidden = self.snapshot.hidden
        scorer = self.scorer
        per_topic: dict[str, list[tuple[Scored, Parts]]] = {}
        passages: list[Scored] = []
        for cand in found:
            if cand.text in hidden:
                continue
            w = weigh(cand)
            if cand.kind == "passage":
                passages.append(Scored(cand, scorer.passage_score(query, cand, w)))
                continue
            parts = scorer.parts(query, cand, w)
            per_topic.setdefault(cand.topic or cand.ref, []).append((Scored(cand, parts.score), parts))
        topics: list[Shortlisted] = []
        bests: list[Scored] = []
        ranked_shipped: list[bool] = []
        for topic, scored in per_topic.items():
            scored.sort(key=lambda sp: sp[0].score, reverse=True)
            best = scorer.topic_score([s for s, _ in scored])
            topics.append(
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
            first = min((s.candidate for s, _ in scored), key=lambda c: c.rank)
            ranked_shipped.append(self.snapshot.is_shipped(first))
        order = sorted(range(len(topics)), key=lambda i: topics[i].score, reverse=True)[:SCORED_TOPICS]
        top = ranks_by_source([topics[i] for i in order], [ranked_shipped[i] for i in order])
        return Shortlist(top, [bests[i] for i in order], passages)
