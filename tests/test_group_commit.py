"""The inbox's progress writes: those made while one is being written share the next transaction, in order."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rolebot.store.worker import Worker, connect
from rolebot.tg.delivery import GroupCommit


class CountingWorker(Worker):
    """A worker that counts the jobs (transactions) it is given."""

    jobs = 0

    async def run(self, job: Callable[[sqlite3.Connection], Any]) -> Any:
        self.jobs += 1
        return await super().run(job)


def insert(n: int) -> Callable[[sqlite3.Connection], None]:
    return lambda conn: conn.execute("INSERT INTO t (n) VALUES (?)", (n,)) and None


async def test_writes_queued_meanwhile_go_in_one_transaction_in_order(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    worker = CountingWorker(lambda: connect(db), "test-writer").start()
    await worker.run(lambda conn: conn.execute("CREATE TABLE t (n INTEGER)") and None)
    commit, started, release = GroupCommit(worker), threading.Event(), threading.Event()
    first = commit.write(lambda conn: (started.set(), release.wait(30)) and None)  # holds the worker
    assert await asyncio.to_thread(started.wait, 30)
    rest = [commit.write(insert(n)) for n in range(5)]  # while the first is being written
    release.set()
    await asyncio.gather(first, *rest)
    rows = await worker.run(lambda conn: [r[0] for r in conn.execute("SELECT n FROM t ORDER BY rowid")])
    worker.close()
    assert rows == [0, 1, 2, 3, 4]
    assert worker.jobs == 1 + 2 + 1  # the table, the first write, the five together, the read


async def test_a_failed_transaction_fails_each_of_its_writes_and_not_the_next(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    worker = Worker(lambda: connect(db), "test-writer").start()
    await worker.run(lambda conn: conn.execute("CREATE TABLE t (n INTEGER)") and None)
    commit = GroupCommit(worker)
    good, bad = commit.write(insert(1)), commit.write(lambda conn: conn.execute("INSERT INTO nowhere VALUES (1)"))
    for future in (good, bad):
        with pytest.raises(sqlite3.OperationalError):
            await future
    await commit.write(insert(2))
    await commit.drain()
    rows = await worker.run(lambda conn: [r[0] for r in conn.execute("SELECT n FROM t")])
    worker.close()
    assert rows == [2]  # the failed transaction's good write was rolled back with it
