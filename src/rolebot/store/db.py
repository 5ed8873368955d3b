"""One SQLite connection: opening it (WAL, or read-only), applying migrations, its lock, transactions and key/value meta."""

from __future__ import annotations

import os
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


def cannot_write(path: Path) -> bool:
    """Return True when a database exists but this user cannot write it or its folder (a read-only file or mount)."""
    # WAL needs to create <db>-wal and <db>-shm beside the file, so a read-only folder is as bad as a read-only file
    return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def connect_read_only(path: Path, timeout: float = 10) -> sqlite3.Connection:
    """Open a database for reading only, creating nothing beside it; StoreError when it cannot be read that way."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
    # mode=ro fails on a WAL database whose -shm is missing and cannot be created (a read-only folder).
    # A connection to a WAL database keeps the -shm while it is open (the last one to close removes it and
    # the -wal), so no -shm means no one has the database open; with no -wal (or an empty one) too, every
    # commit is in the main file and it can be read as immutable: no locks, no -shm. Immutable ignores the
    # -wal, so when one holds content (a crash's leftover) it would hide commits: refuse rather than answer
    # from stale data. A writer starting during our read can at worst make the read fail; we never write.
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        raise StoreError(
            f"cannot read {path} read-only: its write-ahead log {wal.name} needs a writable folder "
            "(open it once with write access, or copy the database with its -wal elsewhere)"
        )
    conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=timeout, check_same_thread=False)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


class Connection:
    """A sqlite-utils database behind one lock, safe to share between the event loop and worker threads."""

    def __init__(self, path: Path | str, migrations: list[tuple[str, Migration]], read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock = threading.RLock()
        try:
            if read_only:
                self.db = sqlite_utils.Database(connect_read_only(self.path))
                self._check_migrated(migrations)
                return
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

    def _check_migrated(self, migrations: list[tuple[str, Migration]]) -> None:
        """Refuse a read-only database whose schema is older than this version's (it cannot be migrated)."""
        done_table = self.db.table("_migrations")
        done = {r["name"] for r in done_table.rows} if done_table.exists() else set()
        missing = [name for name, _ in migrations if name not in done]
        if missing:
            raise StoreError(
                f"database {self.path} is read-only and {len(missing)} schema upgrade(s) behind: "
                "open it once with write access"
            )

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
