"""Conversation context, follow-ups and small talk, through the service and `rolebot chat`."""

from __future__ import annotations

import pytest

from rolebot.conversation.context import Contexts, read_follow_up, swap_roles
from rolebot.conversation.service import Service
from rolebot.conversation.smalltalk import read_small_talk
from rolebot.language.script import SIMPLIFIED_READER
from rolebot.language.vocabulary import vocabulary
from rolebot.store.store import Store
from rolebot.terminal.chat import run_chat
from tests.test_cli import scripted


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def svc(store: Store) -> Service:
    return Service(store, salt="s")


def topic_of(svc: Service, text: str, key: object = ("chat", 1)) -> str | None:
    return svc.ask(text, context=key).result.topic


@pytest.mark.parametrize(
    ("first", "follow", "topic"),
    [
        pytest.param("销售是什么", "那运营呢", "what-is-operations", id="那运营呢"),
        pytest.param("销售是什么", "运营呢", "what-is-operations", id="运营呢"),
        pytest.param("销售是什么", "那市场部呢", "what-is-market", id="那市场部呢"),
        pytest.param("用户运营是做什么的", "内容运营呢", "content-operations", id="内容运营呢"),
        pytest.param("营销和销售有什么区别", "那运营和销售呢", "sales-vs-operations", id="那运营和销售呢"),
        pytest.param("營銷是什麼", "那營運呢", "what-is-operations", id="traditional"),
    ],
)
def test_elliptical_follow_up_keeps_the_intent_and_swaps_the_role(
    svc: Service, first: str, follow: str, topic: str
) -> None:
    assert svc.ask(first, context=("c", 1)).result.answered
    assert topic_of(svc, follow, ("c", 1)) == topic


def test_full_question_after_an_answer_is_read_on_its_own(svc: Service) -> None:
    svc.ask("销售是什么", context=("c", 1))
    assert topic_of(svc, "营销和运营有什么区别", ("c", 1)) == "marketing-vs-operations"


def test_more_opens_the_passages_of_the_last_answer(svc: Service) -> None:
    first = svc.ask("营销是什么", context=("c", 1))
    assert first.result.entry_id and first.result.has_more
    expected = svc.more(first.result.entry_id)
    for ask in ("详细说说", "展开讲讲", "为什么？"):
        got = svc.ask(ask, context=("c", 1))
        assert got.result.kind == "more" and expected is not None and got.reply.plain == expected.plain
    # an example is asked for by name (issue 28): a claim or passage sentence that is one, not all the passages
    example = svc.ask("举个例子", context=("c", 1))
    assert example.result.kind == "request" and example.reply.plain != expected.plain


def test_context_is_per_chat_and_user(svc: Service) -> None:
    svc.ask("营销和销售有什么区别", context=("a", 1))
    assert svc.ask("那运营呢", context=("b", 1)).result.normalized == "那运营呢"  # read alone, not swapped
    assert svc.ask("详细说说", context=("c", 1)).result.kind == "smalltalk"  # another chat, same user
    assert svc.ask("详细说说", context=("a", 2)).result.kind == "smalltalk"  # same chat, another user
    assert svc.ask("详细说说", context=("a", 1)).result.kind == "more"


def test_context_expires_after_ten_minutes(svc: Service) -> None:
    clock = Clock()
    svc.contexts = Contexts(clock=clock)
    svc.ask("营销是什么", context=("c", 1))
    clock.now += 599
    assert svc.ask("详细说说", context=("c", 1)).result.kind == "more"
    clock.now += 601
    assert svc.ask("详细说说", context=("c", 1)).result.kind == "smalltalk"


def test_contexts_are_bounded() -> None:
    ctx = Contexts(limit=3)
    for n in range(10):
        ctx.put(n, "q", None, SIMPLIFIED_READER)
    assert len(ctx) == 3 and ctx.get(0) is None and ctx.get(9) is not None


@pytest.mark.parametrize("text", ["销售是什么", "运营", "营销和销售有什么区别", "为什么有市场部", "运营是做什么的呢"])
def test_full_questions_are_not_follow_ups(text: str) -> None:
    follow = read_follow_up(text, vocabulary())
    assert follow is None


def test_swap_roles_replaces_the_last_role_or_the_whole_list() -> None:
    vocab = vocabulary()
    one = read_follow_up("那运营呢", vocab)
    two = read_follow_up("那运营和销售呢", vocab)
    assert one is not None and two is not None
    assert swap_roles("营销和销售有什么区别", one, vocab) == "营销和运营有什么区别"
    assert swap_roles("营销和销售有什么区别", two, vocab) == "运营和销售有什么区别"
    assert swap_roles("今天天气如何", one, vocab) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [("你好", "greeting"), ("你好呀！", "greeting"), ("谢谢", "thanks"), ("谢谢啦~", "thanks"), ("在吗", "greeting"),
     ("你是谁？", "identity"), ("好的", "ack"), ("謝謝", "thanks"), ("hello", "greeting")],
)  # fmt: skip
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    assert read_small_talk(text, vocabulary()) == kind


@pytest.mark.parametrize("text", ["你好，营销和销售有什么区别", "谢谢，那运营呢", "营销是什么"])
def test_questions_are_not_small_talk(text: str) -> None:
    assert read_small_talk(text, vocabulary()) is None


def test_small_talk_is_friendly_and_not_logged(svc: Service, store: Store) -> None:
    for text in ("你好", "谢谢", "在吗", "你是谁", "好的"):
        answer = svc.ask(text)
        assert "不太确定" not in answer.reply.plain
        assert {"营销", "销售", "市场", "运营"} <= {b.label for b in answer.reply.flat_buttons()}
    assert store.unanswered() == []


def test_chat_session_keeps_context_and_small_talk(svc: Service, store: Store) -> None:
    read, written = scripted(
        ["你好", "销售是什么", "那运营呢", "详细说说", "营销和销售有什么区别", "那运营和销售呢", "谢谢"]
    )
    run_chat(svc, read=read, write=written.append)
    _, hello, sales, ops, more, mvs, svo, thanks = written[:8]
    assert "不太确定" not in hello and "[1] 营销" in hello
    assert sales.startswith(svc.engine.topic_question("what-is-sales") or "?")
    assert ops.startswith(svc.engine.topic_question("what-is-operations") or "?")
    passages = svc.store.topic_passages("what-is-operations")
    assert passages and str(passages[0]["text"])[:20] in more
    assert svo.startswith(svc.engine.topic_question("sales-vs-operations") or "?")
    assert "不客气" in thanks
    assert store.unanswered() == []
