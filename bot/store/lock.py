"""One bot per database: an exclusive lock on a file beside it, which the OS releases when the process dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from rolebot.errors import StoreError


class DatabaseBusy(StoreError):
    """Another process serves this database."""


def lock_path(db_path: Path) -> Path:
    """Return the lock file beside the database."""
    return db_path.with_name(db_path.name + ".lock")


class DatabaseLock:
    """An flock(2) on `<database>.lock`, holding the holder's pid, kept for the life of the process.

    flock rather than SQLite's own locks: it belongs to the open file, so a crash or kill -9 releases it
    at once (no stale pid file to clean up), and it never blocks a reader of the database.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self, patience: float = 1.0) -> DatabaseLock:
        """Take the lock, or raise DatabaseBusy naming the holder; `patience` covers a health check's brief look."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open database {self.db_path} ({exc.strerror or exc}: {self.path.name})") from None
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    pid = _read_pid(fd)
                    os.close(fd)
                    who = f"pid {pid}" if pid else "another process"
                    raise DatabaseBusy(
                        f"another rolebot ({who}) is serving database {self.db_path}: stop it first "
                        f"(its lock on {self.path.name} goes when it exits); two bots on one database answer twice"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the OS does it too, when the process ends)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(db_path: Path) -> int | None:
    """Return the pid of the process serving the database (0 when unknown), or None when none does."""
    try:
        fd = os.open(lock_path(db_path), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            # shared, and let go at once: a bot starting meanwhile waits out this look (acquire's patience)
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0
