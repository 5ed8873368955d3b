"""Groups: answering when addressed (or confident, if opted in), /settings for admins, joins and moves."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import ChatMember, ChatMemberUpdated, Message, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, ChatMemberHandler, CommandHandler, ContextTypes, MessageHandler, filters

from rolebot.conversation.actions import ChangeSetting, decode, matches
from rolebot.conversation.render import Reply, render_settings
from rolebot.tg.answering import answer
from rolebot.tg.context import FRESH, GROUPS, BotServices, Handler

log = logging.getLogger("rolebot")

SETTINGS_IN_GROUPS = "设置是给群用的：把我加进群后，由群管理员在群里发 /settings。"
ANONYMOUS_ADMIN = 1087968824  # GroupAnonymousBot: the `from` of what an admin posts as the group
ADMINS_ONLY = "抱歉，只有群管理员可以修改我的设置。"
HELLO = (
    "大家好，我是 rolebot。我默认保持安静，只在被点名时回答："
    "用 /ask 问题，或回复我的消息。管理员可以用 /settings 调整。"
)


def posted_as_the_group(message: Message) -> bool:
    """Say whether an anonymous admin sent this: only admins may post as the group itself."""
    sender_chat = message.sender_chat
    return sender_chat is not None and sender_chat.id == message.chat_id


class Groups:
    """What happens in groups and supergroups."""

    def __init__(self, shared: BotServices) -> None:
        self.shared = shared
        self.send = shared.sender

    def commands(self) -> list[Handler]:
        """Return the command handlers (they go before every catch-all)."""
        return [CommandHandler("settings", self.on_settings, filters=FRESH)]

    def handlers(self) -> list[Handler]:
        """Return the group handlers: moves, joins, settings buttons and group text."""
        return [
            MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate),
            ChatMemberHandler(self.on_my_member, ChatMemberHandler.MY_CHAT_MEMBER),
            CallbackQueryHandler(self.on_settings_button, pattern=matches(ChangeSetting)),
            MessageHandler(FRESH & GROUPS & filters.TEXT & ~filters.COMMAND, self.on_text),
        ]

    def addresses_me(self, message: Message) -> tuple[bool, str]:
        """Say whether a group message is for us (a reply to us or an @mention) and the question in it."""
        text = message.text or ""
        reply_to = message.reply_to_message
        if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == message.get_bot().id:
            return True, text
        username = self.shared.username
        mention = f"@{username}".lower()
        if username and mention in text.lower():
            return True, re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
        return False, text

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stay quiet unless addressed, or unless the group opted in to unprompted confident answers."""
        message = update.effective_message
        if message is None or not message.text:
            return
        addressed, text = self.addresses_me(message)
        settings = None
        if not addressed:
            settings = await asyncio.to_thread(self.shared.svc.group_settings, message.chat_id)
            if settings.mode != "auto":
                return
        if not text.strip():
            return
        await answer(self.shared, message, text, addressed=addressed, settings=settings)

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
            await self.send.send(message, Reply(SETTINGS_IN_GROUPS, SETTINGS_IN_GROUPS))
            return
        if not posted_as_the_group(message) and not await self.is_admin(message.chat_id, user.id, context):
            await self.send.send(message, Reply(ADMINS_ONLY, ADMINS_ONLY), quote=True)
            return
        settings = await asyncio.to_thread(self.shared.svc.group_settings, message.chat_id)
        await self.send.send(message, render_settings(settings))

    async def on_settings_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Change one group setting, for admins only."""
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        if message is None or message.chat.type == ChatType.PRIVATE:
            await self.send.stale(query)
            return
        if not await self.is_admin(message.chat_id, query.from_user.id, context):
            await self.send.alert(query, "只有群管理员可以修改设置。")
            return
        act = decode(query.data)
        current = await asyncio.to_thread(self.shared.svc.group_settings, message.chat_id)
        updated = current.with_change(act.change) if isinstance(act, ChangeSetting) else None
        if updated is None:
            await self.send.stale(query)
            return
        await self.shared.write(lambda: self.shared.svc.save_group_settings(message.chat_id, updated))
        await self.send.ack(query, "已保存")
        await self.send.edit(message, render_settings(updated))

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Carry settings over when a group becomes a supergroup."""
        message = update.effective_message
        if message is None:
            return
        old, new = message.chat_id, message.migrate_to_chat_id
        if message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat_id
        if new:
            await self.shared.write(lambda: self.shared.svc.move_group(old, new))

    async def on_my_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Introduce ourselves once when added to a group; forget nothing harmful when removed."""
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type == ChatType.PRIVATE:
            return
        was = change.old_chat_member.status
        now = change.new_chat_member.status
        joined = was in (ChatMember.LEFT, ChatMember.BANNED) and now in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
        if joined:
            await self.send.deliver(lambda: context.bot.send_message(change.chat.id, HELLO))
        elif now in (ChatMember.LEFT, ChatMember.BANNED):
            log.info("removed from chat %s", change.chat.id)
