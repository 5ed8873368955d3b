"""One thread that runs database writes in order, from a bounded queue, waiting out a busy write lock."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger("rolebot")
T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
_STOP = object()


def is_busy(exc: BaseException) -> bool:
    """Say whether an error means another connection holds the write lock (worth trying again)."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def connect(path: Path | str, timeout: float = 1.0) -> sqlite3.Connection:
    """Open a connection of the worker's own, so its waits on the write lock hold up no reader."""
    conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class Worker:
    """Run jobs `fn(connection)` one at a time on a thread of their own; a job that finds the database locked is retried.

    The queue is bounded: `run()` waits for room, so a stuck disk slows the callers that write instead of
    filling memory, and the event loop never waits on SQLite.
    """

    def __init__(self, open_conn: Callable[[], sqlite3.Connection], name: str, maxsize: int = 1000) -> None:
        self._open = open_conn
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._closing = threading.Event()
        self._closing_deadline = 0.0
        self.started = False
        self.retries = 0  # jobs tried again because another process held the write lock
        self.name = name
        self.error: BaseException | None = None  # why the connection could not be opened

    def start(self) -> Worker:
        """Start the thread (idempotent)."""
        if not self.started:
            self.started = True
            self._thread.start()
        return self

    def submit(self, job: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        """Queue a job from any thread, waiting while the queue is full; return its future."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Queue a job from the event loop (waiting for room off the loop) and wait for its result."""
        try:
            future = self.submit_nowait(job)
        except queue.Full:
            future = await asyncio.to_thread(self.submit, job)
        return await asyncio.wrap_future(future)

    def submit_nowait(self, job: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        """Queue a job, or raise queue.Full."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put_nowait((job, future))
        return future

    @property
    def alive(self) -> bool:
        """Say whether the thread runs jobs (False once it ended, or when its connection could not be opened)."""
        return self._thread.is_alive() and self.error is None

    @property
    def waiting(self) -> int:
        """Return how many jobs wait in the queue."""
        return self._jobs.qsize()

    def close(self, timeout: float = 5.0) -> None:
        """Finish the queued jobs (giving up on a lock still busy after `timeout`) and stop the thread."""
        if not self.started:
            return
        self._closing_deadline = time.monotonic() + timeout
        self._closing.set()
        try:
            self._jobs.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout + 1.0)

    def _loop(self) -> None:
        try:
            conn = self._open()
        except Exception as exc:  # a damaged file: every job learns why, none waits for ever on a dead thread
            self.error = exc
            while (item := self._jobs.get()) is not _STOP:
                if item[1].set_running_or_notify_cancel():
                    item[1].set_exception(exc)
            return
        try:
            while True:
                item = self._jobs.get()
                if item is _STOP:
                    return
                job, future = item
                if future.set_running_or_notify_cancel():
                    self._do(conn, job, future)
        finally:
            conn.close()

    def _do(self, conn: sqlite3.Connection, job: Job, future: concurrent.futures.Future[Any]) -> None:
        delay = 0.05
        while True:
            try:
                with conn:
                    result = job(conn)
            except Exception as exc:
                give_up = self._closing.is_set() and time.monotonic() > self._closing_deadline
                if is_busy(exc) and not give_up:
                    self.retries += 1
                    if self.retries % 20 == 1:
                        log.warning("%s: database is locked by another process; trying again", self.name)
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                future.set_exception(exc)
                return
            future.set_result(result)
            return
