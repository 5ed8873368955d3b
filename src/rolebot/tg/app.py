"""The Telegram bot: handlers that turn updates into service calls and replies into messages."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    ChatMember,
    ChatMemberUpdated,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from rolebot.config import Settings
from rolebot.conversation.groups import GroupSettings
from rolebot.conversation.render import Reply, render_settings
from rolebot.conversation.service import Answer, Service
from rolebot.errors import RolebotError
from rolebot.kb.knowledge import open_store
from rolebot.language.normalize import clean
from rolebot.language.script import SIMPLIFIED_READER, reader_of
from rolebot.tg.context import BotServices
from rolebot.tg.health import Heartbeat, HeartbeatRequest, heartbeat_path
from rolebot.tg.maintainers import Maintainers

# Opt in to PTB 22's timedelta durations: the int form warns on every RetryAfter
os.environ.setdefault("PTB_TIMEDELTA", "true")
log = logging.getLogger("rolebot")
T = TypeVar("T")

COMMANDS = [
    ("start", "开始：欢迎和话题菜单"),
    ("ask", "提问，例如 /ask 营销和销售有什么区别"),
    ("topics", "浏览全部话题"),
    ("help", "怎么使用"),
    ("settings", "群设置（仅管理员）"),
]
STALE = "这个按钮已经过期了，请重新提问 🙏"
SORRY = "抱歉，刚才出了点问题，请稍后再试一次。"


class TokenFilter(logging.Filter):
    """Redact the bot token from every log record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            msg = record.getMessage()
            if self.token in msg:
                record.msg = msg.replace(self.token, "<token>")
                record.args = None
        return True


def quiet_logging(token: str) -> None:
    """Keep httpx's per-request URLs (which carry the token) out of the logs, and redact it anywhere."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    token_filter = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)
    for name in ("", "telegram", "telegram.ext", "httpx", "rolebot"):
        logging.getLogger(name).addFilter(token_filter)


class PerChatProcessor(BaseUpdateProcessor):
    """Process updates from different chats at once, but each chat's updates in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        user = update.effective_user if isinstance(update, Update) else None
        key = chat.id if chat else (user.id if user else 0)
        lock = self._locks[key]
        async with lock:
            await coroutine
        if not lock.locked() and not getattr(lock, "_waiters", None):
            self._locks.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class RoleBot:
    """Handlers bound to one service; built by `build_application`."""

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.shared = BotServices(settings, service)
        self.send = self.shared.sender
        self.maintainers = Maintainers(self.shared)

    # -- life cycle ---------------------------------------------------------------------------------
    async def post_init(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Open the store, learn our username and register the command menu."""
        shared = self.shared
        if shared.service is None:
            shared.service = await asyncio.to_thread(lambda: Service(open_store(shared.settings.db_path)))
        shared.username = app.bot.username or ""
        await self.send.call(lambda: app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS]))

    async def post_shutdown(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Close the store."""
        if self.shared.service is not None:
            self.shared.service.store.close()

    @property
    def svc(self) -> Service:
        """Return the service (set in post_init)."""
        return self.shared.svc

    # -- answering ---------------------------------------------------------------------------------
    async def record(self, answer: Answer, text: str, chat_type: str) -> None:
        """Count the question after the reply went out, so a slow disk never delays an answer."""
        if answer.result.answered:
            self.svc.record(answer.result, text[:1000], chat_type)  # a counter in memory, written in batches
        else:
            await asyncio.to_thread(self.svc.record, answer.result, text[:1000], chat_type)

    async def ask(self, text: str, **kwargs: Any) -> Answer:
        """Run the engine off the event loop (matching holds the GIL for milliseconds)."""
        return await asyncio.to_thread(lambda: self.svc.ask(text, **kwargs))

    # -- private chats ------------------------------------------------------------------------------
    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome with a browse menu; `/start <topic>` opens one answer."""
        message = update.effective_message
        if message is None:
            return
        payload = context.args[0] if context.args else ""
        if payload and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload):
            answer = await asyncio.to_thread(self.svc.topic, payload)
            if answer is not None:
                await self.send.send(message, answer.reply)
                return
        await self.send.send(message, self.svc.welcome())

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain how to use the bot."""
        if update.effective_message:
            await self.send.send(update.effective_message, self.svc.help())

    async def on_topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the browse menu."""
        if update.effective_message:
            await self.send.send(update.effective_message, self.svc.welcome())

    async def on_ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer `/ask <question>` (the way to ask in groups)."""
        message = update.effective_message
        if message is None:
            return
        text = " ".join(context.args or [])
        if not text.strip():
            await self.send.send(
                message,
                Reply(
                    "请在 /ask 后面写上问题，例如：/ask 营销和销售有什么区别",
                    "请在 /ask 后面写上问题，例如：/ask 营销和销售有什么区别",
                ),
                quote=message.chat.type != ChatType.PRIVATE,
            )
            return
        await self.answer(message, text, addressed=True)

    async def on_private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer every text message in a private chat, exactly once."""
        message = update.effective_message
        if message is None or not message.text:
            return
        await self.answer(message, message.text, addressed=True)

    async def on_private_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply politely to stickers, photos, voice and the like."""
        message = update.effective_message
        if message is None or not self.allow(message):
            return
        text = "我只能读文字问题哦。直接打字问我吧，比如「市场和运营有什么区别？」"
        await self.send.send(message, Reply(text, text))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Point to /help for commands we do not have (private chats only)."""
        message = update.effective_message
        if message is None or not self.allow(message):
            return
        text = "没有这个命令。可以直接发问题给我，或者看看 /help。"
        await self.send.send(message, Reply(text, text))

    def allow(self, message: Message) -> bool:
        """Apply per-user flood control; the first message over the limit gets one notice."""
        user = message.from_user
        if user is None:
            return True
        verdict = self.shared.flood.check(user.id)
        if verdict == "warn":
            text = "消息有点多，我先歇一分钟，稍后再问我吧 🙏"
            asyncio.get_running_loop().create_task(self.send.send(message, Reply(text, text)))
        return verdict == "ok"

    async def answer(
        self, message: Message, text: str, *, addressed: bool, settings: GroupSettings | None = None
    ) -> None:
        """Answer a question in private or, when addressed or confident, in a group."""
        if not self.allow(message):
            return
        private = message.chat.type == ChatType.PRIVATE
        if private:
            answer = await self.ask(text[:1000], chat_type="private", record=False)
            await self.send.send(message, answer.reply)
            await self.record(answer, text, "private")
            return
        if settings is None:
            settings = await asyncio.to_thread(self.svc.group_settings, message.chat_id)
        if self.shared.repeats.seen_recently(message.chat_id, clean(text)):
            return
        answer = await self.ask(
            text[:1000],
            chat_type="group",
            short=settings.length == "short",
            deep_link=self.shared.deep_link(),
            script=settings.script_override(),
            record=False,
        )
        if not addressed and (not answer.result.answered or answer.result.score < settings.threshold):
            return
        await self.send.send(message, answer.reply, quote=True)
        await self.record(answer, text, "group")

    # -- groups -------------------------------------------------------------------------------------
    def addresses_me(self, message: Message) -> tuple[bool, str]:
        """Say whether a group message is for us (a reply to us or an @mention) and the question in it."""
        text = message.text or ""
        reply_to = message.reply_to_message
        if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == message.get_bot().id:
            return True, text
        mention = f"@{self.shared.username}".lower()
        if self.shared.username and mention in text.lower():
            return True, re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
        return False, text

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stay quiet unless addressed, or unless the group opted in to unprompted confident answers."""
        message = update.effective_message
        if message is None or not message.text:
            return
        addressed, text = self.addresses_me(message)
        settings = None
        if not addressed:
            settings = await asyncio.to_thread(self.svc.group_settings, message.chat_id)
            if settings.mode != "auto":
                return
        if not text.strip():
            return
        await self.answer(message, text, addressed=addressed, settings=settings)

    async def is_admin(self, chat_id: int, user_id: int, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Check (and briefly cache) whether a user administers a chat."""
        cached = self.shared.admins.get((chat_id, user_id))
        if cached is not None:
            return cached
        member = await self.send.call(lambda: context.bot.get_chat_member(chat_id, user_id))
        ok = member is not None and member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
        self.shared.admins.put((chat_id, user_id), ok)
        return ok

    async def on_settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show a group's settings to its admins."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        if message.chat.type == ChatType.PRIVATE:
            text = "设置是给群用的：把我加进群后，由群管理员在群里发 /settings。"
            await self.send.send(message, Reply(text, text))
            return
        if not await self.is_admin(message.chat_id, user.id, context):
            text = "抱歉，只有群管理员可以修改我的设置。"
            await self.send.send(message, Reply(text, text), quote=True)
            return
        settings = await asyncio.to_thread(self.svc.group_settings, message.chat_id)
        await self.send.send(message, render_settings(settings))

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Carry settings over when a group becomes a supergroup."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            await asyncio.to_thread(self.svc.move_group, message.chat_id, message.migrate_to_chat_id)
        elif message.migrate_from_chat_id:
            await asyncio.to_thread(self.svc.move_group, message.migrate_from_chat_id, message.chat_id)

    async def on_my_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Introduce ourselves once when added to a group; forget nothing harmful when removed."""
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type == ChatType.PRIVATE:
            return
        was = change.old_chat_member.status
        now = change.new_chat_member.status
        joined = was in (ChatMember.LEFT, ChatMember.BANNED) and now in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
        if joined:
            text = (
                "大家好，我是 rolebot。我默认保持安静，只在被点名时回答："
                "用 /ask 问题，或回复我的消息。管理员可以用 /settings 调整。"
            )
            await self.send.call(lambda: context.bot.send_message(change.chat.id, text))
        elif now in (ChatMember.LEFT, ChatMember.BANNED):
            log.info("removed from chat %s", change.chat.id)

    # -- buttons ------------------------------------------------------------------------------------
    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle a button press: follow-up, more, feedback, browse, settings; stale data gets an alert."""
        query = update.callback_query
        if query is None:
            return
        data = query.data if isinstance(query.data, str) else ""
        message = query.message if isinstance(query.message, Message) else None
        # our own message says who it was for: its script, region and the reader's local words
        reader = reader_of(message.text or "") if message else SIMPLIFIED_READER
        kind, _, value = data.partition(":")
        if len(data.encode()) > 64 or not re.fullmatch(r"[a-z]{1,2}", kind or "-"):
            await self.send.alert(query, STALE)
            return
        if kind == "s":
            await self.on_settings_button(update, context, value)
            return
        if kind == "a":
            await self.maintainers.on_add_phrasing(update, value)
            return
        if kind == "ci":
            await self.maintainers.on_confirm_import(update, value)
            return
        reply: Reply | None = None
        toast = ""
        edit = False
        if kind == "t":
            private = message is None or message.chat.type == ChatType.PRIVATE
            answer = await asyncio.to_thread(
                lambda: self.svc.topic(value, reader, short=not private, deep_link=self.shared.deep_link())
            )
            reply = answer.reply if answer else None
        elif kind == "m":
            reply = await asyncio.to_thread(self.svc.more, value, reader)
        elif kind == "b":
            reply, edit = self.svc.browse(value, reader), True
        elif kind in ("u", "d") and query.from_user:
            ok = await asyncio.to_thread(
                self.svc.feedback,
                value,
                1 if kind == "u" else -1,
                query.from_user.id,
                message.chat.type if message else "private",
            )
            if ok:
                await self.send.ack(query, "谢谢反馈！" if kind == "u" else "收到，我们会改进这个回答。")
                return
        elif kind == "n":
            reply, edit = self.svc.welcome(reader), True
            toast = "好的，可以换个问法，或者从话题里挑一个。"
        if reply is None:
            await self.send.alert(query, STALE)
            return
        await self.send.ack(query, reader.write(toast))
        if message is None:
            return
        if edit:
            await self.send.edit(message, reply)
        else:
            await self.send.send(message, reply)

    async def on_settings_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, value: str) -> None:
        """Change one group setting, for admins only."""
        query = update.callback_query
        assert query is not None
        message = query.message if isinstance(query.message, Message) else None
        if message is None or message.chat.type == ChatType.PRIVATE:
            await self.send.alert(query, STALE)
            return
        if not await self.is_admin(message.chat_id, query.from_user.id, context):
            await self.send.alert(query, "只有群管理员可以修改设置。")
            return
        current = await asyncio.to_thread(self.svc.group_settings, message.chat_id)
        updated = current.with_change(value)
        if updated is None:
            await self.send.alert(query, STALE)
            return
        await asyncio.to_thread(self.svc.save_group_settings, message.chat_id, updated)
        await self.send.ack(query, "已保存")
        await self.send.edit(message, render_settings(updated))

    # -- inline mode --------------------------------------------------------------------------------
    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offer up to 10 answers for `@bot 营销 销售`; popular topics for an empty query."""
        query = update.inline_query
        if query is None:
            return
        items = await asyncio.to_thread(self.svc.inline, query.query[:256])
        results = [
            InlineQueryResultArticle(
                id=item.id[:64],
                title=item.title[:256],
                description=item.description[:256],
                input_message_content=InputTextMessageContent(item.html, parse_mode=ParseMode.HTML),
            )
            for item in items[:10]
        ]
        await self.send.call(lambda: query.answer(results, cache_time=60, is_personal=False))

    # -- errors -------------------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error (token redacted) and tell a private-chat user, without a traceback."""
        err = context.error
        if isinstance(err, TelegramError | RolebotError):
            log.warning("update failed: %s: %s", type(err).__name__, err)
        else:
            log.error("update failed", exc_info=err)
        if (
            isinstance(update, Update)
            and update.effective_message
            and update.effective_chat
            and update.effective_chat.type == ChatType.PRIVATE
            and update.callback_query is None
        ):
            message = update.effective_message
            await self.send.call(lambda: message.get_bot().send_message(message.chat_id, SORRY), attempts=2)


def build_application(settings: Settings, service: Service | None = None) -> Application[Any, Any, Any, Any, Any, Any]:
    """Wire the bot: handlers, rate limiter, per-chat ordering, error handler, store life cycle."""
    bot = RoleBot(settings, service)
    heartbeat = Heartbeat(heartbeat_path(settings.db_path))  # every answered call shows the bot is alive
    builder = ApplicationBuilder().token(settings.token).base_url(settings.base_url)
    if settings.base_file_url:
        builder = builder.base_file_url(settings.base_file_url)
    app = (
        builder.rate_limiter(AIORateLimiter(overall_max_rate=settings.send_rate, max_retries=3))
        # httpcore scans its whole pool for every request, and threads contend for the GIL: measured
        # with scripts/loadtest.py, 32 updates at once over 8 connections beat 64/16 and 256/256
        .request(HeartbeatRequest(heartbeat, connection_pool_size=8, pool_timeout=30.0))
        .get_updates_request(HeartbeatRequest(heartbeat))
        .concurrent_updates(PerChatProcessor(32))
        .post_init(bot.post_init)
        .post_shutdown(bot.post_shutdown)
        .build()
    )
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    fresh = filters.UpdateType.MESSAGE  # edited messages and channel posts are left alone
    app.add_handler(CommandHandler("start", bot.on_start, filters=fresh & private))
    app.add_handler(CommandHandler("help", bot.on_help, filters=fresh))
    app.add_handler(CommandHandler("topics", bot.on_topics, filters=fresh))
    app.add_handler(CommandHandler("ask", bot.on_ask, filters=fresh))
    app.add_handler(CommandHandler("settings", bot.on_settings, filters=fresh))
    # anyone else falls through to the handlers below, as if these did not exist
    maintainer = fresh & private & filters.User(user_id=settings.maintainers)
    app.add_handler(CommandHandler("review", bot.maintainers.on_review, filters=maintainer))
    app.add_handler(CommandHandler("stats", bot.maintainers.on_stats, filters=maintainer))
    app.add_handler(MessageHandler(maintainer & filters.Document.ALL, bot.maintainers.on_document))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, bot.on_migrate))
    app.add_handler(ChatMemberHandler(bot.on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(fresh & private & filters.COMMAND, bot.on_unknown_command))
    app.add_handler(MessageHandler(fresh & private & filters.TEXT, bot.on_private_text))
    app.add_handler(MessageHandler(fresh & groups & filters.TEXT & ~filters.COMMAND, bot.on_group_text))
    app.add_handler(MessageHandler(fresh & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, bot.on_private_other))
    app.add_handler(CallbackQueryHandler(bot.on_button))
    app.add_handler(InlineQueryHandler(bot.on_inline))
    app.add_error_handler(bot.on_error)
    app.bot_data["rolebot"] = bot.shared  # tests reach the service through it
    return app


def webhook_options(url: str, port: int, secret: str | None, listen: str = "0.0.0.0") -> dict[str, Any]:
    """Return how PTB's webhook server should listen: on the public URL's path, checking the secret."""
    from urllib.parse import urlsplit

    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.strip("/"),
        "webhook_url": url,
        "secret_token": secret,
    }
