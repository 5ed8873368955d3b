"""End to end: the real Application over its real HTTP client against the stand-in Bot API."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.tg.app import build_application
from tests.helpers.bot import GROUP, USER, _j, buttons, sends, settled
from tests.helpers.fakeapi import FakeBotAPI
from tests.helpers.waits import eventually


async def test_start_registers_commands_and_shows_browse_menu(running: Any) -> None:
    api, _ = running
    await api.wait_for("setMyCommands")
    commands = _j(api.calls_to("setMyCommands")[0]["commands"])
    assert {c["command"] for c in commands} >= {"start", "help", "topics", "ask", "settings"}
    api.user_message("/start", user_id=USER)
    [msg] = await sends(api)
    labels = [b["text"] for b in buttons(msg)]
    assert len(labels) >= 4 and {"营销", "销售", "市场", "运营"} <= set(labels)


async def test_private_answer_has_bold_question_source_and_buttons(running: Any) -> None:
    api, _ = running
    api.user_message("营销和销售有什么区别", user_id=USER)
    [msg] = await sends(api)
    assert msg["parse_mode"] == "HTML"
    assert msg["text"].startswith("<b>") and "来源：" in msg["text"]
    assert len(msg["text"]) <= 4096
    data = [b.get("callback_data", "") for b in buttons(msg)]
    assert any(d.startswith("t:") for d in data) and "t:marketing-vs-sales" not in data
    assert any(d.startswith("u:") for d in data) and any(d.startswith("d:") for d in data)
    assert all(len(d.encode()) <= 64 for d in data)


async def test_every_text_message_gets_exactly_one_reply(running: Any) -> None:
    api, _ = running
    questions = ["营销是什么", "会计和出纳的区别", "😀😀", "<b>市场</b> & 'x'; DROP TABLE entries;--", "x" * 4096]
    for q in questions:
        api.user_message(q, user_id=USER)
    msgs = await sends(api, count=len(questions))
    assert len(msgs) == len(questions)
    assert "来源" not in msgs[1]["text"]  # a decline never cites a source
    assert "&lt;b&gt;" not in msgs[1]["text"]


async def test_traditional_question_gets_traditional_reply(running: Any) -> None:
    api, _ = running
    api.user_message("行銷和業務有什麼不同？", user_id=USER)
    [msg] = await sends(api)
    answer = msg["text"].split("來源")[0]
    assert "行銷" in answer and "業務" in answer  # the reader's own Taiwan words
    # source titles are cited as published (Simplified); nothing else is
    assert "营销" not in re.sub("《[^》]*》", "", msg["text"]) and "營銷" not in answer and "計程車" not in msg["text"]
    labels = [b["text"] for b in buttons(msg)]
    assert "行銷是什麼？" in labels and "業務是什麼？" in labels  # the same buttons, converted
    assert [b["callback_data"] for b in buttons(msg)][:2] == ["t:what-is-marketing", "t:what-is-sales"]
    # pressing a follow-up keeps the reader's words
    api.callback(next(b["callback_data"] for b in buttons(msg) if b["text"] == "行銷是什麼？"), user_id=USER)
    follow = (await sends(api, count=2))[1]
    shown = re.sub("《[^》]*》", "", follow["text"])
    assert "行銷" in shown and "营销" not in shown and "營銷" not in shown


async def test_unsure_offers_choices_and_none_of_these(running: Any) -> None:
    api, app = running
    service: Service = app.bot_data["rolebot"].service
    # find a question the engine is unsure about, from its own knowledge (no hard-coded answer)
    probe = next(
        q
        for q in ("市场营销怎么做", "营销和运营", "运营和市场", "市场", "产品运营 产品经理")
        if service.engine.ask(q).kind == "unsure"
    )
    api.user_message(probe, user_id=USER)
    [msg] = await sends(api)
    labels = [b["text"] for b in buttons(msg)]
    assert "你是想问" in msg["text"] and "都不是" in labels and len(labels) >= 3


async def test_follow_up_press_is_acknowledged_and_answers(running: Any) -> None:
    api, _ = running
    api.user_message("营销和销售有什么区别", user_id=USER)
    [msg] = await sends(api)
    follow = next(b for b in buttons(msg) if b.get("callback_data", "").startswith("t:"))
    api.callback(follow["callback_data"], user_id=USER)
    await api.wait_for("answerCallbackQuery")
    msgs = await sends(api, count=2)
    assert "来源：" in msgs[1]["text"]


async def test_more_and_feedback_buttons(running: Any) -> None:
    api, app = running
    api.user_message("营销和销售有什么区别", user_id=USER)
    [msg] = await sends(api)
    data = {b["text"]: b["callback_data"] for b in buttons(msg) if "callback_data" in b}
    answer_msg = api.bot_messages(USER)[0]
    api.callback(data["📖 更多"], user_id=USER, message=answer_msg)
    msgs = await sends(api, count=2)
    assert "来源：" in msgs[1]["text"]
    mark = api.mark()
    api.callback(data["👍"], user_id=USER, message=answer_msg)
    [ack] = await api.wait_for("answerCallbackQuery", since=mark)
    assert "谢谢" in ack.get("text", "")
    service: Service = app.bot_data["rolebot"].service
    assert service.store.feedback_by_topic()[0]["up"] == 1


@pytest.mark.parametrize("data", ["t:no-such-topic", "zz:1", "m:missing", "x" * 64, "u:"])
async def test_stale_or_forged_callback_gets_alert(running: Any, data: str) -> None:
    api, _ = running
    api.user_message("营销是什么", user_id=USER)
    await sends(api)
    api.callback(data, user_id=USER, check=False)
    [ack] = await api.wait_for("answerCallbackQuery")
    assert ack.get("show_alert") in (True, "true", "True") and "过期" in ack.get("text", "")


async def test_browse_edits_menu_in_place(running: Any) -> None:
    api, _ = running
    api.user_message("/start", user_id=USER)
    [msg] = await sends(api)
    ops = next(b for b in buttons(msg) if b["text"] == "运营")
    api.callback(ops["callback_data"], user_id=USER)
    [edit] = await api.wait_for("editMessageText")
    assert any(b["callback_data"] == "t:user-operations" for b in buttons(edit))


async def test_deep_link_opens_one_answer(running: Any) -> None:
    api, _ = running
    api.user_message("/start market-vs-sales", user_id=USER)
    [msg] = await sends(api)
    assert "市场部" in msg["text"] and "来源：" in msg["text"]


async def test_help_topics_ask_commands(running: Any) -> None:
    api, _ = running
    api.user_message("/help", user_id=USER)
    api.user_message("/topics", user_id=USER)
    api.user_message("/ask 营销和运营有什么区别", user_id=USER)
    msgs = await sends(api, count=3)
    assert "/topics" in msgs[0]["text"] and buttons(msgs[1]) and "来源：" in msgs[2]["text"]


async def test_inline_query_results_and_popular(running: Any) -> None:
    api, _ = running
    api.inline_query("营销 销售", user_id=USER)
    api.inline_query("", user_id=USER)
    calls = await api.wait_for("answerInlineQuery", count=2)
    by_count = sorted((_j(c["results"]) for c in calls), key=len)
    for results in by_count:
        assert 1 <= len(results) <= 10
        for r in results:
            assert r["title"] and r["input_message_content"]["message_text"]
    assert len(by_count[-1]) >= 4


async def test_group_quiet_unless_addressed(running: Any) -> None:
    api, _ = running
    api.add_chat(GROUP, "group", title="Team") if hasattr(api, "add_chat") else None
    api.user_message("营销和销售有什么区别", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team")
    api.user_message(
        "/ask@rolebot_test_bot 营销和销售有什么区别", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team"
    )
    [msg] = await sends(api)
    assert str(msg["chat_id"]) == str(GROUP)
    assert msg.get("reply_to_message_id") or msg.get("reply_parameters")
    labels = [b["text"] for b in buttons(msg)]
    assert labels == ["详细"] and buttons(msg)[0]["url"].startswith("https://t.me/rolebot_test_bot?start=")
    # asking the same again within a minute is not answered twice
    mark = api.mark()
    api.user_message("/ask 营销和销售有什么区别", user_id=USER + 5, chat_id=GROUP, chat_type="group", chat_title="Team")
    api.user_message("/ask 市场部和销售部有什么区别", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team")
    later = await sends(api, since=mark)
    assert len(later) == 1 and "市场" in later[0]["text"]


async def test_group_reply_to_bot_is_answered(running: Any) -> None:
    api, _ = running
    api.user_message("/ask 营销是什么", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team")
    [first] = await sends(api)
    bot_msg = api.last_bot_message(GROUP)
    api.user_message(
        "那运营是什么", user_id=USER, chat_id=GROUP, chat_type="group", chat_title="Team", reply_to=bot_msg
    )
    msgs = await sends(api, count=2)
    assert "运营" in msgs[1]["text"]


async def test_settings_admin_only_and_persisted(running: Any) -> None:
    api, app = running
    admin, member = USER, USER + 7
    api.user_message("hi", user_id=admin, chat_id=GROUP, chat_type="supergroup", chat_title="Team")
    api.set_member(GROUP, admin, "administrator")
    api.set_member(GROUP, member, "member")
    api.user_message("/settings", user_id=member, chat_id=GROUP, chat_type="supergroup", chat_title="Team")
    [refusal] = await sends(api)
    assert "管理员" in refusal["text"] and not buttons(refusal)
    api.user_message("/settings", user_id=admin, chat_id=GROUP, chat_type="supergroup", chat_title="Team")
    msgs = await sends(api, count=2)
    panel = msgs[1]
    assert "隐私模式" in panel["text"]
    auto = next(b for b in buttons(panel) if b["callback_data"] == "s:mode=auto")
    panel_msg = api.last_bot_message(GROUP)
    # a forged press by a non-admin is rejected and changes nothing
    api.callback(auto["callback_data"], user_id=member, message=panel_msg)
    [ack] = await api.wait_for("answerCallbackQuery")
    assert ack.get("show_alert") in (True, "true", "True")
    service: Service = app.bot_data["rolebot"].service
    assert service.store.group_settings(GROUP) == {}
    api.callback(auto["callback_data"], user_id=admin, message=panel_msg)
    await api.wait_for("editMessageText")
    assert service.store.group_settings(GROUP)["mode"] == "auto"


async def test_settings_for_an_anonymous_admin(running: Any) -> None:
    """An admin posting as the group (from: GroupAnonymousBot, sender_chat: the group) gets the panel."""
    api, _ = running
    api.user_message("/settings", chat_id=GROUP, chat_type="supergroup", chat_title="Team", as_group=True)
    [panel] = await sends(api)
    assert "隐私模式" in panel["text"] and buttons(panel)
    assert not api.calls_to("getChatMember"), "no member lookup of GroupAnonymousBot"


async def test_migration_carries_settings(running: Any) -> None:
    api, app = running
    service: Service = app.bot_data["rolebot"].service
    service.store.save_group_settings(-3001, {"mode": "auto", "threshold": 70})
    api.migrate(-3001, -1003001)
    await eventually(lambda: service.store.group_settings(-1003001), "the settings under the new chat id", timeout=4)
    assert service.store.group_settings(-1003001)["threshold"] == 70


async def test_non_text_and_unknown_command_get_polite_reply(running: Any) -> None:
    api, _ = running
    api.sticker(user_id=USER)
    api.photo(user_id=USER)
    api.voice(user_id=USER)
    api.user_message("/frobnicate", user_id=USER)
    msgs = await sends(api, count=4)
    assert all("文字" in m["text"] or "/help" in m["text"] for m in msgs)


async def test_edited_messages_and_channel_posts_are_ignored(running: Any) -> None:
    api, app = running
    original = api.user_message("营销是什么", user_id=USER)
    await sends(api)
    api.edited_message(original, "运营是什么")
    api.channel_post("营销是什么")
    api.user_message("销售是什么", user_id=USER)
    msgs = await sends(api, count=2)
    await settled(api, app)  # every update handled: an answer to any other would have been sent
    assert len(api.calls_to("sendMessage")) == 2 and "销售" in msgs[1]["text"]


async def test_mentions_answered_plain_chatter_ignored_when_bot_sees_all(running: Any) -> None:
    api, app = running
    api.add_chat(GROUP, "supergroup", title="Team", bot_status="administrator")
    api.user_message(
        "大家好，今天营销会议几点开", user_id=USER, chat_id=GROUP, chat_type="supergroup", chat_title="Team"
    )
    api.user_message(
        "@rolebot_test_bot 市场部和销售部有什么区别",
        user_id=USER,
        chat_id=GROUP,
        chat_type="supergroup",
        chat_title="Team",
    )
    [msg] = await sends(api)
    await settled(api, app)  # every update handled: an answer to any other would have been sent
    assert len(api.calls_to("sendMessage")) == 1 and "市场" in msg["text"]


async def test_auto_mode_answers_confident_questions_only(running: Any) -> None:
    api, app = running
    service: Service = app.bot_data["rolebot"].service
    api.add_chat(GROUP, "supergroup", title="Team", bot_status="administrator")
    service.store.save_group_settings(GROUP, {"mode": "auto", "threshold": 80})
    api.user_message("今天午饭吃什么", user_id=USER, chat_id=GROUP, chat_type="supergroup", chat_title="Team")
    api.user_message("营销和销售有什么区别", user_id=USER, chat_id=GROUP, chat_type="supergroup", chat_title="Team")
    [msg] = await sends(api)
    await settled(api, app)  # every update handled: an answer to any other would have been sent
    assert len(api.calls_to("sendMessage")) == 1 and "营销" in msg["text"]


async def test_added_to_group_introduces_itself_once_and_removal_is_quiet(running: Any) -> None:
    api, _ = running
    api.add_chat(GROUP, "group", title="Team", bot_status="left")
    api.my_chat_member(GROUP, "left", "member")
    [hello] = await sends(api)
    assert "/ask" in hello["text"]
    api.my_chat_member(GROUP, "member", "left")
    api.user_message("营销是什么", user_id=USER)
    msgs = await sends(api, count=2)
    assert str(msgs[1]["chat_id"]) == str(USER)


async def test_webhook_mode_checks_secret(
    fake_api: FakeBotAPI, seed_db: Path, tmp_path: Path, unused_tcp_port: int
) -> None:
    """The webhook server `rolebot run --webhook-url` starts (tg/webhook.py): updates in, forgeries refused."""
    import httpx

    from rolebot.tg.webhook import WebhookServer

    db = tmp_path / "w.db"
    shutil.copy(seed_db, db)
    settings = Settings(token=fake_api.token, db_path=db, base_url=fake_api.base_url)
    app = build_application(settings, Service(open_store(db)))
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        delivery = app.bot_data["rolebot"].delivery
        await delivery.start(poll=False)
        server = WebhookServer(delivery, "telegram", "s3cret")
        await server.start("127.0.0.1", unused_tcp_port)
        await app.bot.set_webhook(url, secret_token="s3cret")
        try:
            assert fake_api.webhook is not None and fake_api.webhook["secret_token"] == "s3cret"
            fake_api.user_message("营销是什么", user_id=USER)
            [msg] = await sends(fake_api)
            assert "来源：" in msg["text"]
            async with httpx.AsyncClient() as client:
                forged = await client.post(url, json={"update_id": 1, "message": {}})
                wrong = await client.post(url, json={"update_id": 2}, headers={"X-Telegram-Bot-Api-Secret-Token": "no"})
            assert forged.status_code == 403 and wrong.status_code == 403 and server.refused == 2
        finally:
            await server.stop()
            await delivery.stop()
            await app.stop()
            await app.post_shutdown(app)


async def test_inline_query_in_traditional_answers_in_traditional(running: Any) -> None:
    api, _ = running
    api.inline_query("行銷 業務 差別", user_id=USER)
    [call] = await api.wait_for("answerInlineQuery")
    results = _j(call["results"])
    assert results and "銷" in results[0]["title"] and "营" not in results[0]["title"]
    assert "來源" in results[0]["input_message_content"]["message_text"]
