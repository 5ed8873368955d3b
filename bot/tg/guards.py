"""Small in-memory guards: per-user flood control, group repeat suppression, admin cache."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class FloodGate:
    """Allow `limit` messages per `window` seconds per key; say so once, then stay silent."""

    def __init__(self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, key: int) -> str:
        """Return 'ok', 'warn' (first message over the limit) or 'drop'."""
        now = self.clock()
        self._checks = getattr(self, "_checks", 0) + 1
        if self._checks % 1000 == 0:
            self.prune()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._warned.pop(key, None)
            return "ok"
        if key in self._warned:
            return "drop"
        self._warned[key] = now
        return "warn"

    def prune(self) -> None:
        """Forget keys idle longer than the window, so memory stays flat."""
        now = self.clock()
        for key in [k for k, h in self._hits.items() if not h or now - h[-1] >= self.window]:
            self._hits.pop(key, None)
            self._warned.pop(key, None)


class RepeatFilter:
    """Remember what was answered in a chat for `window` seconds, to not answer it twice."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.clock = window, clock
        self._seen: dict[tuple[int, str], float] = {}

    def seen_recently(self, chat_id: int, key: str) -> bool:
        """Return True when the same key was seen in the chat within the window; else remember it."""
        now = self.clock()
        if len(self._seen) > 10000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.window}
        last = self._seen.get((chat_id, key))
        if last is not None and now - last < self.window:
            return True
        self._seen[(chat_id, key)] = now
        return False


class TtlCache:
    """A tiny cache whose entries expire after `ttl` seconds."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._data: dict[tuple[int, int], tuple[float, bool]] = {}

    def get(self, key: tuple[int, int]) -> bool | None:
        """Return a fresh cached value, or None."""
        hit = self._data.get(key)
        if hit is None or self.clock() - hit[0] >= self.ttl:
            return None
        return hit[1]

    def put(self, key: tuple[int, int], value: bool) -> None:
        """Cache a value (expired entries are dropped once the cache grows)."""
        now = self.clock()
        if len(self._data) > 5000:
            self._data = {k: v for k, v in self._data.items() if now - v[0] < self.ttl}
        self._data[key] = (now, value)
