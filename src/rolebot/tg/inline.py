"""Inline mode: `@bot 营销 销售` in any chat offers answers to send."""

from __future__ import annotations

import asyncio

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes, InlineQueryHandler

from rolebot.tg.context import BotServices, Handler

RESULT_ID_BYTES = 64  # Telegram's limit for InlineQueryResult.id


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
                id=item.id.encode()[:RESULT_ID_BYTES].decode(errors="ignore"),
                title=item.title[:256],
                description=item.description[:256],
                input_message_content=InputTextMessageContent(item.html, parse_mode=ParseMode.HTML),
            )
            for item in items[:10]
        ]
        await self.send.deliver(lambda: query.answer(results, cache_time=60, is_personal=False))
