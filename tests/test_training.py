"""What scripts/train.py counts: an answer by a topic that covers the expected one is right, not confidently wrong."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import train  # noqa: E402
from rolebot.engine.ranker import Thresholds  # noqa: E402

LINE = Thresholds(answer=0.8, margin=0.1, choice=0.5, related=0.02)


def test_the_shipped_overlaps_say_which_topic_answers_which() -> None:
    covers = train.covering()
    assert "content-operations" in covers["content-vs-new-media-operations"]
    assert train.accepted("four-ps", covers) >= {"four-ps", "marketing-process"}
    assert train.accepted(None, covers) == frozenset()


def test_an_answer_by_a_covering_topic_is_right_and_only_strictly_wrong() -> None:
    covers = train.covering()
    ranked = [
        train.Ranked(
            "four-ps", "phrasing", [(0.9, "marketing-process"), (0.1, "four-ps")], train.accepted("four-ps", covers)
        ),
        train.Ranked("four-ps", "phrasing", [(0.9, "what-is-sales")], train.accepted("four-ps", covers)),
        train.Ranked(None, "bank", [(0.9, "four-ps")], frozenset()),
        train.Ranked(None, "bank", [(0.3, "four-ps")], frozenset()),
    ]
    res = train.metrics(ranked, LINE)
    assert res["top1"] == 2 / 4  # the covering answer and the declined out-of-scope question
    assert res["wrong"] == 2 / 4  # another topic, and an out-of-scope question answered
    assert res["strict_top1"] == 1 / 4
    assert res["strict_wrong"] == 3 / 4
