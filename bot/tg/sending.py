"""Sending to Telegram: messages, edits and button acknowledgements, with retries, in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import aiohttp
import httpx
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from rolebot.conversation.render import Button, Reply
from rolebot.tg.http import NOT_SENT

log = logging.getLogger("rolebot")
T = TypeVar("T")

MESSAGE_LIMIT = 4096  # characters of one message's text
STALE = "这个按钮已经过期了，请重新提问 🙏"


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Turn rendered buttons into Telegram's inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.action)
                for b in row
            ]
            for row in rows
        ]
    )


@dataclass
class Receipt:
    """The replies made for one update: how many an earlier try delivered (a replay skips them), and failures."""

    update_id: int
    skip: int = 0
    sent: int = 0
    failed: bool = False  # a reply Telegram never received: the update stays in the inbox for a later try
    on_sent: Callable[[int, int], None] | None = None  # (update_id, replies delivered so far)


# the update being processed: the delivery loop sets it, every reply made within its handlers reads it
RECEIPT: ContextVar[Receipt | None] = ContextVar("rolebot_receipt", default=None)


@dataclass
class SendStats:
    """What happened to sends, for the logs and the load test."""

    retried: int = 0  # not received by Telegram (connection refused, 5xx): sent again
    unsure: int = 0  # timed out or cut off after the request went out: maybe delivered
    unsure_retried: int = 0  # of those, sent once more
    failed: int = 0  # still not delivered after every try


def was_sent(exc: NetworkError) -> bool:
    """Say whether a failed request may have reached Telegram (timed out or cut off after it went out)."""
    cause = exc.__cause__
    if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, *NOT_SENT)):
        return False
    # any other client failure happened on an open connection; without one, Telegram answered (5xx)
    return isinstance(cause, httpx.HTTPError | aiohttp.ClientError)


def unreadable_answer(exc: BaseException) -> bool:
    """Say whether an error came from PTB reading the Bot API's answer (de_json), not from our own code."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("de_json", "de_list") and "telegram" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


class RetryWaits:
    """The sends waiting out a retry (a 429's retry_after, a backoff after a 5xx): a stop cuts those waits short."""

    def __init__(self) -> None:
        self._waiting: set[asyncio.Task[Any]] = set()
        self.stopping = False

    async def sleep(self, seconds: float) -> None:
        """Wait before a retry; cancelled at once when the bot stops (the update then waits in the inbox)."""
        task = asyncio.current_task()
        if task is None:
            await asyncio.sleep(seconds)
            return
        if self.stopping:
            task.cancel()  # no new wait once stopping: a 60 s retry_after would outlast docker stop's 10 s
        self._waiting.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._waiting.discard(task)

    def give_up(self) -> int:
        """Cancel every wait now, and any begun from now on; return how many were cut short."""
        self.stopping = True
        waiting = list(self._waiting)
        for task in waiting:
            task.cancel()
        return len(waiting)


async def with_retry(
    call: Callable[[], Awaitable[T]],
    attempts: int = 6,
    stats: SendStats | None = None,
    receipt: Receipt | None = None,
    waits: RetryWaits | None = None,
) -> T | None:
    """Send, retrying what Telegram did not receive; flood control (429) is the rate limiter's to wait out.

    A request that may have arrived (timed out, or the connection dropped, after it went out) is sent
    at most once more, so a slow Telegram doubles a reply rarely instead of always. Returns None when
    the call could not be made; the receipt, if given, is marked failed when it might work later.
    """
    stats = stats or SendStats()
    delay = 0.5
    unsure = 0
    for attempt in range(attempts):
        try:
            return await call()
        except (Forbidden, BadRequest) as exc:
            log.info("not delivered (%s): %s", type(exc).__name__, exc.message)
            return None
        except (TypeError, KeyError, AttributeError, ValueError) as exc:
            if not unreadable_answer(exc):
                raise
            # Telegram answered 200 with something PTB cannot read: it took the call, so it is not sent again
            # (nor followed by an apology); one line, not the library's traceback
            log.warning("Telegram's answer could not be read (%s): taken as delivered", type(exc).__name__)
            return None
        except RetryAfter as exc:  # AIORateLimiter already waited it out max_retries times
            log.warning("flood control still refuses after the rate limiter's retries: %s", exc)
            break
        except NetworkError as exc:
            if was_sent(exc):
                stats.unsure += 1
                unsure += 1
                if unsure > 1:
                    log.warning("not sending again: Telegram may have it already (%s)", exc)
                    return None
                stats.unsure_retried += 1
            elif attempt < attempts - 1:
                stats.retried += 1
            if attempt == attempts - 1:
                log.warning("gave up after %d attempts: %s", attempts, exc)
                break
            await (waits.sleep(delay) if waits else asyncio.sleep(delay))
            delay = min(delay * 2, 8.0)
    stats.failed += 1
    if receipt is not None:
        receipt.failed = True
    return None


class Sender:
    """What handlers use to talk back: every call retried, permanent failures logged and dropped."""

    def __init__(self, attempts: int = 6, waits: RetryWaits | None = None) -> None:
        self.attempts = attempts
        self.stats = SendStats()
        self.waits = waits or RetryWaits()

    async def call(self, call: Callable[[], Awaitable[T]], attempts: int | None = None) -> T | None:
        """Run a Bot API call that delivers nothing to a user (a look-up) with the retry policy."""
        return await with_retry(call, attempts or self.attempts, self.stats, waits=self.waits)

    async def deliver(self, call: Callable[[], Awaitable[T]], attempts: int | None = None) -> T | None:
        """Make a call a user sees (a message, an edit, a toast) once per update, even when the update is replayed."""
        receipt = RECEIPT.get()
        if receipt is not None and receipt.sent < receipt.skip:
            receipt.sent += 1  # delivered by an earlier try of this update
            return None
        if receipt is None:
            return await with_retry(call, attempts or self.attempts, self.stats, waits=self.waits)
        failed_before, receipt.failed = receipt.failed, False
        result = await with_retry(call, attempts or self.attempts, self.stats, receipt, self.waits)
        failed_now = receipt.failed
        receipt.failed = failed_before or failed_now
        if not failed_now:  # delivered, or refused for good (a replay would be refused too)
            receipt.sent += 1
            if receipt.on_sent is not None:
                receipt.on_sent(receipt.update_id, receipt.sent)
        return result

    async def say(self, message: Message, text: str, buttons: list[list[Button]] | None = None) -> Message | None:
        """Send plain text (no parse mode) to the message's chat."""
        markup = keyboard(buttons or [])
        return await self.deliver(
            lambda: message.get_bot().send_message(message.chat_id, text[:MESSAGE_LIMIT], reply_markup=markup)
        )

    async def document(self, message: Message, name: str, data: bytes, caption: str = "") -> Message | None:
        """Send a file (its name and bytes) to the message's chat."""
        return await self.deliver(
            lambda: message.get_bot().send_document(
                message.chat_id, InputFile(data, filename=name), caption=caption[:1024] or None
            )
        )

    async def send(self, message: Message, reply: Reply, *, quote: bool = False) -> Message | None:
        """Send a rendered reply to the message's chat, quoting the message when asked."""
        return await self.deliver(
            lambda: message.get_bot().send_message(
                chat_id=message.chat_id,
                text=reply.html,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                # a deleted question should not cost the answer: send it anyway, just unquoted
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)
                if quote
                else None,
                message_thread_id=message.message_thread_id if message.is_topic_message else None,
            )
        )

    async def edit(self, message: Message, reply: Reply) -> None:
        """Replace a message's text and buttons with a rendered reply."""
        await self.deliver(
            lambda: message.edit_text(reply.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply.buttons))
        )

    async def ack(self, query: CallbackQuery, text: str = "") -> None:
        """Acknowledge a button press with an optional toast."""
        await self.deliver(lambda: query.answer(text))

    async def alert(self, query: CallbackQuery, text: str) -> None:
        """Acknowledge a button press with an alert."""
        await self.deliver(lambda: query.answer(text, show_alert=True))

    async def stale(self, query: CallbackQuery) -> None:
        """Tell the presser that a button no longer does anything."""
        await self.alert(query, STALE)


class FairRateLimiter(AIORateLimiter):
    """PTB's rate limiter (30 a second overall, 20 a minute per group), but a group's flood control pauses that group only.

    AIORateLimiter waits out every 429 by holding back all requests; Telegram's 429 for sending too much
    to one group says nothing about the other chats, so a busy group would stall every private answer.
    Its waits go through RetryWaits, so a stop cuts them short.
    """

    def __init__(self, *args: Any, waits: RetryWaits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waits = waits or RetryWaits()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send through the limiters; a group's 429 is waited out by that request alone."""
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        group: int | str | bool = False
        if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str):
            group = chat_id
        retries = rate_limit_args or self._max_retries
        for attempt in range(retries + 1):
            try:
                return await self._run_request(
                    chat=chat_id is not None,
                    group=group,
                    allow_paid_broadcast=bool(data.get("allow_paid_broadcast", False)),
                    callback=callback,
                    args=args,
                    kwargs=kwargs,
                )
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                wait = exc.retry_after
                seconds = (wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) + 0.1
                if group:
                    await self.waits.sleep(seconds)
                    continue
                # the bot's own flood control, as AIORateLimiter does it: every request holds back meanwhile
                self._retry_after_event.clear()
                try:
                    await self.waits.sleep(seconds)
                finally:
                    self._retry_after_event.set()
        raise AssertionError("unreachable")
