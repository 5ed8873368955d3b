"""The answer engine, stage by stage: segment, understand, retrieve, score, decide."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rolebot.engine.engine import Engine, Result
from rolebot.engine.pipeline import Pipeline
from rolebot.engine.retriever import SHORTLIST
from rolebot.language import segment
from rolebot.language.normalize import normalize
from rolebot.language.understand import understand
from rolebot.language.vocabulary import vocabulary
from tests.helpers.shared import needs_shared

VOCAB = vocabulary()
TOPICS_YAML = Path(__file__).resolve().parent.parent.parent / "shared" / "spec" / "topics.yaml"


def _topics() -> list[dict]:
    if not TOPICS_YAML.exists():
        return []
    return yaml.safe_load(TOPICS_YAML.read_text(encoding="utf-8"))


TOPICS = _topics()
needs_topics = needs_shared(TOPICS, "spec/topics.yaml")


@pytest.fixture(scope="module", autouse=True)
def _jieba_ready(engine: Engine) -> None:
    """The session engine has loaded the domain words into jieba."""


def words(text: str) -> list[str]:
    return segment.words(normalize(text, VOCAB).text)


def check_result(r: Result) -> None:
    """Assert what every result promises: integer scores 0-100, follow-ups never its own topic."""
    assert isinstance(r.score, int) and 0 <= r.score <= 100
    for c in r.candidates:
        assert isinstance(c["score"], int) and 0 <= c["score"] <= 100
    scores = [c["score"] for c in r.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(f["topic"] != r.topic for f in r.follow_ups)
    assert len({f["topic"] for f in r.follow_ups}) == len(r.follow_ups) <= 3
    assert r.answered == (r.kind in ("answer", "passage"))


# -- segment ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, whole",
    [
        pytest.param("新媒体运营和内容运营的区别", ["新媒体运营", "内容运营"], id="new-media"),
        pytest.param("用户运营每天做什么", ["用户运营"], id="user-ops"),
        pytest.param("产品经理和产品运营", ["产品经理", "产品运营"], id="pm"),
        pytest.param("广告投放运营和电商运营", ["广告投放运营", "电商运营"], id="ads-ecommerce"),
        pytest.param("KOL运营是干嘛的", ["kol运营"], id="kol"),
        pytest.param("营销总监和运营总监", ["营销总监", "运营总监"], id="directors"),
        pytest.param("营销策划与销售策划", ["营销策划", "销售策划"], id="planning"),
    ],
)
def test_segment_keeps_roles_whole(text: str, whole: list[str]) -> None:
    got = words(text)
    for w in whole:
        assert w in got, got


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("市场部", ["市场", "部门"], id="market-department"),
        pytest.param("销售部和运营部", ["销售", "部门", "和", "运营", "部门"], id="two-departments"),
        pytest.param("销售市场", ["销售", "市场"], id="no-swallowing"),
        pytest.param("营销、销售？市场！", ["营销", "销售", "市场"], id="punctuation-dropped"),
    ],
)
def test_segment_exact(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_segment_drops_stopwords_in_content() -> None:
    content = segment.content(words("请问营销和销售的区别是什么呢"), VOCAB)
    assert content[:2] == ["营销", "销售"]
    assert not set(content) & {"请问", "和", "的", "是", "什么", "呢"}
    assert len(content) == len(set(content))


# -- understand -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, entities, intent, operands",
    [
        pytest.param(
            "新媒体运营和用户运营的区别",
            {"新媒体运营", "用户运营"},
            "difference",
            ("新媒体运营", "用户运营"),
            id="difference",
        ),
        pytest.param("營銷跟銷售差在哪", {"营销", "销售"}, "difference", ("营销", "销售"), id="traditional"),
        pytest.param("Marketing vs Sales", {"营销", "销售"}, "difference", ("营销", "销售"), id="english-vs"),
        pytest.param("做运营还是做销售好", {"运营", "销售"}, "career", ("运营", "销售"), id="career-skips-verbs"),
        pytest.param(
            "营销、销售、市场和运营",
            {"营销", "销售", "市场", "运营"},
            None,
            ("营销", "销售", "市场", "运营"),
            id="list",
        ),
        pytest.param("营销和运营怎么配合", {"营销", "运营"}, "relation", ("营销", "运营"), id="relation"),
        pytest.param("内容运营是做什么的", {"内容运营"}, "definition", (), id="definition"),
        pytest.param("营销的流程有哪些步骤", {"营销"}, "process", (), id="process"),
        pytest.param("Marketing翻译成营销准确吗", {"营销"}, "translation", (), id="translation"),
        pytest.param("厨师和服务员有什么区别", set(), "difference", ("厨师", "服务员"), id="no-roles"),
    ],
)
def test_understand(text: str, entities: set[str], intent: str | None, operands: tuple[str, ...]) -> None:
    q = understand(text, VOCAB)
    assert set(q.entities) == entities
    if intent:
        assert intent in q.intents
    assert q.operands == operands
    assert q.script == ("traditional" if text == "營銷跟銷售差在哪" else "simplified")
    assert set(q.content) <= set(q.words)


def test_understand_department() -> None:
    q = understand("市场部和销售部有什么区别", VOCAB)
    assert q.entities == {"市场", "销售"}
    assert "difference" in q.intents
    assert "销售" in q.operands


# -- retrieval ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, topic",
    [
        pytest.param("新媒体运营跟内容运营哪里不一样", "content-vs-new-media-operations", id="new-media"),
        pytest.param("市场部跟销售部门的差异", "market-vs-sales", id="departments"),
        pytest.param("分销跟销售啥关系", "distribution-vs-sales", id="distribution"),
        pytest.param("德鲁克说营销让销售多余是什么意思", "drucker-on-marketing", id="drucker"),
        pytest.param("營運是做什麼的", "what-is-operations", id="traditional"),
    ],
)
def test_shortlist_contains_topic(engine: Engine, text: str, topic: str) -> None:
    q = understand(text, VOCAB)
    shortlist = engine.store.search(list(q.content), SHORTLIST)
    assert 0 < len(shortlist) <= SHORTLIST
    assert topic in {c.topic for c in shortlist}


def test_search_quotes_terms(engine: Engine) -> None:
    assert engine.store.search(['营销"', "OR", "NEAR(", "*"], 5) is not None
    assert engine.store.search([], 5) == []


# -- decision ---------------------------------------------------------------------------------------


@needs_topics
@pytest.mark.parametrize("topic", [pytest.param(t, id=t["id"]) for t in TOPICS])
def test_canonical_question_answers_its_topic(engine: Engine, topic: dict) -> None:
    r = engine.ask(topic["question"])
    check_result(r)
    assert r.answered and r.kind == "answer", (r.kind, r.candidates)
    assert r.topic == topic["id"]
    assert r.score >= 100 * engine.model.thresholds.answer
    assert r.sources and r.answer


@needs_topics
def test_every_topic_has_an_entry(engine: Engine) -> None:
    assert all(engine.topic_question(t["id"]) for t in TOPICS)


@pytest.mark.parametrize(
    "text, topic",
    [
        pytest.param("營銷和銷售的區別", "marketing-vs-sales", id="traditional"),
        pytest.param("營運是做什麼的", "what-is-operations", id="taiwan-yingyun"),
        pytest.param("Marketing和Operations有啥区别", "marketing-vs-operations", id="english"),
        pytest.param("ops和marketing的差别", "marketing-vs-operations", id="english-abbrev"),
        pytest.param("SALES是干什么的", "what-is-sales", id="upper-case"),
        pytest.param("PM和产品运营有何不同", "product-ops-vs-product-manager", id="pm"),
        pytest.param("新媒体运营跟内容运营哪里不一样", "content-vs-new-media-operations", id="new-media"),
        pytest.param("活动运营主要负责什么", "activity-operations", id="activity"),
        pytest.param("4P指的是哪四个P", "four-ps", id="4p"),
        pytest.param("我性格内向适合做销售吗", "career-sales", id="career"),
        pytest.param("营销和运营怎么打配合", "marketing-ops-collaboration", id="collaboration"),
        pytest.param("行銷跟業務有什麼差別", "marketing-vs-sales", id="taiwan-wording"),
    ],
)
def test_paraphrases(engine: Engine, text: str, topic: str) -> None:
    r = engine.ask(text)
    check_result(r)
    assert (r.answered, r.topic) == (True, topic), r.candidates


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("厨师和服务员有什么区别", id="other-jobs"),
        pytest.param("司机和快递员有什么区别", id="other-jobs-2"),
        pytest.param("律师和法官的区别", id="other-jobs-3"),
        pytest.param("今天股市怎么样", id="stocks"),
        pytest.param("产品经理和项目经理的区别", id="pm-vs-project-manager"),
        pytest.param("运营商流量费怎么算", id="telecom-operator"),
        pytest.param("手机运营商哪家信号好", id="telecom-operator-2"),
        pytest.param("HR和运营的区别", id="hr-vs-operations"),
        pytest.param("红烧肉怎么做", id="cooking"),
        pytest.param("你好", id="greeting"),
        pytest.param("财务和销售有什么区别", id="finance-vs-sales"),
        pytest.param("客服和销售有什么区别", id="service-vs-sales"),
        pytest.param("采购和销售有什么区别", id="purchasing-vs-sales"),
        pytest.param("老师和销售的区别", id="teacher-vs-sales"),
    ],
)
def test_out_of_scope_is_declined(engine: Engine, text: str) -> None:
    r = engine.ask(text)
    check_result(r)
    assert r.answered is False
    assert r.kind in ("decline", "related", "empty"), (r.kind, r.candidates)
    assert r.topic is None and r.answer is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("内容运营每个月能拿多少钱", id="pay"),
        pytest.param("做活动运营要会哪些作图软件", id="tools"),
        pytest.param("用户运营要考哪些证书", id="certificate"),
        pytest.param("销售岗位一般几点下班", id="hours"),
    ],
)
def test_uncovered_aspect_of_our_roles_is_related(engine: Engine, text: str) -> None:
    """About our roles, asking what no entry covers: not answered, the nearest topics offered (kind related)."""
    r = engine.ask(text)
    check_result(r)
    assert (r.answered, r.kind) == (False, "related"), (r.kind, r.candidates)
    assert r.candidates and all(c.get("question") for c in r.candidates)
    assert r.to_json()["kind"] == "related"


def test_json_kind_names_the_four_outcomes(engine: Engine) -> None:
    assert engine.ask("营销和销售有什么区别").to_json()["kind"] == "answer"
    assert engine.ask("运营和营销").to_json()["kind"] == "choice"
    assert engine.ask("红烧肉怎么做").to_json()["kind"] == "decline"


@pytest.mark.parametrize("text", ["", "   ", "😀👍", "？？？", "的了吗"])
def test_nothing_to_read_is_empty(engine: Engine, text: str) -> None:
    r = engine.ask(text)
    assert (r.answered, r.kind, r.candidates) == (False, "empty", [])


@pytest.mark.parametrize(
    "text, plausible",
    [
        pytest.param(
            "运营和营销", {"marketing-vs-operations", "marketing-ops-collaboration"}, id="difference-or-relation"
        ),
        pytest.param("市场和运营", {"market-vs-operations", "career-market-vs-operations"}, id="difference-or-career"),
    ],
)
def test_unsure_offers_choices(engine: Engine, text: str, plausible: set[str]) -> None:
    r = engine.ask(text)
    check_result(r)
    assert r.answered is False and r.kind == "unsure", (r.kind, r.candidates)
    assert 2 <= len(r.candidates) <= 3
    assert plausible <= {c["topic"] for c in r.candidates}
    assert all(c["question"] == engine.topic_question(c["topic"]) for c in r.candidates)


def test_two_topics_asked_the_same_way_make_it_unsure(store) -> None:
    from rolebot.kb.knowledge import import_files

    twins = [
        {
            "id": "twin-a",
            "topic": "warehouse-a",
            "question": "仓储主管和采购主管有什么区别",
            "answer": "甲",
            "sources": [{"title": "测试"}],
        },
        {
            "id": "twin-b",
            "topic": "warehouse-b",
            "question": "仓储主管跟采购主管有什么区别",
            "answer": "乙",
            "sources": [{"title": "测试"}],
        },
    ]
    path = store.path.parent / "twins.jsonl"
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in twins) + "\n", encoding="utf-8")
    import_files(store, [path])
    r = Engine(store).ask("仓储主管与采购主管的区别")
    check_result(r)
    assert (r.answered, r.kind) == (False, "unsure"), (r.kind, r.candidates)
    assert {c["topic"] for c in r.candidates[:2]} == {"warehouse-a", "warehouse-b"}
    assert r.topic is None and r.answer is None and r.follow_ups == []


@pytest.mark.parametrize(
    "text",
    [
        "渠道",
        "营销的事",
        "运营岗位好吗",
        "营销学哪本书好",
        pytest.param("总监"),
        pytest.param("品牌"),
    ],
)
def test_unsure_never_has_a_single_choice(engine: Engine, text: str) -> None:
    r = engine.ask(text)
    check_result(r)
    if r.kind == "unsure":
        assert len(r.candidates) >= 2, r.candidates


@needs_topics
def test_follow_ups_never_repeat_the_topic(engine: Engine) -> None:
    for t in TOPICS:
        shown = engine.show_topic(t["id"])
        check_result(shown)
        assert shown.answered and shown.topic == t["id"]
        assert shown.follow_ups, t["id"]
        assert all(engine.topic_question(f["topic"]) for f in shown.follow_ups)


def test_follow_ups_skip_own_topic_even_when_related() -> None:
    class FakeSnapshot:
        def topic_question(self, topic: str) -> str | None:
            return {"a": "A?", "b": "B?", "c": "C?"}.get(topic)

    pipeline = Pipeline.__new__(Pipeline)  # only its snapshot is asked
    pipeline.snapshot = FakeSnapshot()  # type: ignore[assignment]
    got = pipeline.follow_ups({"topic": "a", "related": ["a", "b", "zzz", "b"]}, ["a", "c", "b"])
    assert got == [{"topic": "b", "question": "B?"}, {"topic": "c", "question": "C?"}]


def test_show_unknown_topic(engine: Engine) -> None:
    assert engine.show_topic("no-such-topic").answered is False


def test_results_are_deterministic(engine: Engine) -> None:
    first = engine.ask("营销和运营有什么区别").to_json()
    assert engine.ask("营销和运营有什么区别").to_json() == first


def test_exclude_hides_phrasings(engine: Engine) -> None:
    q = "营销和运营有什么区别？"
    assert engine.ask(q).topic == "marketing-vs-operations"
    hidden = frozenset(
        p for e in engine.store.topic_entries("marketing-vs-operations") for p in (e["question"], *e["alternates"])
    )
    r = engine.fold(hidden).answer(q)
    assert r.topic != "marketing-vs-operations"
    assert "marketing-vs-operations" not in {c["topic"] for c in r.candidates}


def test_the_shortlist_ranks_by_the_hand_made_parts(engine: Engine) -> None:
    query = understand("营销和销售有什么区别", VOCAB)
    topics = engine.pipeline.retriever.shortlist(query).topics
    assert topics[0].topic == "marketing-vs-sales"
    assert [t.score for t in topics] == sorted((t.score for t in topics), reverse=True)
    best = topics[0].parts
    assert best.entities == 1.0 and best.intent == 1.0 and best.unknown == 0
    assert best.score <= topics[0].score  # a topic is its best phrasing, lifted by an agreeing second


@settings(database=None, deadline=None, max_examples=150)
@given(
    st.text(max_size=60)
    | st.lists(
        st.sampled_from(
            [
                "营销",
                "销售",
                "市场",
                "运营",
                "和",
                "的区别",
                "是什么",
                "怎么选",
                "行銷",
                "業務",
                "ops",
                "PM",
                "部",
                "？",
                "😀",
                '"',
                "*",
            ]
        ),
        max_size=8,
    ).map("".join)
)
def test_any_question_gets_a_well_formed_result(engine: Engine, text: str) -> None:
    r = engine.ask(text)
    check_result(r)
    assert r.kind in ("answer", "passage", "unsure", "related", "decline", "empty")
    if r.kind == "unsure":
        assert r.candidates
    if r.answered:
        assert r.topic and r.answer and r.sources


def test_long_message_is_quick(engine: Engine) -> None:
    text = ("营销和销售有什么区别，" + "用户运营内容运营活动运营市场部门" * 20) * 13
    assert len(text) > 4000
    start = time.perf_counter()
    check_result(engine.ask(text[:4096]))
    assert time.perf_counter() - start < 2.0
