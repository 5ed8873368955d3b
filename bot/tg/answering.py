"""Answering a question in a private chat or a group: flood control, repeats, the reply, the count."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Message
from telegram.constants import ChatType

from rolebot.conversation.groups import GroupSettings
from rolebot.conversation.render import Reply
from rolebot.conversation.service import Answer
from rolebot.language.normalize import clean
from rolebot.tg.context import BotServices

FLOODED = "消息有点多，我先歇一分钟，稍后再问我吧 🙏"


async def allow(shared: BotServices, message: Message) -> bool:
    """Apply per-user flood control; the first message over the limit gets one notice."""
    user = message.from_user
    if user is None:
        return True
    verdict = shared.flood.check(user.id)
    if verdict == "warn":
        await shared.sender.send(message, Reply(FLOODED, FLOODED))  # within the update: it is done once sent
    return verdict == "ok"


async def ask(shared: BotServices, text: str, **kwargs: Any) -> Answer:
    """Run the engine off the event loop (matching holds the GIL for milliseconds)."""
    return await asyncio.to_thread(lambda: shared.svc.ask(text, **kwargs))


async def record(shared: BotServices, answer: Answer, text: str, chat_type: str) -> None:
    """Count the question after the reply went out: in memory, written by the writer thread in batches."""
    shared.svc.record(answer.result, text[:1000], chat_type)


def replies_to_me(message: Message) -> bool:
    """Say whether a message replies to one of ours."""
    reply_to = message.reply_to_message
    return reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == message.get_bot().id


async def answer(
    shared: BotServices, message: Message, text: str, *, addressed: bool, settings: GroupSettings | None = None
) -> None:
    """Answer a question in private or, when addressed or confident, in a group."""
    if not await allow(shared, message):
        return
    # follow-ups (那运营呢) are read per chat and user: in groups only in a reply to us
    key = (message.chat_id, message.from_user.id if message.from_user else 0)
    if message.chat.type == ChatType.PRIVATE:
        reply = await ask(shared, text[:1000], chat_type="private", record=False, context=key)
        await shared.sender.send(message, reply.reply)
        await record(shared, reply, text, "private")
        return
    if settings is None:
        settings = await asyncio.to_thread(shared.svc.group_settings, message.chat_id)
    if shared.repeats.seen_recently(message.chat_id, clean(text)):
        return
    reply = await ask(
        shared,
        text[:1000],
        chat_type="group",
        short=settings.length == "short",
        deep_link=shared.deep_link(),
        script=settings.script_override(),
        record=False,
        context=key if addressed else None,
        follow_ups=replies_to_me(message),
    )
    if not addressed and (not reply.result.answered or reply.result.score < settings.threshold):
        return
    await shared.sender.send(message, reply.reply, quote=True)
    await record(shared, reply, text, "group")
