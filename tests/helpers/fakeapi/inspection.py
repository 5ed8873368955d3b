"""What tests read back: calls made, messages sent, and waiting for calls."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable

from tests.helpers.fakeapi.protocol import (
    JSON,
)


class Inspection:
    """What tests read back: calls made, messages sent, and waiting for calls."""

    def calls_to(self, method: str) -> list[JSON]:
        """Parameters of every handled call to method (case-insensitive), oldest first."""
        with self._lock:
            return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def sent(
        self,
        chat_id: int | str | None = None,
        methods: Iterable[str] = ("sendMessage", "editMessageText", "editMessageReplyMarkup"),
    ) -> list[JSON]:
        """Params of successful sendMessage/edit calls, optionally for one chat."""
        wanted = {m.lower() for m in methods}
        with self._lock:
            return [
                r.params
                for r in self.log
                if r.method.lower() in wanted
                and r.error is None
                and (chat_id is None or str(r.params.get("chat_id")) == str(chat_id))
            ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts the bot sent with sendMessage, optionally for one chat."""
        return [p.get("text", "") for p in self.sent(chat_id, methods=("sendMessage",))]

    def bot_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Current versions of messages the bot sent, oldest first."""
        with self._lock:
            found = [
                m
                for (cid, _), m in self._messages.items()
                if m.get("from", {}).get("id") == self.bot_id and (chat_id is None or cid == chat_id)
            ]
            found.sort(key=lambda m: int(m.get("_seq", 0)))
            return [self._public(m) for m in found]

    def last_bot_message(self, chat_id: int | None = None) -> JSON:
        """The most recent message the bot sent (optionally in one chat)."""
        messages = self.bot_messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent no message (chat_id={chat_id})")
        return messages[-1]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by an offset."""
        with self._lock:
            return list(self._updates)

    def _matching(
        self,
        method: str,
        predicate: Callable[[JSON], bool] | None,
        since: int,
    ) -> list[JSON]:
        """Params of calls to method from index `since` that satisfy predicate."""
        with self._lock:
            return [
                c.params
                for c in self.calls[since:]
                if c.method.lower() == method.lower() and (predicate is None or predicate(c.params))
            ]

    def mark(self) -> int:
        """Current number of recorded calls, for wait_for(since=...)."""
        with self._lock:
            return len(self.calls)

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        since: int = 0,
    ) -> list[JSON]:
        """Await `count` matching calls to method (from call index since); return their params."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate, since)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._wait_failure(method, count, len(found), timeout))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        since: int = 0,
    ) -> list[JSON]:
        """Blocking wait_for for code outside the event loop (threads)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._matching(method, predicate, since)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._wait_failure(method, count, len(found), timeout))
                self._cond.wait(remaining)

    def _wait_failure(self, method: str, count: int, got: int, timeout: float) -> str:
        """A helpful timeout message listing what was called instead."""
        with self._lock:
            recent = [f"  {r.method} {r.status} {r.error or ''} {self._short(r.params)}" for r in self.log[-15:]]
            faults = [f"  {f.method} {f.kind} {f.status}" for f in self.faulted[-5:]]
        return (
            f"waited {timeout}s for {count} x {method}, got {got}. Recent calls:\n"
            + "\n".join(recent)
            + ("\nFaulted:\n" + "\n".join(faults) if faults else "")
        )

    @staticmethod
    def _short(params: JSON) -> str:
        """Abbreviated params for messages."""
        text = json.dumps(params, ensure_ascii=False)
        return text if len(text) < 160 else text[:157] + "..."
