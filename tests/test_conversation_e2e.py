"""End to end through the stand-in Bot API: follow-ups read against the last answer, and small talk."""

from __future__ import annotations

from typing import Any

from rolebot.conversation.context import Contexts
from rolebot.conversation.service import Service
from tests.helpers.bot import GROUP, USER, buttons, sends


def service_of(app: Any) -> Service:
    return app.bot_data["rolebot"].service


def title(service: Service, topic: str) -> str:
    """Return how an answer to a topic starts: its canonical question in bold."""
    question = service.engine.topic_question(topic)
    assert question is not None
    return f"<b>{question}</b>"


async def converse(api: Any, lines: list[str], user: int = USER, chat: int | None = None) -> list[dict[str, Any]]:
    """Send lines one after another, each after the previous reply, and return the replies."""
    out: list[dict[str, Any]] = []
    for line in lines:
        mark = api.mark()
        api.user_message(line, user_id=user, chat_id=chat)
        [msg] = await sends(api, since=mark)
        out.append(msg)
    return out


async def test_role_swaps_keep_the_intent(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    _, ops = await converse(api, ["销售是什么", "那运营呢"])
    assert ops["text"].startswith(title(svc, "what-is-operations"))
    _, content = await converse(api, ["用户运营是做什么的", "内容运营呢"])
    assert content["text"].startswith(title(svc, "content-operations"))
    _, pair = await converse(api, ["营销和销售有什么区别", "那运营和销售呢"])
    assert pair["text"].startswith(title(svc, "sales-vs-operations"))


async def test_more_opens_the_last_answers_passages(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    answer, more = await converse(api, ["营销是什么", "详细说说"])
    assert any(b.get("callback_data", "").startswith("m:") for b in buttons(answer))
    passages = svc.store.topic_passages("what-is-marketing")
    assert passages and str(passages[0]["text"])[:15] in more["text"]


async def test_full_question_is_read_on_its_own(running: Any) -> None:
    api, app = running
    _, other = await converse(api, ["销售是什么", "营销和运营有什么区别"])
    assert other["text"].startswith(title(service_of(app), "marketing-vs-operations"))


async def test_context_never_leaks_across_chats(running: Any) -> None:
    api, app = running
    await converse(api, ["营销是什么"], user=USER)
    [reply] = await converse(api, ["详细说说"], user=USER + 50)
    assert "先问我一个问题" in reply["text"]


async def test_context_expires(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    now = [0.0]
    svc.contexts = Contexts(clock=lambda: now[0])
    await converse(api, ["营销是什么"])
    now[0] += 11 * 60
    [reply] = await converse(api, ["详细说说"])
    assert "先问我一个问题" in reply["text"]


async def test_small_talk_is_friendly_and_not_logged(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    replies = await converse(api, ["你好", "谢谢", "在吗"])
    for msg in replies:
        assert "不太确定" not in msg["text"] and "没读懂" not in msg["text"]
        assert {"营销", "销售", "市场", "运营"} <= {b["text"] for b in buttons(msg)}
    assert svc.store.unanswered() == []


async def test_group_follow_up_only_in_a_reply_to_the_bot(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    api.user_message("/ask 销售是什么", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team")
    await sends(api)
    bot_msg = api.last_bot_message(GROUP)
    mark = api.mark()
    api.user_message("那运营呢", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team", reply_to=bot_msg)
    [reply] = await sends(api, since=mark)
    assert reply["text"].startswith(title(svc, "what-is-operations"))
