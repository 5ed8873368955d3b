"""The heartbeat beside the database: when the bot last made progress, for `/healthz` and `rolebot health`.

Progress is what serving needs, not any sign of life: a getUpdates that came back (polling), an update
answered, or (webhook mode) a Bot API call answered. The age is measured on the monotonic clock, which
every process of one boot shares and no wall-clock step moves; the wall time is kept for people to read.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rolebot.errors import StoreError
from rolebot.store.db import connect_read_only
from rolebot.store.inbox import inbox_path
from rolebot.store.lock import holder, lock_path

log = logging.getLogger("rolebot.health")

MAX_AGE = 150.0  # seconds without progress before the bot counts as unhealthy


def heartbeat_path(db_path: Path) -> Path:
    """Return the file beside the database where the time of the last progress is kept."""
    return db_path.with_name(db_path.name + ".heartbeat")


def boot_id() -> str:
    """Return this boot's id: a monotonic time from another boot means nothing."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class Beat:
    """The last progress: on the monotonic clock (for its age), on the wall clock (for people), by whom."""

    monotonic: float
    wall: float
    boot: str
    pid: int


class Heartbeat:
    """The time of the bot's last progress, in memory and (every few seconds) in a file."""

    def __init__(self, path: Path, every: float = 5.0) -> None:
        self.path = path
        self.every = every
        self.last = 0.0  # monotonic time of the last progress in this process; 0: none yet
        self._written = -every
        self._boot = boot_id()

    def beat(self) -> None:
        """Note progress; write the file when the last write is a few seconds old."""
        now = time.monotonic()
        self.last = now
        if now - self._written < self.every:
            return
        self._written = now
        record = {"monotonic": now, "wall": time.time(), "boot": self._boot, "pid": os.getpid()}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(record) + "\n", encoding="ascii")
            os.replace(tmp, self.path)  # a reader never sees half a record
        except OSError as exc:
            log.debug("heartbeat not written: %s", exc)

    def read(self) -> Beat | None:
        """Return the last progress recorded in the file, or None."""
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
            return Beat(float(data["monotonic"]), float(data["wall"]), str(data["boot"]), int(data["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def age(self) -> float | None:
        """Return the seconds since the last progress (this process's, else the file's), or None when unknown."""
        if self.last:
            return max(0.0, time.monotonic() - self.last)
        beat = self.read()
        if beat is None or beat.boot != self._boot:
            return None
        return max(0.0, time.monotonic() - beat.monotonic)


@dataclass(frozen=True)
class Health:
    """What a health check found: healthy or not, and one line per part."""

    ok: bool
    database: str
    api: str
    last_call_age: float | None
    serving: str = "ok"

    def line(self) -> str:
        """Return one line for a person."""
        state = "healthy" if self.ok else "unhealthy"
        return f"{state}: database {self.database}; serving {self.serving}; progress {self.api}"

    def to_json(self) -> str:
        """Return the JSON body of /healthz."""
        age = None if self.last_call_age is None else round(self.last_call_age, 1)
        return json.dumps(
            {
                "ok": self.ok,
                "database": self.database,
                "serving": self.serving,
                "api": self.api,
                "last_progress_seconds_ago": age,
                "last_api_call_seconds_ago": age,  # the name before progress replaced it
            },
            ensure_ascii=False,
        )


def check_database(db_path: Path) -> str | None:
    """Return what is wrong with the database file, or None (opened read-only, so a missing file stays missing)."""
    if not db_path.is_file():
        return f"{db_path} is missing"
    if db_path.stat().st_size == 0:
        return f"{db_path} is empty (0 bytes)"
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


def check_inbox(db_path: Path) -> str | None:
    """Return what is wrong with the inbox beside the database, or None (absent is fine: nothing taken yet)."""
    path = inbox_path(db_path)
    if not path.is_file():
        return None
    try:
        conn = connect_read_only(path, timeout=2)
        try:
            conn.execute("SELECT count(*) FROM inbox_meta").fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, StoreError) as exc:
        return f"inbox {path.name}: {exc}"
    return None


def check_serving(db_path: Path) -> str | None:
    """Return why no bot serves the database (from another process: nothing holds its lock), or None."""
    if holder(db_path) is None:
        return f"no bot is running on it (nothing holds {lock_path(db_path).name})"
    return None


def check_health(
    db_path: Path,
    heartbeat: Heartbeat,
    max_age: float = MAX_AGE,
    serving: Callable[[], str | None] | None = None,
) -> Health:
    """Check the database, that a bot serves it (`serving`: the running bot's own look at its tasks), and its progress."""
    problem = check_database(db_path) or check_inbox(db_path)
    dead = serving() if serving is not None else check_serving(db_path)
    age = heartbeat.age()
    if age is None:
        api = "none yet (is the bot running?)"
    elif age > max_age:
        api = f"none for {age:.0f} s (more than {max_age:.0f} s)"
    else:
        api = f"{age:.0f} s ago"
    fresh = age is not None and age <= max_age
    return Health(problem is None and dead is None and fresh, problem or "ok", api, age, dead or "ok")
