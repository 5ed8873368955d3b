"""Proves the FakeBotAPI stand-in speaks what the real python-telegram-bot 22 Application needs."""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.client
import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    TelegramObject,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.helpers.fakeapi import DEFAULT_SUPERGROUP_ID, DEFAULT_USER_ID, FakeBotAPI
from tests.helpers.waits import eventually

AnyApp = Application[Any, Any, Any, Any, Any, Any]


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to timedelta periods: else RetryAfter() itself warns (an error here)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


def build_app(api: FakeBotAPI, *handlers: BaseHandler[Any, Any, Any], **request: Any) -> AnyApp:
    """An Application wired to the stand-in (request kwargs go to HTTPXRequest)."""
    builder = ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
    if request:
        builder = builder.request(HTTPXRequest(**request))
    app = builder.build()
    for handler in handlers:
        app.add_handler(handler)
    return app


@asynccontextmanager
async def polling(app: AnyApp) -> AsyncIterator[AnyApp]:
    """Initialise, poll and start the app; stop and shut it down afterwards (the pytest way)."""
    async with app:
        await app.updater.start_polling(timeout=1, poll_interval=0)  # type: ignore[union-attr]
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the same text."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


def assert_complete(obj: Any, path: str = "update") -> None:
    """Fail if PTB found fields it does not know (misspelt keys land in api_kwargs)."""
    if isinstance(obj, TelegramObject):
        assert not obj.api_kwargs, f"{path}: unknown fields {dict(obj.api_kwargs)}"
        names = {n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())}
        for name in sorted(names):
            if not name.startswith("_"):
                assert_complete(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            assert_complete(item, f"{path}[{i}]")


async def test_echo_round_trip(fake_api: FakeBotAPI) -> None:
    """A user's message reaches the echo handler and the reply arrives as sendMessage."""
    replies: list[Message] = []

    async def remember_echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        replies.append(await update.message.reply_text(update.message.text))

    app = build_app(fake_api, MessageHandler(filters.TEXT & ~filters.COMMAND, remember_echo))
    async with polling(app):
        sent = fake_api.user_message("营销和销售有什么区别？", language_code="zh-hans")
        (params,) = await fake_api.wait_for("sendMessage")
        assert params["chat_id"] == DEFAULT_USER_ID
        assert params["text"] == "营销和销售有什么区别？"
        assert app.bot.username == fake_api.username
    assert [c.method for c in fake_api.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
    last = [r.params for r in fake_api.log if r.method == "getUpdates" and r.status == 200][-1]
    assert last["timeout"] == 0 and last["offset"] == sent["update_id"] + 1
    (reply,) = replies
    assert reply.message_id == sent["message"]["message_id"] + 1
    assert reply.from_user is not None and reply.from_user.id == fake_api.bot_id
    assert reply.chat.id == DEFAULT_USER_ID
    assert fake_api.texts(DEFAULT_USER_ID) == ["营销和销售有什么区别？"]
    assert not fake_api.pending_updates


async def test_callback_query_is_answered_and_edits(fake_api: FakeBotAPI) -> None:
    """A button press reaches CallbackQueryHandler; the answer and the edit are recorded."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("营销", callback_data="r:1")]])
        await update.message.reply_text("选一个角色", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("好的")
        await query.edit_message_text(f"你选了 {query.data}")

    app = build_app(fake_api, CommandHandler("start", start), CallbackQueryHandler(pressed))
    async with polling(app):
        fake_api.user_message("/start")
        await fake_api.wait_for("sendMessage")
        with pytest.raises(ValueError, match="no button"):
            fake_api.callback("r:2")
        press = fake_api.callback("r:1")
        (answer,) = await fake_api.wait_for("answerCallbackQuery")
        await fake_api.wait_for("editMessageText")
    assert answer["callback_query_id"] == press["callback_query"]["id"]
    assert answer["text"] == "好的"
    final = fake_api.last_bot_message(DEFAULT_USER_ID)
    assert final["text"] == "你选了 r:1" and "reply_markup" not in final and "edit_date" in final


@pytest.mark.parametrize(
    ("fault", "error", "check"),
    [
        ({"status": 429, "retry_after": 3}, RetryAfter, lambda e: e.retry_after == dtm.timedelta(seconds=3)),
        ({"status": 500}, NetworkError, lambda e: not isinstance(e, BadRequest)),
        ({"status": 502}, NetworkError, lambda e: "Bad Gateway" in e.message),
        (
            {"status": 403, "description": "Forbidden: bot was blocked by the user"},
            Forbidden,
            lambda e: "blocked" in e.message,
        ),
        (
            {"status": 400, "description": "Bad Request: chat not found"},
            BadRequest,
            lambda e: e.message == "Chat not found",
        ),
        ({"status": 400, "migrate_to_chat_id": -1009}, ChatMigrated, lambda e: e.new_chat_id == -1009),
    ],
)
async def test_injected_failures_surface_as_ptb_errors(
    fake_api: FakeBotAPI,
    fault: dict[str, Any],
    error: type[Exception],
    check: Callable[[Any], bool],
) -> None:
    """Injected HTTP errors map to the PTB exception classes, once, then sends work again."""
    fake_api.add_user(started=True)
    app = build_app(fake_api)
    async with app:
        fake_api.fail("sendMessage", **fault)
        with pytest.raises(error) as caught:
            await app.bot.send_message(DEFAULT_USER_ID, "hi")
        assert check(caught.value)
        assert fake_api.sent() == []
        assert [f.kind for f in fake_api.faulted] == ["fail"]
        await app.bot.send_message(DEFAULT_USER_ID, "again")
    assert fake_api.texts() == ["again"]


async def test_drop_and_delay(fake_api: FakeBotAPI) -> None:
    """A dropped connection is a NetworkError; a delay past the read timeout is TimedOut."""
    fake_api.add_user(started=True)
    app = build_app(fake_api, read_timeout=0.3)
    async with app:
        fake_api.drop("sendMessage")
        with pytest.raises(NetworkError, match="disconnected"):
            await app.bot.send_message(DEFAULT_USER_ID, "lost")
        fake_api.delay("sendChatAction", 1.0)
        with pytest.raises(TimedOut):
            await app.bot.send_chat_action(DEFAULT_USER_ID, "typing")
        assert [f.kind for f in fake_api.faulted] == ["drop", "delay"]
        assert await app.bot.send_chat_action(DEFAULT_USER_ID, "typing")


async def test_natural_telegram_errors(fake_api: FakeBotAPI) -> None:
    """Realistic refusals: unknown chat, user who never started, blocked, parse errors, etc."""
    fake_api.add_user(7, "Bob")
    app = build_app(fake_api)
    async with app:
        bot = app.bot
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(424242, "x")
        with pytest.raises(Forbidden, match="initiate conversation"):
            await bot.send_message(7, "x")
        fake_api.add_user(started=True)
        fake_api.block(DEFAULT_USER_ID)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(DEFAULT_USER_ID, "x")
        fake_api.block(DEFAULT_USER_ID, False)
        with pytest.raises(BadRequest, match='unsupported start tag "br" at byte offset 1'):
            await bot.send_message(DEFAULT_USER_ID, "a<br>b", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"character '\.' is reserved"):
            await bot.send_message(DEFAULT_USER_ID, "v1.2", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(
                DEFAULT_USER_ID,
                "x",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("长", callback_data="营销" * 11)]]),
            )
        with pytest.raises(BadRequest, match="text is empty"):
            await bot.send_message(DEFAULT_USER_ID, "  ")
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(DEFAULT_USER_ID, "x" * 4097)
        message = await bot.send_message(
            DEFAULT_USER_ID,
            '  <b>营销</b> &amp; <a href="https://e.x/">销售</a>😀 <i>x</i> ',
            parse_mode=ParseMode.HTML,
        )
        assert message.text == "营销 & 销售😀 x"
        assert [(e.type, e.offset, e.length) for e in message.entities] == [
            ("bold", 0, 2),
            ("text_link", 5, 2),
            ("italic", 10, 1),
        ]
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text(
                "营销 & 销售😀 x", DEFAULT_USER_ID, message.message_id, entities=message.entities
            )
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("y", DEFAULT_USER_ID, 999)
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("fooBar")
    assert fake_api.internal_errors == []


async def test_unknown_method_and_wrong_token_bodies(fake_api: FakeBotAPI) -> None:
    """Raw HTTP: unknown method is 404 with Telegram's body; a wrong token is 401/404."""

    def post(path: str) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", fake_api.port, timeout=5)
        try:
            conn.request("POST", path, body=b"", headers={"Content-Length": "0"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    assert await asyncio.to_thread(post, f"/bot{fake_api.token}/noSuchMethod") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert (await asyncio.to_thread(post, "/bot999:WRONG/getMe"))[0] == 401
    assert (await asyncio.to_thread(post, "/botgarbage/getMe"))[0] == 404
    assert (await asyncio.to_thread(post, f"/bot{fake_api.token}/getme"))[1]["result"]["id"] == 123

    bad = ApplicationBuilder().token("999:WRONG").base_url(fake_api.base_url).build()
    with pytest.raises(InvalidToken):
        await bad.initialize()
    await bad.bot.shutdown()  # app.shutdown() is a no-op after a failed initialize


async def test_updates_are_delivered_once_across_restarts(fake_api: FakeBotAPI) -> None:
    """Offsets confirm updates: neither a polling restart nor a new app sees them again."""
    seen: list[int] = []

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    async def until_seen(update_id: int) -> None:
        while update_id not in seen:
            await asyncio.sleep(0.01)

    expected: list[int] = []
    app = build_app(fake_api, MessageHandler(filters.ALL, count))
    async with app:
        for text in ("one", "two"):
            expected.append(fake_api.user_message(text)["update_id"])
            await app.updater.start_polling(timeout=1, poll_interval=0)  # type: ignore[union-attr]
            await app.start()
            await asyncio.wait_for(until_seen(expected[-1]), 5)
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
    second_app = build_app(fake_api, MessageHandler(filters.ALL, count))
    async with polling(second_app):
        expected.append(fake_api.user_message("three")["update_id"])
        await asyncio.wait_for(until_seen(expected[-1]), 5)
    assert seen == expected
    assert not fake_api.pending_updates


async def test_get_updates_offset_semantics(fake_api: FakeBotAPI) -> None:
    """getUpdates: no offset re-delivers, offset confirms, negative offset keeps the tail."""
    ids = [fake_api.user_message(f"m{i}")["update_id"] for i in range(4)]
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        assert [u.update_id for u in await bot.get_updates()] == ids
        assert [u.update_id for u in await bot.get_updates()] == ids
        assert [u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)] == ids[1:2]
        assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[3:]
        assert [u.update_id for u in await bot.get_updates()] == ids[3:]
        started = asyncio.get_running_loop().time()
        assert await bot.get_updates(offset=ids[3] + 1, timeout=dtm.timedelta(milliseconds=300)) == ()
        assert asyncio.get_running_loop().time() - started >= 0.25


async def test_document_download(fake_api: FakeBotAPI) -> None:
    """A user's document can be fetched with getFile and downloaded from base_file_url."""
    content = "问题,答案\n营销,4P\n".encode()
    got: list[bytes] = []

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        got.append(bytes(await file.download_as_bytearray()))

    app = build_app(fake_api, MessageHandler(filters.Document.ALL, on_document))
    async with polling(app):
        update = fake_api.document("faq.csv", content, caption="新的 FAQ")
        await fake_api.wait_for("download")
        await eventually(lambda: got, "the handler to have the document")
        file_id = update["message"]["document"]["file_id"]
        direct = await (await app.bot.get_file(file_id)).download_as_bytearray()
    assert got == [content] and bytes(direct) == content
    assert update["message"]["document"]["mime_type"] == "text/csv"


async def test_upload_edit_markup_close(fake_api: FakeBotAPI) -> None:
    """Multipart uploads are parsed and stored; reply markup edits; close/logOut answer True."""
    fake_api.add_user(started=True)
    bot = Bot(fake_api.token, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url)
    async with bot:
        payload = "答案 ✓".encode() + bytes(range(256))
        doc = await bot.send_document(
            DEFAULT_USER_ID, payload, filename="答案.txt", caption="<i>来源</i>", parse_mode=ParseMode.HTML
        )
        assert doc.document is not None and doc.document.file_name == "答案.txt"
        assert fake_api.file_content(doc.document.file_id) == payload
        assert doc.caption == "来源" and doc.caption_entities[0].type == "italic"
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="m")]])
        msg = await bot.send_message(DEFAULT_USER_ID, "x")
        edited = await bot.edit_message_reply_markup(DEFAULT_USER_ID, msg.message_id, reply_markup=keyboard)
        assert isinstance(edited, Message) and edited.reply_markup == keyboard
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_reply_markup(DEFAULT_USER_ID, msg.message_id, reply_markup=keyboard)
        assert await bot.send_chat_action(DEFAULT_USER_ID, "typing")
        assert await bot.log_out() and await bot.close()
    methods = [c.method for c in fake_api.calls]
    assert methods[-3:] == ["sendChatAction", "logOut", "close"]
    assert fake_api.sent(methods=("editMessageReplyMarkup",))[0]["message_id"] == msg.message_id


async def test_update_builders_produce_complete_objects(fake_api: FakeBotAPI) -> None:
    """Every helper's update parses in PTB without unknown fields or missing required ones."""
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    text = "/ask@rolebot_test_bot 运营 是什么 @someone https://x.org #tag"
    user_msg = fake_api.user_message(text)
    updates = [
        user_msg,
        fake_api.edited_message(user_msg, "/ask 市场"),
        fake_api.channel_post("公告"),
        fake_api.sticker(),
        fake_api.photo(caption="看图"),
        fake_api.voice(),
        fake_api.document("a.pdf", b"%PDF"),
        fake_api.inline_query("营销"),
        fake_api.new_chat_members(DEFAULT_SUPERGROUP_ID, [fake_api.bot_id, 55]),
        fake_api.left_chat_member(DEFAULT_SUPERGROUP_ID, 55),
        *fake_api.migrate(-4100),
    ]
    async with bot:
        fake_api.add_user(started=True)
        sent = await bot.send_message(
            DEFAULT_USER_ID, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
        )
        updates.append(fake_api.callback("a", message=sent.to_dict()))
        updates.append(fake_api.user_message("re", reply_to=sent.to_dict()))
        parsed = [Update.de_json(u, bot) for u in updates]
        for queued in fake_api.pending_updates:
            assert_complete(Update.de_json(queued, bot))
        for update in parsed:
            assert_complete(update)
        entities = parsed[0].message.entities  # type: ignore[union-attr]
        assert [(e.type, e.offset, e.length) for e in entities] == [
            ("bot_command", 0, 21),
            ("mention", 29, 8),
            ("url", 38, 13),
            ("hashtag", 52, 4),
        ]
        assert parsed[0].message.text.startswith("/ask@")  # type: ignore[union-attr]
        reply = parsed[-1].message.reply_to_message  # type: ignore[union-attr]
        assert reply is not None and reply.message_id == sent.message_id
        old, new = parsed[-4:-2]
        assert old.effective_chat.type == "group"  # type: ignore[union-attr]
        assert old.effective_message.migrate_to_chat_id == -1004100  # type: ignore[union-attr]
        assert new.effective_message.migrate_from_chat_id == -4100  # type: ignore[union-attr]
        kinds = [next(k for k in u if k != "update_id") for u in updates]
        assert "my_chat_member" not in kinds  # returned update is the service message ...
        assert any("my_chat_member" in u for u in fake_api.pending_updates)  # ... both queued


async def test_chat_member_and_chat_info(fake_api: FakeBotAPI) -> None:
    """getChatMember returns complete objects for every status; getChat a full ChatFullInfo."""
    chat = DEFAULT_SUPERGROUP_ID
    fake_api.user_message("/start@rolebot_test_bot", chat_type="supergroup", user_id=11)
    fake_api.set_member(chat, 11, "creator")
    fake_api.set_member(chat, 12, "administrator", can_promote_members=True)
    fake_api.set_member(chat, 13, "member")
    fake_api.set_member(chat, 14, "restricted")
    fake_api.set_member(chat, 15, "kicked")
    fake_api.set_member(chat, 16, "left")
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        members = [await bot.get_chat_member(chat, uid) for uid in range(11, 17)]
        for member in members:
            assert_complete(member, "member")
        assert [m.status for m in members] == [
            ChatMember.OWNER,
            ChatMember.ADMINISTRATOR,
            ChatMember.MEMBER,
            ChatMember.RESTRICTED,
            ChatMember.BANNED,
            ChatMember.LEFT,
        ]
        assert isinstance(members[0], ChatMemberOwner)
        assert isinstance(members[1], ChatMemberAdministrator) and members[1].can_promote_members
        me = await bot.get_chat_member(chat, fake_api.bot_id)
        assert me.status == ChatMember.MEMBER and me.user.id == fake_api.bot_id
        info = await bot.get_chat(chat)
        assert isinstance(info, ChatFullInfo) and info.type == "supergroup"
        assert_complete(info, "chat")
        admins = await bot.get_chat_administrators(chat)
        assert {a.user.id for a in admins} == {11, 12}
        assert await bot.leave_chat(chat)
        with pytest.raises(Forbidden, match="not a member of the supergroup"):
            await bot.send_message(chat, "still here?")
        with pytest.raises(BadRequest, match="User not found"):
            await bot.get_chat_member(chat, 999)


async def test_group_privacy_mode(fake_api: FakeBotAPI) -> None:
    """In a group, a privacy-mode bot gets commands and replies to it, not plain chatter."""
    heard: list[str] = []

    async def hear(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        heard.append(update.message.text or "")
        if update.message.text == "/ask@rolebot_test_bot":
            await update.message.reply_text("问吧")

    app = build_app(fake_api, MessageHandler(filters.TEXT, hear))
    async with polling(app):
        kw: dict[str, Any] = {"chat_type": "group", "chat_title": "市场部"}
        fake_api.user_message("大家好 @rolebot_test_bot", **kw)
        fake_api.user_message("/ask@other_bot", **kw)
        fake_api.user_message("/ask@rolebot_test_bot", **kw)
        await fake_api.wait_for("sendMessage")
        fake_api.user_message("销售呢？", reply_to=fake_api.last_bot_message(), **kw)
        await eventually(lambda: len(heard) >= 2, "the bot to hear two messages")
    assert heard == ["/ask@rolebot_test_bot", "销售呢？"]
    assert [u["message"]["text"] for u in fake_api.undelivered] == ["大家好 @rolebot_test_bot", "/ask@other_bot"]


async def test_migration_raises_chat_migrated(fake_api: FakeBotAPI) -> None:
    """After a group becomes a supergroup, sends to the old id raise ChatMigrated."""
    fake_api.user_message("/start", chat_type="group", chat_id=-4200)
    old, new = fake_api.migrate(-4200)
    assert old["message"]["migrate_to_chat_id"] == -1004200
    assert new["message"]["migrate_from_chat_id"] == -4200
    assert new["message"]["chat"]["type"] == "supergroup"
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        with pytest.raises(ChatMigrated) as caught:
            await bot.send_message(-4200, "x")
        assert caught.value.new_chat_id == -1004200
        assert (await bot.send_message(-1004200, "x")).chat.id == -1004200


async def test_inline_query_and_commands(fake_api: FakeBotAPI) -> None:
    """Inline answers are validated and recorded; command lists round-trip per scope/language."""

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.inline_query is not None
        await update.inline_query.answer(
            [
                InlineQueryResultArticle(
                    f"r{i}", f"营销 {i}", InputTextMessageContent("<b>营销</b>", parse_mode="HTML")
                )
                for i in range(3)
            ]
        )

    app = build_app(fake_api, InlineQueryHandler(answer))
    async with polling(app):
        query = fake_api.inline_query("营销")
        (params,) = await fake_api.wait_for("answerInlineQuery")
        assert params["inline_query_id"] == query["inline_query"]["id"]
        assert [r["id"] for r in params["results"]] == ["r0", "r1", "r2"]
        with pytest.raises(BadRequest, match="Query is too old"):
            await app.bot.answer_inline_query(query["inline_query"]["id"], [])
        await app.bot.set_my_commands([("ask", "提问"), ("help", "帮助")])
        await app.bot.set_my_commands([("ask", "ask")], language_code="en")
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await app.bot.set_my_commands([("Ask", "bad")])
        assert [c.command for c in await app.bot.get_my_commands()] == ["ask", "help"]
        assert fake_api.commands(language_code="en") == [{"command": "ask", "description": "ask"}]
        await app.bot.delete_my_commands()
        assert await app.bot.get_my_commands() == ()


async def test_polling_survives_get_updates_errors(fake_api: FakeBotAPI) -> None:
    """A 500 on getUpdates is retried by PTB's polling (after ~1 s); the update still arrives."""
    fake_api.fail("getUpdates", status=500)
    app = build_app(fake_api, MessageHandler(filters.TEXT, echo))
    async with polling(app):
        fake_api.user_message("hello")
        await fake_api.wait_for("sendMessage", timeout=5)
    assert [(f.method, f.status) for f in fake_api.faulted] == [("getUpdates", 500)]


async def test_wait_for_sync_from_a_thread(fake_api: FakeBotAPI) -> None:
    """The blocking waiter works from another thread while PTB runs on the loop."""
    fake_api.add_user(started=True)
    result: list[list[dict[str, Any]]] = []
    thread = threading.Thread(
        target=lambda: result.append(fake_api.wait_for_sync("sendMessage", predicate=lambda p: p["text"] == "b"))
    )
    thread.start()
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        await bot.send_message(DEFAULT_USER_ID, "a")
        await bot.send_message(DEFAULT_USER_ID, "b")
    await asyncio.to_thread(thread.join, 5)
    assert [p["text"] for p in result[0]] == ["b"]
    with pytest.raises(AssertionError, match=r"waited 0\.05s"):
        await fake_api.wait_for("sendMessage", count=3, timeout=0.05)


async def test_webhook_delivery(fake_api: FakeBotAPI, unused_tcp_port: int) -> None:
    """With a webhook set, getUpdates conflicts and updates are POSTed with the secret token."""
    app = build_app(fake_api, MessageHandler(filters.TEXT, echo))
    async with app:
        await app.updater.start_webhook(  # type: ignore[union-attr]
            listen="127.0.0.1",
            port=unused_tcp_port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{unused_tcp_port}/hook",
            secret_token="s3cret",
        )
        await app.start()
        try:
            assert fake_api.webhook is not None and fake_api.webhook["secret_token"] == "s3cret"
            fake_api.user_message("via webhook")
            (params,) = await fake_api.wait_for("sendMessage")
            assert params["text"] == "via webhook"
            assert fake_api.webhook_deliveries[0][1] == 200
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
