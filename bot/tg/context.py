"""What every Telegram handler module shares, on one typed object."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.ext import BaseHandler, ContextTypes, filters

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.store.worker import Worker
from rolebot.tg.guards import FloodGate, RepeatFilter, TtlCache
from rolebot.tg.sending import Sender

if TYPE_CHECKING:
    from rolebot.tg.delivery import Delivery

T = TypeVar("T")
Handler = BaseHandler[Update, ContextTypes.DEFAULT_TYPE, Any]
FRESH = filters.UpdateType.MESSAGE  # edited messages and channel posts are left alone
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS


@dataclass
class BotServices:
    """Settings, the service (opened in post_init unless given), the sender and the in-memory guards."""

    settings: Settings
    service: Service | None = None
    sender: Sender = field(default_factory=Sender)
    username: str = ""
    flood: FloodGate = field(default_factory=FloodGate)
    repeats: RepeatFilter = field(default_factory=RepeatFilter)
    admins: TtlCache = field(default_factory=lambda: TtlCache(ttl=60.0))
    delivery: Delivery | None = None  # set by build_application
    writer: Worker | None = None  # the one thread that writes the database (set by build_application)

    @property
    def svc(self) -> Service:
        """Return the service (set in post_init)."""
        assert self.service is not None, "post_init has not run"
        return self.service

    async def write(self, fn: Callable[[], T]) -> T:
        """Run a store write on the writer thread (one at a time, bounded queue, tried again while locked)."""
        if self.writer is None or not self.writer.started:
            return await asyncio.to_thread(fn)
        return await self.writer.run(lambda _conn: fn())

    def deep_link(self) -> str | None:
        """Return a t.me link template that opens one topic in a private chat."""
        return f"https://t.me/{self.username}?start={{topic}}" if self.username else None
