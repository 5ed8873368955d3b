"""Maintainers' review: clustering unanswered questions, the review JSON, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rolebot.conversation.review import Reviewer
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.kb.review import build_review, build_stats
from rolebot.store.store import Store
from rolebot.terminal.cli import main


def rows(*pairs: tuple[str, int]) -> list[dict[str, object]]:
    return [
        {"question": q, "text": q, "count": n, "first_seen": 0.0, "last_seen": 0.0, "candidates": []} for q, n in pairs
    ]


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory: pytest.TempPathFactory) -> Reviewer:
    store: Store = open_store(tmp_path_factory.mktemp("reviewer") / "r.db")
    return Reviewer(store)


def cluster(reviewer: Reviewer, found: list[dict[str, object]]) -> list[list[str]]:
    return [g["keys"] for g in reviewer.group(found)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "a, b, together",
    [
        pytest.param("会计和出纳的区别", "会计跟出纳有什么区别", True, id="same-words-other-glue"),
        pytest.param("会计和出纳的区别", "出纳和会计有啥区别", True, id="other-order"),
        pytest.param("会计和出纳的区别", "厨师和服务员的区别", False, id="other-roles"),
        pytest.param("今天天气怎么样", "今天天气怎么样?", True, id="punctuation"),
    ],
)
def test_cluster_groups_near_duplicates(reviewer: Reviewer, a: str, b: str, together: bool) -> None:
    groups = cluster(reviewer, rows((a, 3), (b, 1)))
    assert (len(groups) == 1) is together


def test_cluster_puts_most_asked_first(reviewer: Reviewer) -> None:
    found = rows(("厨师和服务员的区别", 1), ("会计和出纳的区别", 5), ("会计跟出纳有什么区别", 2))
    groups = reviewer.group(found)  # type: ignore[arg-type]
    assert [g["question"] for g in groups] == ["会计和出纳的区别", "厨师和服务员的区别"]
    assert groups[0]["count"] == 7


def test_review_json_shape_and_most_frequent_wording(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    service = Service(open_store(db))
    for text in ["会计和出纳的区别", "会计和出纳的区别", "会计跟出纳有什么区别", "厨师和服务员有什么区别"]:
        service.ask(text)
    entry = service.store.topic_entries("what-is-marketing")[0]["id"]
    service.feedback(entry, -1, 1)
    service.feedback(entry, -1, 1)  # the same user voting again counts once
    service.feedback(entry, 1, 2)
    result = CliRunner().invoke(main, ["review", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    first = data["unanswered"][0]
    assert first["question"] == "会计和出纳的区别" and first["count"] == 3
    assert {"question", "count", "first_seen", "last_seen", "candidates"} <= set(first)
    assert data["feedback"] == [{"topic": "what-is-marketing", "up": 1, "down": 1}]
    text = CliRunner().invoke(main, ["review", "--db", str(db)]).output
    assert "会计和出纳的区别" in text and "👎" in text


def test_no_user_ids_are_stored(tmp_path: Path) -> None:
    service = Service(open_store(tmp_path / "p.db"))
    entry = service.store.topic_entries("what-is-sales")[0]["id"]
    service.feedback(entry, 1, 987654321)
    dump = "\n".join(service.store.db.iterdump())
    assert "987654321" not in dump


def test_stats_answer_rate(tmp_path: Path) -> None:
    service = Service(open_store(tmp_path / "s.db"))
    for text in ["营销是什么", "销售是什么", "会计和出纳的区别", "红烧肉怎么做"]:
        service.ask(text)
    stats = build_stats(service.store)
    assert stats["answer_rate"] == 0.5 and stats["per_day"][-1]["questions"] == 4
    assert len(stats["per_day"]) == 14 and sum(d["questions"] for d in stats["per_day"]) == 4


def test_sparkline_scales_lowest_to_highest() -> None:
    from rolebot.kb.review import sparkline

    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 2.0, 2.0]) == " ▅▅"
    assert sparkline([None, None]) == "  "


def test_trend_shows_questions_and_answer_rate_sparklines(tmp_path: Path) -> None:
    from rolebot.kb.review import format_trend

    service = Service(open_store(tmp_path / "s.db"))
    for text in ["营销是什么", "会计和出纳的区别"]:
        service.ask(text)
    trend = format_trend(build_stats(service.store)).splitlines()
    assert trend[0].startswith("问题") and "共 2" in trend[0] and trend[0].count("█") == 1
    assert trend[1].startswith("回答率") and "最近 50%" in trend[1]


def test_review_suggests_only_likely_topics(tmp_path: Path) -> None:
    from rolebot.kb.review import SUGGEST_AT

    service = Service(open_store(tmp_path / "s.db"))
    service.ask("HR和行政有什么区别")
    service.ask("红烧肉怎么做")
    service.ask("运营具体每天干点啥呢")
    for item in Reviewer(service.store).review()["unanswered"]:
        best = max((c["score"] for c in item["candidates"]), default=0)
        assert (item["suggestion"] is not None) == (best >= SUGGEST_AT)
    assert build_review(service.store)["unanswered"]  # the store-level review: each question alone
