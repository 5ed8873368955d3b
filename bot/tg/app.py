"""The Telegram application: wires the handler modules, rate limiter, error handler and life cycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.errors import RolebotError
from rolebot.language.typos import pinyin_reader
from rolebot.store.inbox import inbox_path
from rolebot.store.worker import Worker, connect
from rolebot.tg.buttons import Buttons
from rolebot.tg.context import BotServices
from rolebot.tg.delivery import Delivery, InboxQueue
from rolebot.tg.groups import Groups
from rolebot.tg.health import Heartbeat, HeartbeatRequest, heartbeat_path
from rolebot.tg.inline import Inline
from rolebot.tg.limits import MESSAGE_UNITS
from rolebot.tg.maintainers import Maintainers
from rolebot.tg.private import PrivateChat
from rolebot.tg.profile import short
from rolebot.tg.sending import FairRateLimiter

# Opt in to PTB 22's timedelta durations: the int form warns on every RetryAfter
os.environ.setdefault("PTB_TIMEDELTA", "true")
log = logging.getLogger("rolebot")
App = Application[Any, Any, Any, Any, Any, Any]
Hook = Callable[[App], Coroutine[Any, Any, None]]

COMMANDS = [
    ("start", "开始：欢迎和话题菜单"),
    ("ask", "提问，例如 /ask 营销和销售有什么区别"),
    ("topics", "浏览全部话题"),
    ("help", "怎么使用"),
    ("settings", "群设置（仅管理员）"),
]
SORRY = "抱歉，刚才出了点问题，请稍后再试一次。"


def life_cycle(shared: BotServices) -> tuple[Hook, Hook]:
    """Return post_init (open the service, learn our username, set the menu) and post_shutdown (close it)."""

    flusher: list[asyncio.Task[None]] = []

    async def post_init(app: App) -> None:
        if shared.service is None:
            shared.service = await asyncio.to_thread(Service.open, shared.settings.db_path)
        # the plain-pinyin reader takes ~1.3 s to build, holding the GIL: made lazily at the first question
        # with letters, it stalled a burst's first answers, and every worker thread that met such a
        # question at once built its own (lru_cache does not wait for a build in progress)
        await asyncio.to_thread(pinyin_reader, shared.service.vocab)
        shared.service.text_limit = MESSAGE_UNITS  # the conversation layer renders within Telegram's limit
        if shared.writer is not None:
            shared.service.defer_writes()  # counts wait in memory for the writer thread, never for a lock
            shared.writer.start()
            flusher.append(asyncio.get_running_loop().create_task(write_activity(shared), name="rolebot-counts"))
        shared.username = app.bot.username or ""
        try:  # the commands menu is a courtesy: a Bot API without it (or answering oddly) must not stop the bot
            await shared.sender.call(lambda: app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS]))
        except (TelegramError, TypeError, ValueError, KeyError, AttributeError) as exc:
            log.warning("commands menu not set: %s: %s", type(exc).__name__, short(exc))

    async def post_shutdown(app: App) -> None:
        for task in flusher:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if shared.writer is not None and shared.writer.started and shared.service is not None:
            try:  # the last counts, unless another process keeps the database locked past the deadline
                await asyncio.wait_for(shared.writer.run(shared.service.write_activity), timeout=3.0)
            except (TimeoutError, sqlite3.Error) as exc:
                log.warning("question counts not written at stop: %s", exc or "database locked")
            await asyncio.to_thread(shared.writer.close, 1.0)
        if shared.service is not None:
            try:  # closing writes the last counts: a database deleted or emptied under us refuses them
                shared.service.close(wait=1.0)
            except sqlite3.Error as exc:
                log.warning("database not closed cleanly: %s", exc)

    return post_init, post_shutdown


async def write_activity(shared: BotServices, every: float = 2.0) -> None:
    """Write buffered question counts every few seconds on the writer thread (kept in memory while locked)."""
    assert shared.writer is not None
    while True:
        await asyncio.sleep(every)
        try:
            await shared.writer.run(shared.svc.write_activity)
        except sqlite3.Error as exc:  # not a lock (the writer waits those out): keep the counts, try later
            log.warning("question counts not written yet: %s", exc)


def error_handler(shared: BotServices) -> Callable[[object, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Return the one place a failed update becomes a log line and, in private chats, a short apology."""

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
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
            await shared.sender.deliver(lambda: message.get_bot().send_message(message.chat_id, SORRY), attempts=2)

    return on_error


def build_application(settings: Settings, service: Service | None = None) -> App:
    """Wire the bot: handlers, rate limiter, per-chat ordering, error handler, store life cycle."""
    shared = BotServices(settings, service)
    post_init, post_shutdown = life_cycle(shared)
    heartbeat = Heartbeat(heartbeat_path(settings.db_path))  # the delivery's progress (and, webhook, the API's answers)
    builder = ApplicationBuilder().token(settings.token).base_url(settings.base_url)
    if settings.base_file_url:
        builder = builder.base_file_url(settings.base_file_url)
    queue = InboxQueue()  # webhook mode: the update is in the inbox before Telegram gets its 200
    app = (
        builder.rate_limiter(
            FairRateLimiter(overall_max_rate=settings.send_rate, max_retries=3, waits=shared.sender.waits)
        )
        # 8 connections for the 32 updates answered at once: as many answers/s as 32 (scripts/loadtest.py,
        # 608 and 491 against 32's 559 and 556), and a SIGKILL mid-burst then sends again at most the 8
        # replies in flight (32 with 32 connections: those Telegram had and we had not recorded yet).
        # A send that times out after it went out may have arrived: wait longer before calling it lost
        .request(
            HeartbeatRequest(
                heartbeat, connection_pool_size=8, pool_timeout=30.0, read_timeout=20.0, write_timeout=20.0
            )
        )
        .get_updates_request(HeartbeatRequest(heartbeat, connection_pool_size=1))
        .update_queue(queue)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    private, groups = PrivateChat(shared), Groups(shared)
    # the first matching handler wins: commands and maintainers' routes, then group handlers, then the
    # private-chat catch-alls, the answer buttons (ending in a catch-all for stale ones) and inline mode
    app.add_handlers(
        [
            *private.commands(),
            *groups.commands(),
            *Maintainers(shared).handlers(),
            *groups.handlers(),
            *private.catch_alls(),
            *Buttons(shared).handlers(),
            *Inline(shared).handlers(),
        ]
    )
    app.add_error_handler(error_handler(shared))
    # 32 updates at once: more only adds contention for the GIL (scripts/loadtest.py: 16/64 no better)
    shared.delivery = queue.delivery = Delivery(
        app, inbox_path(settings.db_path), slots=32, waits=shared.sender.waits, heartbeat=heartbeat
    )
    shared.writer = Worker(lambda: connect(settings.db_path), "rolebot-writer")
    app.bot_data["rolebot"] = shared  # tests reach the service through it
    return app


def webhook_options(url: str, port: int, secret: str | None, listen: str = "0.0.0.0") -> dict[str, Any]:
    """Return how the webhook server (tg/webhook.py) should listen: on the public URL's path, checking the secret."""
    from urllib.parse import urlsplit

    if not secret:
        # without one, any POST would pass for an update from Telegram: a forged button press would do
        raise ValueError("a webhook needs a secret token")
    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.strip("/"),
        "webhook_url": url,
        "secret_token": secret,
    }
