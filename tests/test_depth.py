"""Answers as deep as the sources: a claim asked about leads the answer, and what we lack is named, not guessed."""

from __future__ import annotations

import json
from pathlib import Path

import opencc
import pytest

from rolebot.conversation.service import Service
from rolebot.engine.engine import Engine
from rolebot.engine.ranker import load_model
from rolebot.kb.knowledge import shipped_points
from rolebot.store.store import Store

NEAR = Path(__file__).resolve().parent / "data" / "near.jsonl"  # our own, kept out of training
T2S = opencc.OpenCC("t2s")


def near_questions() -> list[dict[str, object]]:
    return [json.loads(line) for line in NEAR.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_claims_own_question_leads_its_answer_with_the_claim(shared_store: Store) -> None:
    points = shipped_points()
    engine = Engine(shared_store, points=points)
    by_id = {p.id: p for p in points}
    own = other = 0
    for point in points:
        for ask in point.asks:
            r = engine.ask(ask)
            if r.point_id is None:
                continue
            led = by_id[r.point_id]
            assert r.answered and r.answer is not None and r.answer.startswith(led.text)
            assert led.topic == r.topic, "a point is only ever one of the answering topic's"
            assert any(s["title"] == led.source for s in r.sources)
            own += r.point_id == point.id
            other += r.point_id != point.id
    assert own >= 50 and other <= own // 5, (own, other)


def test_a_plain_question_of_a_topic_gets_its_answer_as_written(shared_store: Store) -> None:
    engine = Engine(shared_store, points=shipped_points())
    r = engine.ask("营销和销售有什么区别")
    assert r.point_id is None and r.answer == shared_store.entry("marketing-vs-sales")["answer"]  # type: ignore[index]


def test_the_shipped_model_reads_aspects() -> None:
    aspects = load_model().aspects
    assert aspects is not None and "covered" in aspects.classes and "salary" in aspects.classes
    votes = aspects.probabilities("运营的工资一般多少")
    assert max(votes, key=votes.__getitem__) == "salary"


def test_a_pay_question_about_our_roles_says_what_is_missing_and_offers_what_we_have(shared_store: Store) -> None:
    svc = Service(shared_store, salt="t")
    got = svc.ask("运营的工资一般多少", record=False)
    assert got.result.kind == "related" and not got.result.answered
    assert got.result.missing is not None and got.result.missing.aspect == "salary"
    assert "运营的薪资" in got.reply.plain and "没有资料" in got.reply.plain
    assert got.reply.flat_buttons(), "the nearest topics are offered"
    assert got.result.to_json()["missing"] == {"aspect": "salary", "words": [], "roles": ["运营"]}


@pytest.mark.parametrize("row", near_questions(), ids=lambda r: str(r["q"])[:12])
def test_near_domain_questions_are_never_answered_as_off_topic(shared_store: Store, row: dict[str, object]) -> None:
    got = Service(shared_store, salt="t").ask(str(row["q"]), record=False)
    assert got.result.kind != "decline", "a question about our roles gets the nearest topics, not 'not my field'"


def test_near_domain_questions_get_related_naming_what_is_missing(shared_store: Store) -> None:
    rows = near_questions()
    svc = Service(shared_store, salt="t")
    related = named = 0
    for row in rows:
        got = svc.ask(str(row["q"]), record=False)
        related += got.result.kind == "related"
        text = T2S.convert(got.reply.plain)
        named += got.result.kind == "related" and any(str(m) in text for m in row["missing"])  # type: ignore[attr-defined]
    assert len(rows) >= 20
    # measured: 29 of 33 related, 19-21 naming the missing part; these lines keep the gain
    assert related >= 26 and named >= 17, (related, named)
