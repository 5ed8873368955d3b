"""Writes off the event loop: a database locked by another process freezes no chat and loses no count."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.store.store import Store
from tests.helpers.bot import serving
from tests.helpers.fakeapi import FakeBotAPI
from tests.helpers.waits import eventually

HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as a maintainer's long import holds it
conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', 'x')")
print("locked", flush=True)
sys.stdin.read()  # until the test lets go
conn.execute("ROLLBACK")
"""


def hold_lock(db: Path) -> subprocess.Popen[str]:
    """Hold the database's write lock from another process until release()."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str], kill: bool = False) -> None:
    """Let go of the lock (or end the process holding it) and wait for the process."""
    if kill:
        proc.kill()
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait()
    proc.stdout.close()


def counted(db: Path) -> tuple[int, int]:
    """Return (questions counted per day, unanswered sightings) as written in the database."""
    conn = sqlite3.connect(db)
    try:
        daily = conn.execute("SELECT coalesce(sum(count), 0) FROM daily").fetchone()[0]
        unanswered = conn.execute("SELECT coalesce(sum(count), 0) FROM unanswered").fetchone()[0]
    finally:
        conn.close()
    return int(daily), int(unanswered)


def test_counts_kept_in_memory_while_locked(store: Store) -> None:
    service = Service(store, salt="s")
    service.defer_writes()
    for _ in range(3):
        service.ask("营销是什么", record=True)
        service.ask("厨师和服务员有什么区别", record=True)
    locked = hold_lock(store.path)
    conn = sqlite3.connect(store.path, timeout=0.1)
    try:
        try:
            service.write_activity(conn)
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
        assert sum(r["count"] for r in store.daily(1)) == 6  # still counted, from memory
        assert [r["count"] for r in store.unanswered()] == [3]
    finally:
        release(locked, kill=True)
    assert service.write_activity(conn) == 6 + 3 and counted(store.path) == (6, 3)
    conn.close()


async def test_a_long_write_lock_freezes_no_chat_and_loses_no_count(
    fake_api: FakeBotAPI, seed_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    settings = Settings(token=fake_api.token, db_path=db, base_url=fake_api.base_url)
    app = build(settings, db)
    writer = app.bot_data["rolebot"].writer
    async with serving(app):
        before = counted(db)
        locked = await asyncio.to_thread(hold_lock, db)
        latencies: list[float] = []
        try:
            for i in range(30):
                if i == 10:  # the counts of the first ten are due: from here on the writer is stuck on the lock
                    await eventually(lambda: writer.retries > 0, "the writer to find the database locked")
                question = "营销是什么" if i % 3 else "厨师和服务员有什么区别"
                mark = fake_api.mark()
                sent = time.monotonic()
                fake_api.user_message(question, user_id=5000 + i)
                await fake_api.wait_for("sendMessage", since=mark, timeout=5)
                latencies.append(time.monotonic() - sent)
            print(f"answers during the lock: max {max(latencies) * 1000:.0f} ms over {len(latencies)}")
            assert max(latencies) < 2.0, latencies  # no chat waited for the lock, nor for the writer stuck on it
            assert counted(db) == before  # nothing could be written meanwhile
        finally:
            await asyncio.to_thread(release, locked)
        # within a few seconds of the release the writer has written every count (the ten unanswered too)
        want = (before[0] + 30, before[1] + 10)
        await eventually(lambda: counted(db) == want, f"the counts to reach {want}", timeout=10)


def build(settings: Settings, db: Path) -> object:
    from rolebot.tg.app import build_application

    return build_application(settings, Service(open_store(db)))
