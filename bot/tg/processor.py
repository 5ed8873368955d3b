"""Update processing: different chats at once, each chat's updates in order, a chat's turn before a slot (used by tg/delivery.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update

T = TypeVar("T")


def chat_key(update: object) -> int:
    """Return what orders an update: its chat, else its user (inline queries), else 0."""
    if not isinstance(update, Update):
        return 0
    chat, user = update.effective_chat, update.effective_user
    return chat.id if chat else (user.id if user else 0)


class ChatTurns:
    """Run work for many chats at once, one at a time and in arrival order per chat, in a bounded number of slots.

    A chat waits for its turn before it takes a slot, so a chat whose sends are paced (a group gets 20 a
    minute) holds at most one slot while the rest of its updates wait without holding any.
    """

    def __init__(self, slots: int = 32) -> None:
        self.slots = slots
        self._slots = asyncio.Semaphore(slots)
        self._turns: dict[int, asyncio.Lock] = {}
        self._queued: Counter[int] = Counter()  # updates per chat waiting or running: the lock goes at zero
        self.busy = 0

    async def run(self, key: int, work: Callable[[], Awaitable[T]]) -> T:
        """Wait for the chat's turn, then for a slot, then do the work."""
        lock = self._turns.setdefault(key, asyncio.Lock())
        self._queued[key] += 1
        try:
            async with lock, self._slots:
                self.busy += 1
                try:
                    return await work()
                finally:
                    self.busy -= 1
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key]
                self._turns.pop(key, None)

    @property
    def chats(self) -> int:
        """Return how many chats have work waiting or running."""
        return len(self._queued)
