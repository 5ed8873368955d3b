"""Sending to Telegram: messages, edits and button acknowledgements, with retries, in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from rolebot.conversation.render import Button, Reply

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


async def with_retry(call: Callable[[], Awaitable[T]], attempts: int = 5) -> T | None:
    """Send with retries for flood control, 5xx and timeouts; give up quietly on permanent errors."""
    delay = 0.5
    for attempt in range(attempts):
        try:
            return await call()
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            await asyncio.sleep(float(wait) + 0.1)
        except (Forbidden, BadRequest) as exc:
            log.info("not delivered (%s): %s", type(exc).__name__, exc.message)
            return None
        except (TimedOut, NetworkError) as exc:
            if attempt == attempts - 1:
                log.warning("gave up after %d attempts: %s", attempts, exc)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
    return None


class Sender:
    """What handlers use to talk back: every call retried, permanent failures logged and dropped."""

    def __init__(self, attempts: int = 5) -> None:
        self.attempts = attempts

    async def call(self, call: Callable[[], Awaitable[T]], attempts: int | None = None) -> T | None:
        """Run any Bot API call with the retry policy."""
        return await with_retry(call, attempts or self.attempts)

    async def say(self, message: Message, text: str, buttons: list[list[Button]] | None = None) -> Message | None:
        """Send plain text (no parse mode) to the message's chat."""
        markup = keyboard(buttons or [])
        return await self.call(
            lambda: message.get_bot().send_message(message.chat_id, text[:MESSAGE_LIMIT], reply_markup=markup)
        )

    async def send(self, message: Message, reply: Reply, *, quote: bool = False) -> Message | None:
        """Send a rendered reply to the message's chat, quoting the message when asked."""
        return await self.call(
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
        await self.call(
            lambda: message.edit_text(reply.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply.buttons))
        )

    async def ack(self, query: CallbackQuery, text: str = "") -> None:
        """Acknowledge a button press with an optional toast."""
        await self.call(lambda: query.answer(text))

    async def alert(self, query: CallbackQuery, text: str) -> None:
        """Acknowledge a button press with an alert."""
        await self.call(lambda: query.answer(text, show_alert=True))

    async def stale(self, query: CallbackQuery) -> None:
        """Tell the presser that a button no longer does anything."""
        await self.alert(query, STALE)
