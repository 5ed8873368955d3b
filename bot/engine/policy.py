"""The policy: from the ranker's probabilities to one outcome, by the thresholds and the few rules that beat them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rolebot.engine.heuristic import Scored
from rolebot.engine.ranker import Thresholds
from rolebot.engine.result import pct
from rolebot.language.understand import Query

PASSAGE_AT = 85
PASSAGE_BELOW = 45  # a passage answers only when no entry comes this close by the hand-made score
CANDIDATES = 5  # topics a result lists, best first
OFFERED = 3  # topics a choice or "the closest we have" shows


@dataclass(frozen=True)
class Decision:
    """What to do with a question: the outcome, the shortlisted topics it names (best first) and its score."""

    kind: str  # "answer" | "passage" | "unsure" (a choice) | "related" | "decline"
    topics: tuple[int, ...]  # indices into the shortlist: the answer's, or the topics offered
    probability: float  # the reported confidence, 0–1
    passage: Scored | None = None


@dataclass(frozen=True)
class Policy:
    """Draws the lines between answer, choice, related and decline (thresholds from the model file)."""

    thresholds: Thresholds

    def decide(
        self,
        query: Query,
        probs: list[float],
        heuristic: list[float],
        exact: list[int],
        about_just: Callable[[int], bool],
        passages: list[Scored],
        another_job: bool = False,
    ) -> Decision:
        """Decide for one question.

        `probs` and `heuristic` are per shortlisted topic, `exact` the topics with a phrasing that is the question
        itself, `about_just(i)` says whether topic i is about exactly the roles the question names, `another_job`
        whether it compares a job of ours with another one of the same title (财务总监 beside 营销总监).
        """
        th = self.thresholds
        order = sorted(range(len(probs)), key=lambda i: probs[i], reverse=True)
        p1 = probs[order[0]] if order else 0.0
        p2 = probs[order[1]] if len(order) > 1 else 0.0
        if len(exact) > 1:
            # several topics were asked exactly this way: only the asker can say which is meant
            return Decision("unsure", tuple(sorted(exact, key=lambda i: probs[i], reverse=True)[:OFFERED]), p1)
        if len(exact) == 1:
            # asked word for word as one topic's phrasing (an entry's own question, just imported, say)
            return Decision("answer", (exact[0],), max(p1, th.answer))
        if not query.intents and len(query.entities) >= 2 and set(query.content) <= query.entities:
            # roles without a question ("运营和营销"): when several topics are about just these roles, the asker
            # picks, however the ranker orders them; when one is, it is answered as any question
            same = [i for i in order if about_just(i)][:OFFERED]
            if len(same) >= 2:
                return Decision("unsure", tuple(same), p1)
        if order and p1 >= th.answer and p1 - p2 >= th.margin and not another_job:
            return Decision("answer", (order[0],), p1)
        passage = max(passages, key=lambda s: s.score, default=None)
        if passage and passage.score >= PASSAGE_AT and max(heuristic, default=0.0) < PASSAGE_BELOW and p1 < th.choice:
            return Decision("passage", (), passage.score / 100, passage)
        listed = order[:CANDIDATES]
        close = [i for i in listed if pct(100 * probs[i]) >= 100 * th.choice][:OFFERED]
        if len(close) >= 2 or (close and p1 >= th.answer):
            return Decision("unsure", tuple(close), p1)
        near = [i for i in listed if pct(100 * probs[i]) >= 100 * th.related][:OFFERED]
        if near and query.entities:
            # about our roles, but asking what no entry covers: say so and show what is nearest
            return Decision("related", tuple(near), p1)
        return Decision("decline", (), p1)
