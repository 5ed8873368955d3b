"""Health of a running bot over HTTP (`/healthz`), the client that beats the heartbeat, and the keep-alive call.

The heartbeat itself and the check `rolebot health` makes from another process live in store/heartbeat.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from rolebot.store.db import identity
from rolebot.store.heartbeat import MAX_AGE, Health, Heartbeat, check_health, heartbeat_path
from rolebot.tg.http import AiohttpRequest

__all__ = ["MAX_AGE", "Health", "HealthServer", "Heartbeat", "HeartbeatRequest", "check_health", "heartbeat_path"]
log = logging.getLogger("rolebot.health")

KEEPALIVE = 60.0  # a webhook bot may make no call for hours: ask getMe after this much quiet


class HeartbeatRequest(AiohttpRequest):
    """The bot's HTTP client; in webhook mode every call Telegram answered with 200 counts as progress.

    When polling, progress is the polling loop's to report (a getUpdates that came back and was taken in):
    a keep-alive getMe answered while polling is stuck must not make the bot look healthy.
    """

    def __init__(self, heartbeat: Heartbeat, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heartbeat = heartbeat
        self.beats = False  # set for webhook mode

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Send the request; a 200 answer counts as progress when `beats`."""
        status, body = await super().do_request(*args, **kwargs)
        if status == 200 and self.beats:
            self.heartbeat.beat()
        return status, body


async def keep_alive(app: Application[Any, Any, Any, Any, Any, Any], heartbeat: Heartbeat) -> None:
    """Call getMe after a quiet minute, so a webhook bot's heartbeat says whether Telegram still answers."""
    while True:
        await asyncio.sleep(KEEPALIVE / 4)
        if heartbeat.last and time.monotonic() - heartbeat.last < KEEPALIVE:
            continue
        try:
            await app.bot.get_me()
        except TelegramError as exc:
            log.warning("Bot API keep-alive failed: %s", exc)


async def watch_database(db_path: Path, gone: Callable[[str], None], every: float = 2.0) -> None:
    """Tell `gone` once the database file is deleted, emptied or replaced under the running bot.

    SQLite goes on writing to a deleted file's inode, and a new connection would create an empty one at the
    path: the next start would then begin afresh and lose every vote and unanswered question without a word.
    """
    first = await asyncio.to_thread(identity, db_path)
    while True:
        await asyncio.sleep(every)
        now = await asyncio.to_thread(identity, db_path)
        if now == first:
            continue
        if now is None:
            what = "was deleted (or emptied) while the bot ran on it: restore it from a backup before starting again"
        else:
            what = "was replaced while the bot ran on it: start the bot again to serve the new one"
        gone(f"database {db_path} {what}")
        return


class HealthServer:
    """A tiny HTTP server answering GET /healthz with 200 or 503 (beside PTB's webhook server)."""

    def __init__(
        self,
        db_path: Path,
        heartbeat: Heartbeat,
        max_age: float = MAX_AGE,
        serving: Callable[[], str | None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.heartbeat = heartbeat
        self.max_age = max_age
        self.serving = serving or (lambda: None)  # the running bot's own look at its serving tasks
        self.server: asyncio.Server | None = None

    def check(self) -> Health:
        """Check the database, the serving tasks and the progress."""
        return check_health(self.db_path, self.heartbeat, self.max_age, serving=self.serving)

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port."""
        self.server = await asyncio.start_server(self._serve, host, port)

    async def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.partition(" ")[0].partition("?")[0]
            if method in ("GET", "HEAD") and path == "/healthz":
                health = await asyncio.to_thread(self.check)
                status, body = ("200 OK" if health.ok else "503 Service Unavailable"), health.to_json().encode()
            else:
                status, body = "404 Not Found", b'{"ok": false, "error": "not found"}'
            head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode() + (body if method != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
