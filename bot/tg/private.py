"""Commands for everyone (/start, /help, /topics, /ask) and private chats: questions, other messages."""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from rolebot.conversation.render import Reply
from rolebot.tg.answering import allow, answer
from rolebot.tg.context import FRESH, PRIVATE, BotServices, Handler

ASK_HOW = "请在 /ask 后面写上问题，例如：/ask 营销和销售有什么区别"
TEXT_ONLY = "我只能读文字问题哦。直接打字问我吧，比如「市场和运营有什么区别？」"
NO_SUCH_COMMAND = "没有这个命令。可以直接发问题给我，或者看看 /help。"


class PrivateChat:
    """The commands anyone can use, and everything said to us in a private chat."""

    def __init__(self, shared: BotServices) -> None:
        self.shared = shared
        self.send = shared.sender

    def commands(self) -> list[Handler]:
        """Return the command handlers (they go before every catch-all)."""
        return [
            CommandHandler("start", self.on_start, filters=FRESH & PRIVATE),
            CommandHandler("help", self.on_help, filters=FRESH),
            CommandHandler("topics", self.on_topics, filters=FRESH),
            CommandHandler("ask", self.on_ask, filters=FRESH),
        ]

    def catch_alls(self) -> list[Handler]:
        """Return the private-chat handlers for whatever no other handler took."""
        return [
            MessageHandler(FRESH & PRIVATE & filters.COMMAND, self.on_unknown_command),
            MessageHandler(FRESH & PRIVATE & filters.TEXT, self.on_text),
            MessageHandler(FRESH & PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other),
        ]

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome with a browse menu; `/start <topic>` opens one answer."""
        message = update.effective_message
        if message is None:
            return
        payload = context.args[0] if context.args else ""
        if payload and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload):
            topic = await asyncio.to_thread(self.shared.svc.topic, payload)
            if topic is not None:
                await self.send.send(message, topic.reply)
                return
        await self.send.send(message, self.shared.svc.welcome())

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain how to use the bot."""
        if update.effective_message:
            await self.send.send(update.effective_message, self.shared.svc.help())

    async def on_topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the browse menu."""
        if update.effective_message:
            await self.send.send(update.effective_message, self.shared.svc.topics())

    async def on_ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer `/ask <question>` (the way to ask in groups)."""
        message = update.effective_message
        if message is None:
            return
        text = " ".join(context.args or [])
        if not text.strip():
            await self.send.send(message, Reply(ASK_HOW, ASK_HOW), quote=message.chat.type != ChatType.PRIVATE)
            return
        await answer(self.shared, message, text, addressed=True)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer every text message in a private chat, exactly once."""
        message = update.effective_message
        if message is None or not message.text:
            return
        await answer(self.shared, message, message.text, addressed=True)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply politely to stickers, photos, voice, documents and the like."""
        message = update.effective_message
        if message is None or not await allow(self.shared, message):
            return
        await self.send.send(message, Reply(TEXT_ONLY, TEXT_ONLY))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Point to /help for commands we do not have (private chats only)."""
        message = update.effective_message
        if message is None or not await allow(self.shared, message):
            return
        await self.send.send(message, Reply(NO_SUCH_COMMAND, NO_SUCH_COMMAND))
