"""How a question is read: job titles, role shorthands and questions that set two roles equal."""

from __future__ import annotations

import pytest

from rolebot.engine.engine import Engine
from rolebot.language import segment
from rolebot.language.understand import understand
from rolebot.language.vocabulary import vocabulary


@pytest.fixture(scope="module", autouse=True)
def _jieba() -> None:
    segment.prepare(vocabulary())


@pytest.mark.parametrize(
    "text, title",
    [("技术总监平时管什么", "技术总监"), ("人力主管和行政主管", "人力主管"), ("他是研发负责人", "研发负责人")],
)
def test_a_field_and_its_title_are_one_job(text: str, title: str) -> None:
    assert title in segment.words(text)


def test_our_roles_keep_their_titles_apart() -> None:
    # 销售 is one of ours: 销售主管 is still about sales, and 运营总监 stays the role it is
    assert segment.words("销售主管要做什么")[:2] == ["销售", "主管"]
    assert "运营总监" in segment.words("运营总监负责什么")


@pytest.mark.parametrize(
    "text",
    ["产品和运营有什么不同", "做产品还是做运营", "我适合做产品吗"],
)
def test_product_beside_a_role_or_role_verb_is_the_product_manager(text: str) -> None:
    q = understand(text, vocabulary())
    assert "产品经理" in q.entities and "产品" not in q.words
    assert "产品经理" in q.norm.text


@pytest.mark.parametrize("text", ["4P里的产品和价格有什么不同", "产品和价格哪个重要", "产品运营是做什么的"])
def test_product_as_a_thing_stays_a_thing(text: str) -> None:
    assert "产品经理" not in understand(text, vocabulary()).entities


@pytest.mark.parametrize("text", ["推销就是销售吗", "做市场算不算做营销？", "分销是不是销售"])
def test_setting_two_roles_equal_asks_how_they_differ(text: str) -> None:
    assert "difference" in understand(text, vocabulary()).intents


@pytest.mark.parametrize("text", ["销售就是卖东西", "营销是什么"])
def test_a_statement_or_one_role_is_no_comparison(text: str) -> None:
    assert "difference" not in understand(text, vocabulary()).intents


@pytest.mark.parametrize(
    "text", ["财务总监跟营销总监差在哪", "项目经理和产品经理的职责有什么不同", "人事经理和运营总监哪个难当"]
)
def test_our_role_beside_another_job_with_the_same_title_is_not_answered(engine: Engine, text: str) -> None:
    r = engine.ask(text)
    assert not r.answered, (r.topic, r.score)


def test_roles_alone_offer_the_topics_about_exactly_them(engine: Engine) -> None:
    r = engine.ask("营销和运营")
    assert r.kind == "unsure"
    assert {c["topic"] for c in r.candidates} == {"marketing-vs-operations", "marketing-ops-collaboration"}


def test_roles_alone_with_one_topic_about_them_get_its_answer(engine: Engine) -> None:
    r = engine.ask("销售和运营")
    assert (r.answered, r.topic) == (True, "sales-vs-operations")
