"""One question through the engine's parts: snapshot → retriever → featurizer → ranker → policy → result.

A pipeline belongs to one snapshot of the knowledge and never changes; the live engine swaps in a new
one when the knowledge changes, and training builds one per fold (`without`).
"""

from __future__ import annotations

from rolebot.engine.features import COVERED, FEATURES, FeatureTable, Featurizer, Shortlisted
from rolebot.engine.heuristic import PhrasingScorer, Roles, Scored
from rolebot.engine.points import Points
from rolebot.engine.policy import CANDIDATES, OFFERED, Decision, Policy
from rolebot.engine.ranker import Model
from rolebot.engine.result import Missing, Result, pct
from rolebot.engine.retriever import Retriever, Shortlist
from rolebot.engine.snapshot import Snapshot
from rolebot.language.light import is_light
from rolebot.language.normalize import Normalized, normalize
from rolebot.language.script import SIMPLIFIED_READER, Reader
from rolebot.language.understand import Query, understand
from rolebot.store.schema import Choice, FaqRow, FollowUp, Links, Point

FOLLOW_UPS = 3
ASPECT_AT = 0.5  # the aspect reader names a missing aspect when this sure of it


class Pipeline:
    """Answers questions from one snapshot of the knowledge with one model; safe across threads."""

    def __init__(
        self, snapshot: Snapshot, model: Model, scorer: PhrasingScorer, roles: Roles, points: Points | None = None
    ) -> None:
        self.snapshot = snapshot
        self.model = model
        self.points = points
        self.scorer = scorer
        self.roles = roles
        self.retriever = Retriever(snapshot, scorer)
        self.featurizer = Featurizer(snapshot, roles, model.space, model.off_topic, model.classifier, model.aspects)
        self.policy = Policy(model.thresholds)

    def without(self, hidden: frozenset[str], model: Model | None = None) -> Pipeline:
        """Return this pipeline with phrasings hidden (a training fold's) and, if given, another model."""
        return Pipeline(self.snapshot.without(hidden), model or self.model, self.scorer, self.roles, self.points)

    # -- the parts in order ----------------------------------------------------------------------------
    def pairs(self, text: str) -> tuple[Query, list[Shortlisted], FeatureTable]:
        """Return a question, its shortlisted topics and their features (what the ranker sees)."""
        query = understand(text, self.snapshot.vocab)
        if not query.content:
            return query, [], FeatureTable(FEATURES, [])
        found = self.retriever.shortlist(query).topics
        return query, found, self.featurizer.table(query, found)

    def answer(self, text: str, norm: Normalized | None = None) -> Result:
        """Answer one question: an exact lookup first, then shortlist, features, ranker and policy."""
        snap = self.snapshot
        entry_id = snap.exact_entry(text)
        if entry_id is not None and (entry := snap.entry(entry_id)) is not None:
            norm = norm or normalize(text, snap.vocab)
            owner: list[Choice] = [{"topic": entry["topic"], "score": 100, "entry_id": entry_id}]
            result = Result(False, "decline", norm.reader, candidates=owner, normalized=norm.text)
            return self._answer(result, entry, 100.0)
        query = understand(text, snap.vocab, norm)
        if not query.content:
            return Result(False, "empty", query.reader, normalized=query.norm.text)
        shortlist = self.retriever.shortlist(query)
        found = shortlist.topics
        probs = self.model.probabilities(self.featurizer.table(query, found))
        exact = [i for i, s in enumerate(found) if any(self.scorer.same_question(query, p) for p in s.phrasings)]
        decision = self.policy.decide(
            query,
            probs,
            [s.score for s in found],
            exact,
            lambda i: snap.profile(found[i].topic).own_roles == query.entities,
            shortlist.passages,
            self._another_job(query),
        )
        return self._result(query, shortlist, probs, decision)

    # -- results ---------------------------------------------------------------------------------------
    def _result(self, query: Query, shortlist: Shortlist, probs: list[float], decision: Decision) -> Result:
        """Return the result a decision makes, with the best topics as its candidates."""
        found, bests = shortlist.topics, shortlist.bests
        order = sorted(range(len(found)), key=lambda i: probs[i], reverse=True)
        candidates: list[Choice] = [
            {"topic": found[i].topic, "score": pct(100 * probs[i]), "entry_id": bests[i].candidate.ref}
            for i in order[:CANDIDATES]
        ]
        result = Result(False, "decline", query.reader, candidates=candidates, normalized=query.norm.text)
        result.score = pct(100 * (probs[order[0]] if order else 0.0))
        if decision.kind == "answer":
            entry = self.snapshot.entry(bests[decision.topics[0]].candidate.ref)
            if entry is None:
                return result
            self._answer(result, entry, 100 * decision.probability)
            point = self._point(query, entry["topic"])
            return self._lead_with(result, point) if point else result
        if decision.kind == "passage" and decision.passage is not None:
            return self._answer_passage(result, decision.passage)
        if decision.kind in ("related", "decline") and query.entities:
            result.missing = self._missing(query)
            if decision.kind == "decline" and order:
                # about our roles, however far from every answer: never "not my field"; say what is missing when
                # it can be told, and show what we do have on those roles
                decision = Decision("related", tuple(order[:OFFERED]), decision.probability)
        if decision.kind in ("unsure", "related"):
            result.kind = decision.kind
            result.candidates = [
                {
                    "topic": found[i].topic,
                    "score": pct(100 * probs[i]),
                    "entry_id": bests[i].candidate.ref,
                    "question": self.snapshot.topic_question(found[i].topic) or found[i].topic,
                }
                for i in decision.topics
            ]
        return result

    def _answer(self, result: Result, entry: FaqRow, score: float) -> Result:
        """Return the result as the answer of an entry."""
        result.answered = True
        result.kind = "answer"
        result.topic = entry["topic"]
        result.entry_id = entry["id"]
        result.score = pct(score)
        result.question = entry["question"]
        result.answer = entry["answer"]
        result.sources = entry["sources"]
        result.follow_ups = self.follow_ups(entry, [c["topic"] for c in result.candidates])
        result.has_more = self.snapshot.has_passages(entry["topic"])
        return result

    def _another_job(self, query: Query) -> bool:
        """Say whether a comparison names a job of another trade with one of our titles (财务总监, 项目经理).

        Such a job reads almost like ours (营销总监和运营总监), and no answer of ours explains it."""
        if not query.intents & {"difference", "relation", "career"}:
            return False
        vocab = self.snapshot.vocab
        return any(
            o.endswith(title) and len(o) > len(title) and o[: -len(title)] not in vocab.roles
            for o in query.operands
            if o not in vocab.roles
            for title in vocab.titles
        )

    def _missing(self, query: Query) -> Missing | None:
        """Return what a question about our roles asks that the knowledge has no material on, if it can tell."""
        aspect = None
        if self.model.aspects is not None:
            votes = self.model.aspects.probabilities("".join(query.words))
            kind, p = max(votes.items(), key=lambda kp: kp[1])
            aspect = kind if kind != COVERED and p >= ASPECT_AT else None
        vocab = self.snapshot.vocab
        words = tuple(
            w
            for w in dict.fromkeys(query.content)
            if len(w) > 1 and w not in vocab.roles and not is_light(w) and self.snapshot.unseen(w)
        )[:2]
        if aspect is None and not words:
            return None
        return Missing(aspect, words, tuple(sorted(query.entities)))

    def _point(self, query: Query, topic: str) -> Point | None:
        """Return the claim of the answering topic the question asks for, if one reads close enough."""
        if not self.points:
            return None
        th = self.model.thresholds
        hidden = self.snapshot.hidden
        plain = [self.points.content(w) for t, w in self.snapshot.phrasings(topic) if t not in hidden]
        return self.points.best(query.content, topic, plain, th.point, th.point_margin)

    def _lead_with(self, result: Result, point: Point) -> Result:
        """Return an answer that starts with the specific claim asked about, then the topic's answer."""
        result.point_id = point.id
        result.answer = f"{point.text}\n\n{result.answer}" if result.answer else point.text
        if all(s["title"] != point.source for s in result.sources):
            result.sources = [{"title": point.source}, *result.sources]
        return result

    def _answer_passage(self, result: Result, passage: Scored) -> Result:
        """Return the result as a passage's text."""
        row = self.snapshot.store.passage(passage.candidate.ref)
        if row is None:
            return result
        result.answered = True
        result.kind = "passage"
        result.topic = row.get("topic")
        result.passage_id = row["id"]
        result.score = pct(passage.score)
        result.question = row.get("title") or None
        result.answer = row["text"]
        result.sources = row["sources"]
        result.follow_ups = self.follow_ups(
            {"topic": row.get("topic"), "related": []}, [c["topic"] for c in result.candidates]
        )
        return result

    def follow_ups(self, entry: FaqRow | Links, nearby: list[str], limit: int = FOLLOW_UPS) -> list[FollowUp]:
        """Return next questions: the entry's related topics, then nearby ones, never its own."""
        out: list[FollowUp] = []
        for topic in [*(entry.get("related") or []), *nearby]:
            if not topic or topic == entry.get("topic") or any(f["topic"] == topic for f in out):
                continue
            question = self.snapshot.topic_question(topic)
            if question is not None:
                out.append({"topic": topic, "question": question})
            if len(out) >= limit:
                break
        return out

    def show_topic(self, topic: str, reader: Reader = SIMPLIFIED_READER) -> Result:
        """Return the answer of a topic's main entry, as if asked its canonical question."""
        entries = self.snapshot.store.topic_entries(topic)
        if not entries:
            return Result(False, "decline", reader)
        return self._answer(Result(False, "answer", reader, candidates=[]), entries[0], 100.0)
