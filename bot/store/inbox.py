"""The inbox: every Telegram update we took, kept until its reply went out (a file of its own beside the database).

It lives in its own file so that a maintainer's long import, which holds the main database's write lock,
never stops the bot from taking updates.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from rolebot.store.worker import connect

KEEP_DONE = 86400.0  # Telegram offers an update again for 24 hours: remember done ones that long
SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    update_id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    body TEXT NOT NULL,       -- the update as Telegram sent it (JSON); emptied once done
    received REAL NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,   -- replies already delivered: a replay skips them
    tries INTEGER NOT NULL DEFAULT 0,
    done REAL                 -- when its replies went out; NULL while unfinished
);
CREATE INDEX IF NOT EXISTS inbox_unfinished ON inbox (update_id) WHERE done IS NULL;
CREATE TABLE IF NOT EXISTS inbox_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Pending:
    """An update taken but not yet answered."""

    update_id: int
    chat_id: int
    body: str
    sent: int
    tries: int


def inbox_path(db_path: Path) -> Path:
    """Return the inbox file beside the database."""
    return db_path.with_name(db_path.name + ".inbox")


def open_inbox(path: Path) -> sqlite3.Connection:
    """Open (creating) the inbox; meant for the inbox's own worker thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path, timeout=5.0)
    conn.executescript(SCHEMA)
    return conn


def add(conn: sqlite3.Connection, rows: list[tuple[int, int, str]], skipped: list[int] | None = None) -> set[int]:
    """Store updates (update_id, chat_id, body) and remember the highest id; return the ids not seen before.

    `skipped` are ids of updates that cannot be read: kept as done with no body, so they are never answered.
    """
    now = time.time()
    new: set[int] = set()
    for update_id in skipped or []:
        conn.execute(
            "INSERT OR IGNORE INTO inbox (update_id, chat_id, body, received, done) VALUES (?, 0, '', ?, ?)",
            (update_id, now, now),
        )
    ids = [r[0] for r in rows] + list(skipped or [])
    for update_id, chat_id, body in rows:
        cur = conn.execute(
            "INSERT OR IGNORE INTO inbox (update_id, chat_id, body, received) VALUES (?, ?, ?, ?)",
            (update_id, chat_id, body, now),
        )
        if cur.rowcount:
            new.add(update_id)
    if ids:
        conn.execute(
            "INSERT INTO inbox_meta (key, value) VALUES ('last_update_id', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
            (max(ids),),
        )
    return new


def last_update_id(conn: sqlite3.Connection) -> int | None:
    """Return the highest update id ever taken, or None."""
    row = conn.execute("SELECT value FROM inbox_meta WHERE key = 'last_update_id'").fetchone()
    return int(row[0]) if row else None


def unfinished(conn: sqlite3.Connection, limit: int = 100_000, after: int = -1) -> list[Pending]:
    """Return the updates not yet answered (with ids above `after`), oldest first."""
    rows = conn.execute(
        "SELECT update_id, chat_id, body, sent, tries FROM inbox WHERE done IS NULL AND update_id > ? "
        "ORDER BY update_id LIMIT ?",
        (after, limit),
    ).fetchall()
    return [Pending(*r) for r in rows]


def mark_sent(conn: sqlite3.Connection, update_id: int, sent: int) -> None:
    """Record how many replies to an update have gone out."""
    conn.execute("UPDATE inbox SET sent = max(sent, ?) WHERE update_id = ?", (sent, update_id))


def finish(conn: sqlite3.Connection, update_ids: list[int]) -> None:
    """Mark updates answered (their bodies are no longer needed)."""
    now = time.time()
    conn.executemany("UPDATE inbox SET done = ?, body = '' WHERE update_id = ?", [(now, u) for u in update_ids])


def tried(conn: sqlite3.Connection, update_id: int) -> None:
    """Count one try that could not deliver the reply (the update stays for a later try)."""
    conn.execute("UPDATE inbox SET tries = tries + 1 WHERE update_id = ?", (update_id,))


def prune(conn: sqlite3.Connection, keep: float = KEEP_DONE) -> int:
    """Forget answered updates older than `keep` seconds; return how many."""
    return conn.execute("DELETE FROM inbox WHERE done IS NOT NULL AND done < ?", (time.time() - keep,)).rowcount


def counts(conn: sqlite3.Connection) -> tuple[int, int]:
    """Return (unfinished, done) row counts."""
    row = conn.execute("SELECT sum(done IS NULL), sum(done IS NOT NULL) FROM inbox").fetchone()
    return int(row[0] or 0), int(row[1] or 0)
