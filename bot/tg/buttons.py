"""Answer buttons: follow-up topics, 📖 更多, browse categories, 👍/👎 and 都不是; stale data gets an alert."""

from __future__ import annotations

import asyncio

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, ContextTypes

from rolebot.conversation.actions import Action, Browse, More, NoneOfThese, ShowTopic, Vote, decode, matches
from rolebot.conversation.render import Reply
from rolebot.language.script import SIMPLIFIED_READER, Reader, reader_of
from rolebot.tg.context import BotServices, Handler

RETRY_TOAST = "好的，可以换个问法，或者从话题里挑一个。"


def pressed(update: Update) -> tuple[CallbackQuery, Action | None, Message | None, Reader] | None:
    """Return the query, its action, the message it sits on and who that message was for."""
    query = update.callback_query
    if query is None:
        return None
    message = query.message if isinstance(query.message, Message) else None
    # our own message says who it was for: its script, region and the reader's local words
    reader = reader_of(message.text or "") if message else SIMPLIFIED_READER
    return query, decode(query.data), message, reader


class Buttons:
    """The buttons under answers and menus."""

    def __init__(self, shared: BotServices) -> None:
        self.shared = shared
        self.send = shared.sender

    def handlers(self) -> list[Handler]:
        """Return one handler per action, then a catch-all for anything stale or unknown (it goes last)."""
        return [
            CallbackQueryHandler(self.on_topic, pattern=matches(ShowTopic)),
            CallbackQueryHandler(self.on_more, pattern=matches(More)),
            CallbackQueryHandler(self.on_browse, pattern=matches(Browse)),
            CallbackQueryHandler(self.on_vote, pattern=matches(Vote)),
            CallbackQueryHandler(self.on_none_of_these, pattern=matches(NoneOfThese)),
            CallbackQueryHandler(self.on_stale),
        ]

    async def show(self, query: CallbackQuery, message: Message | None, reply: Reply | None, *, edit: bool) -> None:
        """Acknowledge the press and show the reply, below (a new message) or in place (an edit)."""
        if reply is None:
            await self.send.stale(query)
            return
        await self.send.ack(query)
        if message is None:
            return
        if edit:
            await self.send.edit(message, reply)
        else:
            await self.send.send(message, reply)

    async def on_topic(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a follow-up or a chosen topic, short in groups."""
        if (got := pressed(update)) is None:
            return
        query, act, message, reader = got
        if not isinstance(act, ShowTopic):
            return
        topic = act.topic
        short = message is not None and message.chat.type != ChatType.PRIVATE
        link = self.shared.deep_link()
        answer = await asyncio.to_thread(lambda: self.shared.svc.topic(topic, reader, short=short, deep_link=link))
        await self.show(query, message, answer.reply if answer else None, edit=False)

    async def on_more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the passage digests behind an answer."""
        if (got := pressed(update)) is None:
            return
        query, act, message, reader = got
        if not isinstance(act, More):
            return
        entry_id = act.entry_id
        reply = await asyncio.to_thread(self.shared.svc.more, entry_id, reader)
        await self.show(query, message, reply, edit=False)

    async def on_browse(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List a category's questions in place of the menu."""
        if (got := pressed(update)) is None:
            return
        query, act, message, reader = got
        if not isinstance(act, Browse):
            return
        category = act.category
        await self.show(query, message, self.shared.svc.browse(category, reader), edit=True)

    async def on_vote(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Record a 👍 or 👎 and thank the voter."""
        if (got := pressed(update)) is None:
            return
        query, act, message, reader = got
        if not isinstance(act, Vote):
            return
        entry_id, up = act.entry_id, act.up
        chat_type = message.chat.type if message else "private"
        ok = await self.shared.write(
            lambda: self.shared.svc.feedback(entry_id, 1 if up else -1, query.from_user.id, chat_type)
        )
        if not ok:
            await self.send.stale(query)
            return
        await self.send.ack(query, reader.write("谢谢反馈！" if up else "收到，我们会改进这个回答。"))

    async def on_none_of_these(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Go back to the menu when none of the offered topics fit."""
        if (got := pressed(update)) is None:
            return
        query, _, message, reader = got
        await self.send.ack(query, reader.write(RETRY_TOAST))
        if message is not None:
            await self.send.edit(message, self.shared.svc.welcome(reader))

    async def on_stale(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Alert on buttons we no longer (or never did) understand."""
        if update.callback_query is not None:
            await self.send.stale(update.callback_query)
