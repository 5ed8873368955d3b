"""Inline mode: `@bot 营销 销售` in any chat offers answers to send."""

from __future__ import annotations

import asyncio
import hashlib

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, InlineQueryHandler

from rolebot.tg.context import BotServices, Handler
from rolebot.tg.limits import RESULT_ID_BYTES


def result_id(item_id: str) -> str:
    """Return an inline result id within Telegram's 64 bytes: the entry id, or a digest of a longer one."""
    if len(item_id.encode("utf-8")) <= RESULT_ID_BYTES:
        return item_id
    return hashlib.sha256(item_id.encode("utf-8")).hexdigest()  # 64 ASCII bytes, distinct per id


class Inline:
    """Inline queries."""

    def __init__(self, shared: BotServices) -> None:
        self.shared = shared
        self.send = shared.sender

    def handlers(self) -> list[Handler]:
        """Return the inline-query handler."""
        return [InlineQueryHandler(self.on_inline)]

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offer up to 10 answers for `@bot 营销 销售`; popular topics for an empty query."""
        query = update.inline_query
        if query is None:
            return
        items = await asyncio.to_thread(self.shared.svc.inline, query.query[:256])
        results = [
            InlineQueryResultArticle(
                id=result_id(item.id),
                title=item.title[:256],
                description=item.description[:256],
                input_message_content=InputTextMessageContent(item.html, parse_mode=ParseMode.HTML),
            )
            for item in items[:10]
        ]
        await self.send.deliver(lambda: query.answer(results, cache_time=60, is_personal=False))
