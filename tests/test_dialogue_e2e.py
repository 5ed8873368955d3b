"""End to end through the stand-in Bot API: pronouns, requests about the last answer, declines that say why."""

from __future__ import annotations

from typing import Any

from rolebot.conversation.render import CALM, DECLINES, NOTES
from tests.helpers.bot import GROUP, USER, buttons, sends
from tests.test_conversation_e2e import converse, service_of, title


def gist(svc: Any, topic: str) -> str:
    """Return the one-line summary of a topic's answer."""
    result = svc.engine.show_topic(topic)
    return next(ln for ln in result.answer.splitlines() if ln.strip())


async def test_pronouns_read_the_last_answers_roles(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    _, important = await converse(api, ["营销和运营有什么区别", "它们谁更重要"])
    _, together = await converse(api, ["营销和运营有什么区别", "它俩怎么配合"])
    for reply in (important, together):
        assert title(svc, "marketing-ops-collaboration") in reply["text"]
    assert "营销和运营谁更重要" in important["text"]  # says it answers the nearest point, not the question
    _, first = await converse(api, ["营销和运营有什么区别", "后者是什么"])
    assert first["text"].startswith(title(svc, "what-is-operations"))
    _, harder = await converse(api, ["营销和运营有什么区别", "哪个更难"])
    assert title(svc, "marketing-vs-operations") in harder["text"]


async def test_requests_about_the_last_answer(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    full, simpler, example, traditional, plain = await converse(
        api, ["营销和运营有什么区别", "再简单点", "举个例子", "换成繁体说一遍", "说人话"]
    )
    line = gist(svc, "marketing-vs-operations")
    assert line in full["text"] and "• " in full["text"]
    assert line in simpler["text"] and "• " not in simpler["text"].split("来源")[0]
    claims = [p.text for p in svc.points if p.topic == "marketing-vs-operations" and p.aspect == "example"]
    assert example["text"].startswith("举个资料里的例子") and any(c in example["text"] for c in claims)
    assert "来源：《" in example["text"]
    assert traditional["text"].startswith("<b>營銷和運營有什麼區別") and "來源：" in traditional["text"]
    assert "一句話" in plain["text"], "the short one, still in Traditional"
    note, doubt = await converse(api, ["翻译成英文", "你确定吗"])
    assert note["text"].startswith("這個要求我做不到"), "says so, in the script the chat is now in"
    assert "來源" in doubt["text"] and "👎" in doubt["text"]
    [simplified] = await converse(api, ["换成简体"])
    assert simplified["text"].startswith("<b>营销和运营有什么区别")
    [after] = await converse(api, ["翻译成英文"])
    assert after["text"] == NOTES["unservable"]


async def test_compare_with_a_new_role(running: Any) -> None:
    api, app = running
    _, versus = await converse(api, ["运营是什么", "和销售比呢"])
    assert versus["text"].startswith(title(service_of(app), "sales-vs-operations"))


async def test_requests_need_a_last_answer_of_this_chat_and_user(running: Any) -> None:
    api, app = running
    await converse(api, ["营销和运营有什么区别"], user=USER)
    for line in ("它们谁更重要", "再简单点", "举个例子"):
        [reply] = await converse(api, [line], user=USER + 70)
        assert reply["text"].startswith(NOTES["no-last-answer"][:10])


async def test_group_context_is_per_user(running: Any) -> None:
    api, app = running
    svc = service_of(app)
    group = {"chat_id": GROUP, "chat_type": "group", "chat_title": "Team"}
    api.user_message("/ask 营销和运营有什么区别", user_id=USER, **group)
    await sends(api)
    bot_msg = api.last_bot_message(GROUP)
    mark = api.mark()
    api.user_message("它们谁更重要", user_id=USER + 80, reply_to=bot_msg, **group)
    [other] = await sends(api, since=mark)
    assert other["text"].startswith(NOTES["no-last-answer"][:10])
    mark = api.mark()
    # another wording: the group's repeat guard would drop the same text a second time
    api.user_message("它俩怎么配合", user_id=USER, reply_to=bot_msg, **group)
    [same] = await sends(api, since=mark)
    assert title(svc, "marketing-ops-collaboration") in same["text"]


async def test_three_declines_say_why(running: Any) -> None:
    api, app = running
    weather, pay, insult = await converse(api, ["今天天气怎么样", "运营的工资一般多少", "你好笨啊"])
    assert weather["text"] == DECLINES["off-topic"]
    assert {"营销", "销售", "市场", "运营"} <= {b["text"] for b in buttons(weather)}
    assert "运营的薪资" in pay["text"] and "没有资料" in pay["text"]
    assert buttons(pay) and all(b["callback_data"].startswith("t:career") for b in buttons(pay))
    assert insult["text"] == CALM


async def test_roles_mentioned_in_passing_get_what_the_knowledge_says(running: Any) -> None:
    api, app = running
    for question, term in (("BD是做什么的", "BD"), ("公关是做什么的", "公关"), ("品牌是做什么的", "品牌")):
        [reply] = await converse(api, [question])
        assert "资料里提到它的地方" in reply["text"] and term in reply["text"] and "来源：《" in reply["text"]
        assert reply["text"] != DECLINES["off-topic"] and buttons(reply)


async def test_premise_is_corrected_first(running: Any) -> None:
    api, app = running
    [reply] = await converse(api, ["市场部是赚钱的部门吧"])
    first, _, rest = reply["text"].partition("\n\n")
    assert "花钱" in first and first.startswith("不是")
    assert rest.startswith(title(service_of(app), "market-vs-sales"))


async def test_help_and_topics(running: Any) -> None:
    api, app = running
    help_, topics = await converse(api, ["/help", "/topics"])
    assert "再简单点" in help_["text"] and "/topics" in help_["text"] and "/ask" in help_["text"]
    assert "你好" not in topics["text"] and "rolebot" not in topics["text"]
    assert {"营销", "销售", "市场", "运营"} <= {b["text"] for b in buttons(topics)}
