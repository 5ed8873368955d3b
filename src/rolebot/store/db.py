"""One SQLite connection: opening it (WAL), applying migrations, its lock, transactions and key/value meta."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table

from rolebot.errors import StoreError
from rolebot.store.migrations import Migration


def damage(path: Path) -> str | None:
    """Return the first problem PRAGMA quick_check finds in a database file, or None when it is sound or absent."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute("PRAGMA quick_check(1)").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    first = str(rows[0][0]) if rows else "no answer"
    if first == "ok":
        return None
    return first.removeprefix("*** in database main ***").strip().splitlines()[0]


class Connection:
    """A sqlite-utils database behind one lock, safe to share between the event loop and worker threads."""

    def __init__(self, path: Path | str, migrations: list[tuple[str, Migration]]) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
            self.db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate(migrations)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        self.lock = threading.RLock()

    def _migrate(self, migrations: list[tuple[str, Migration]]) -> None:
        """Apply migrations not yet recorded."""
        done_table = self.db.table("_migrations")
        if not done_table.exists():
            done_table.create({"name": str, "applied_at": float}, pk="name")
        done = {r["name"] for r in self.db.table("_migrations").rows}
        for name, fn in migrations:
            if name not in done:
                with self.db.conn:
                    fn(self.db)
                    self.table("_migrations").insert({"name": name, "applied_at": time.time()})

    def table(self, name: str) -> Table:
        """Return a table (typed for mypy)."""
        return self.db.table(name)

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    def atomic(self) -> Any:
        """Return a context manager for one transaction (savepoints when nested)."""
        return _Atomic(self)

    def data_version(self) -> int:
        """Return SQLite's data_version: it changes when another connection commits."""
        with self.lock:
            return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        """Return a stored value, or None."""
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value."""
        with self.lock:
            self.table("meta").upsert({"key": key, "value": value}, pk="key")


class _Atomic:
    """A transaction on the connection, holding its lock for the duration."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._cm: Any = None

    def __enter__(self) -> Connection:
        self.conn.lock.acquire()
        self._cm = self.conn.db.atomic()
        self._cm.__enter__()
        return self.conn

    def __exit__(self, *exc: Any) -> None:
        try:
            self._cm.__exit__(*exc)
        finally:
            self.conn.lock.release()
