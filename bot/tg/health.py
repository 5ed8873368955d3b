"""Health of a running bot: its database and its last successful Bot API call, for `/healthz` and `rolebot health`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from rolebot.errors import StoreError
from rolebot.store.db import connect_read_only
from rolebot.tg.http import AiohttpRequest

log = logging.getLogger("rolebot.health")

MAX_AGE = 150.0  # seconds without a successful Bot API call before the bot counts as unhealthy
KEEPALIVE = 60.0  # a webhook bot may make no call for hours: ask getMe after this much quiet


def heartbeat_path(db_path: Path) -> Path:
    """Return the file beside the database where the time of the last successful Bot API call is kept."""
    return db_path.with_name(db_path.name + ".heartbeat")


class Heartbeat:
    """The time of the last successful Bot API call, in memory and (every few seconds) in a file."""

    def __init__(self, path: Path, every: float = 5.0) -> None:
        self.path = path
        self.every = every
        self.last_ok = 0.0
        self._written = 0.0

    def beat(self) -> None:
        """Note a successful call; write the file when the last write is a few seconds old."""
        now = time.time()
        self.last_ok = now
        if now - self._written < self.every:
            return
        self._written = now
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(f"{now:.3f}\n", encoding="ascii")
            os.replace(tmp, self.path)  # a reader never sees half a number
        except OSError as exc:
            log.debug("heartbeat not written: %s", exc)

    def read(self) -> float | None:
        """Return the last successful call's time (from memory, else the file), or None."""
        if self.last_ok:
            return self.last_ok
        try:
            return float(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None


class HeartbeatRequest(AiohttpRequest):
    """The bot's HTTP client, beating the heartbeat after every call Telegram answered with 200."""

    def __init__(self, heartbeat: Heartbeat, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heartbeat = heartbeat

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Send the request; a 200 answer counts as a sign of life."""
        status, body = await super().do_request(*args, **kwargs)
        if status == 200:
            self.heartbeat.beat()
        return status, body


@dataclass(frozen=True)
class Health:
    """What a health check found: healthy or not, and one line per part."""

    ok: bool
    database: str
    api: str
    last_call_age: float | None

    def line(self) -> str:
        """Return one line for a person."""
        return f"{'healthy' if self.ok else 'unhealthy'}: database {self.database}; Bot API {self.api}"

    def to_json(self) -> str:
        """Return the JSON body of /healthz."""
        age = None if self.last_call_age is None else round(self.last_call_age, 1)
        return json.dumps(
            {"ok": self.ok, "database": self.database, "api": self.api, "last_api_call_seconds_ago": age},
            ensure_ascii=False,
        )


def check_database(db_path: Path) -> str | None:
    """Return what is wrong with the database file, or None (opened read-only, so a missing file stays missing)."""
    if not db_path.is_file():
        return f"{db_path} is missing"
    try:
        conn = connect_read_only(db_path, timeout=2)
        try:
            conn.execute("SELECT count(*) FROM meta").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{db_path}: {exc}"
    except StoreError as exc:
        return str(exc)
    return None


def check_health(db_path: Path, heartbeat: Heartbeat, max_age: float = MAX_AGE) -> Health:
    """Check the database and how long ago the last successful Bot API call was."""
    problem = check_database(db_path)
    last = heartbeat.read()
    age = None if last is None else max(0.0, time.time() - last)
    if age is None:
        api = "never answered (is the bot running?)"
    elif age > max_age:
        api = f"last answered {age:.0f} s ago (more than {max_age:.0f} s)"
    else:
        api = f"answered {age:.0f} s ago"
    api_ok = age is not None and age <= max_age
    return Health(problem is None and api_ok, problem or "ok", api, age)


async def keep_alive(app: Application[Any, Any, Any, Any, Any, Any], heartbeat: Heartbeat) -> None:
    """Call getMe after a quiet minute, so a webhook bot's heartbeat says whether Telegram still answers."""
    while True:
        await asyncio.sleep(KEEPALIVE / 4)
        if time.time() - heartbeat.last_ok < KEEPALIVE:
            continue
        try:
            await app.bot.get_me()
        except TelegramError as exc:
            log.warning("Bot API keep-alive failed: %s", exc)


class HealthServer:
    """A tiny HTTP server answering GET /healthz with 200 or 503 (beside PTB's webhook server)."""

    def __init__(self, db_path: Path, heartbeat: Heartbeat, max_age: float = MAX_AGE) -> None:
        self.db_path = db_path
        self.heartbeat = heartbeat
        self.max_age = max_age
        self.server: asyncio.Server | None = None

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
                health = await asyncio.to_thread(check_health, self.db_path, self.heartbeat, self.max_age)
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
