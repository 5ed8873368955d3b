"""The SQLite connections: one writer (WAL, migrations, its lock, transactions) and a reader per thread, and key/value meta."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
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


def identity(path: Path) -> tuple[int, int] | None:
    """Return which file is at the path (device, inode), or None when there is none or it is empty (0 bytes)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st.st_size else None


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


class WriteLock:
    """A re-entrant lock that can say whether the calling thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        """Wait for the lock."""
        self._lock.acquire()
        self._owner = threading.get_ident()
        self._depth += 1

    def release(self) -> None:
        """Release one level of the lock."""
        self._depth -= 1
        if not self._depth:
            self._owner = None
        self._lock.release()

    def held(self) -> bool:
        """Say whether this thread holds the lock."""
        return self._owner == threading.get_ident()

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Connection:
    """A sqlite-utils database: writes on one connection behind a lock, reads on each thread's own connection.

    WAL lets readers read while the writer writes: a thread's reads never wait for the write lock (an
    import, a batch of counts) nor for another thread's reads. Reads run in autocommit, one snapshot per
    statement, so a commit by the writer (or another process) is seen by the next read on every thread.
    Inside a write (the calling thread holds the lock) reads go to the writer, to see what it has not
    committed yet; an in-memory or read-only database has the one connection, shared under the lock.
    """

    def __init__(self, path: Path | str, migrations: list[tuple[str, Migration]], read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock = WriteLock()
        # an in-memory database is private to its connection; a read-only one may be opened as immutable
        self._shared_reads = read_only or str(path) == ":memory:"
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._changes = 0  # what data_version() returns once readers are in use
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

    @contextlib.contextmanager
    def read(self, snapshot: bool = False) -> Iterator[sqlite_utils.Database]:
        """Yield the database to read from: this thread's reader, or the writer (under its lock) inside a write.

        With `snapshot`, the reads in the block see one state of the database (a read transaction, ended
        on leaving the block: a reader never keeps one open, or it would not see later commits).
        """
        if self._shared_reads or self.lock.held():
            with self.lock:
                yield self.db
            return
        db = self._reader()
        if not snapshot:
            yield db
            return
        db.conn.execute("BEGIN")
        try:
            yield db
        finally:
            db.conn.commit()

    def _reader(self) -> sqlite_utils.Database:
        """Return this thread's read-only connection, opening it the first time."""
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is not None and not self._closed:
            return db
        with self._readers_lock:
            if self._closed:
                raise StoreError(f"database {self.path} is closed")
            # a thread that ended leaves its connection behind: close those rather than keep them open
            ended = [conn for thread, conn in self._readers if not thread.is_alive()]
            self._readers = [(thread, conn) for thread, conn in self._readers if thread.is_alive()]
            try:
                # mode=rw: a reader never creates the file, so a database deleted under a running bot stays deleted
                conn = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=rw", uri=True, check_same_thread=False, timeout=10
                )
                conn.execute("PRAGMA query_only = ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open database {self.path}: {exc}") from None
            self._readers.append((threading.current_thread(), conn))
        for old in ended:
            old.close()
        db = self._local.db = sqlite_utils.Database(conn)
        return db

    @property
    def readers(self) -> int:
        """Return how many reader connections are open."""
        with self._readers_lock:
            return len(self._readers)

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
        """Close the readers, then the writer (the last connection to close checkpoints the WAL)."""
        with self._readers_lock:
            self._closed = True
            readers, self._readers = self._readers, []
        for _, conn in readers:
            conn.close()
        self.db.conn.close()

    def atomic(self) -> Any:
        """Return a context manager for one transaction (savepoints when nested)."""
        return _Atomic(self)

    def data_version(self) -> int:
        """Return a number that moves when a commit was made since the last call: by another process or, with readers, by anyone."""
        if self._shared_reads:
            with self.lock:  # SQLite's data_version: it changes when another connection commits
                return int(self.db.execute("PRAGMA data_version").fetchone()[0])
        reader = self._reader()
        # each reader counts on its own, so the numbers of two threads cannot be compared: count every
        # change any thread sees (a thread's first look counts as one, which only costs a spare check)
        with self._readers_lock:
            seen = int(reader.execute("PRAGMA data_version").fetchone()[0])
            if getattr(self._local, "data_version", None) != seen:
                self._local.data_version = seen
                self._changes += 1
            return self._changes

    def get_meta(self, key: str) -> str | None:
        """Return a stored value, or None."""
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
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
