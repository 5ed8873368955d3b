"""What the engine decided for one question, and the JSON contract of `rolebot ask --json`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from rolebot.language.script import Reader
from rolebot.store.schema import Choice, FollowUp, Source


@dataclass(frozen=True)
class Missing:
    """What a question about our roles asks that no answer covers, as the aspect reader and the words tell."""

    aspect: str | None  # the aspect reader's kind ("salary", "interview", "company" …), when it is sure
    words: tuple[str, ...]  # the question's words that no knowledge uses (字节跳动, 作品集)
    roles: tuple[str, ...]  # our roles the question names


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
    point_id: str | None = None  # the claim the answer leads with, if any
    missing: Missing | None = None  # for "related": what the question asks that we have no material on
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
            "point": self.point_id,
            "missing": None
            if self.missing is None
            else {"aspect": self.missing.aspect, "words": list(self.missing.words), "roles": list(self.missing.roles)},
        }


# what `--json` reports as kind: the four outcomes a user can get
OUTCOMES = {"answer": "answer", "passage": "answer", "unsure": "choice", "related": "related"}


def pct(score: float) -> int:
    """Report a score as a whole number from 0 to 100."""
    return max(0, min(100, round(score)))


def copy_result(result: Result) -> Result:
    """Return a result that callers may change (the service sets its reader) without touching a kept one."""
    return replace(
        result,
        sources=list(result.sources),
        follow_ups=list(result.follow_ups),
        candidates=[c.copy() for c in result.candidates],
    )
