"""Reads on each thread's own connection: served while a write holds the lock, and seeing every commit after it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from rolebot.errors import StoreError
from rolebot.kb.knowledge import add_phrasing
from rolebot.store.store import Store

T = TypeVar("T")
HANG = 60.0  # only so that a regression fails instead of hanging the suite; never reached when it works


class Reader:
    """One other thread, always the same (so one reader connection), to run reads on."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reader")

    def __call__(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the thread and return its result."""
        return self.pool.submit(fn).result(timeout=HANG)


@pytest.fixture
def reader() -> Iterator[Reader]:
    """A thread of its own to read on."""
    r = Reader()
    yield r
    r.pool.shutdown()


def test_a_read_is_served_while_another_thread_holds_the_write_lock(store: Store, reader: Reader) -> None:
    entry_id = store.topic_entries("marketing-vs-sales")[0]["id"]
    before = store.entry(entry_id)
    assert before is not None
    holding, release = threading.Event(), threading.Event()
    done: list[str] = []

    def write() -> None:
        with store.atomic() as conn:
            conn.db.execute("UPDATE entries SET answer = 'changed' WHERE id = ?", [entry_id])
            holding.set()
            release.wait(HANG)  # holds the write lock (and an open write transaction) until the reads are done
        done.append("committed")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert holding.wait(HANG)
        seen = reader(lambda: store.entry(entry_id))
        found = reader(lambda: [c.ref for c in store.search(["营销", "销售"], 5)])
        assert not done and writer.is_alive()  # the reads came back while the writer still held the lock
        assert seen == before  # and saw the last commit, not the write in progress
        assert entry_id in found
    finally:
        release.set()
        writer.join(HANG)
    assert done == ["committed"]
    after = reader(lambda: store.entry(entry_id))  # the same thread and connection, now after the commit
    assert after is not None and after["answer"] == "changed"


def test_a_knowledge_change_through_the_writer_is_seen_by_a_reader_afterwards(store: Store, reader: Reader) -> None:
    text = "营销岗和销售岗每天分别在忙些什么"
    version = reader(store.knowledge_version)
    data_version = reader(store.data_version)
    assert text not in [t for t, _ in reader(lambda: store.topic_phrasings("marketing-vs-sales"))]
    assert add_phrasing(store, "marketing-vs-sales", text, "test")  # written on this thread, through the writer
    assert reader(store.knowledge_version) != version
    assert reader(store.data_version) != data_version  # what tells the engine to look at knowledge_version
    assert text in [t for t, _ in reader(lambda: store.topic_phrasings("marketing-vs-sales"))]


def test_reads_inside_a_write_see_what_it_has_not_committed_yet(store: Store) -> None:
    entry_id = store.topic_entries("marketing-vs-sales")[0]["id"]
    with store.atomic() as conn:
        conn.db.execute("UPDATE entries SET answer = 'in progress' WHERE id = ?", [entry_id])
        inside = store.entry(entry_id)
        assert inside is not None and inside["answer"] == "in progress"
        conn.db.execute("UPDATE entries SET answer = ? WHERE id = ?", ["back", entry_id])


def test_readers_are_read_only_and_closed_with_the_store(tmp_path: Path, shipped_db: Path) -> None:
    from tests.helpers.db import copy_db

    store = Store(copy_db(shipped_db, tmp_path / "r.db"))
    threads = [threading.Thread(target=store.counts) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    assert store.counts()["entries"] > 0
    # the three ended threads' connections are closed when the next thread opens its own
    last = threading.Thread(target=store.counts)
    last.start()
    last.join(HANG)
    assert store.conn.readers == 2  # this thread's and the last one's
    with store.conn.read() as db, pytest.raises(Exception, match="readonly"):
        db.execute("DELETE FROM entries")
    store.close()
    assert store.conn.readers == 0
    with pytest.raises(StoreError, match="closed"):
        store.counts()
