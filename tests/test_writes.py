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

HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as a maintainer's long import holds it
conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', 'x')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Hold the database's write lock from another process for a while."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str], kill: bool = False) -> None:
    """Wait for (or end) the process holding the lock."""
    if kill:
        proc.kill()
    proc.wait()
    if proc.stdout is not None:
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
    locked = hold_lock(store.path, 30)
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


async def test_15s_write_lock_freezes_no_chat_and_loses_no_count(
    fake_api: FakeBotAPI, seed_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    settings = Settings(token=fake_api.token, db_path=db, base_url=fake_api.base_url)
    app = build(settings, db)
    async with serving(app):
        before = counted(db)
        locked = await asyncio.to_thread(hold_lock, db, 15)
        t0 = time.monotonic()
        latencies: list[float] = []
        try:
            for i in range(30):
                question = "营销是什么" if i % 3 else "厨师和服务员有什么区别"
                mark = fake_api.mark()
                sent = time.monotonic()
                fake_api.user_message(question, user_id=5000 + i)
                await fake_api.wait_for("sendMessage", since=mark, timeout=5)
                latencies.append(time.monotonic() - sent)
                await asyncio.sleep(0.3)  # spread over the lock
            assert time.monotonic() - t0 < 15  # all of it happened while the lock was held
            print(f"answers during the lock: max {max(latencies) * 1000:.0f} ms over {len(latencies)}")
            assert max(latencies) < 2.0, latencies  # no chat waited for the lock
            assert counted(db) == before  # nothing could be written meanwhile
            assert app.bot_data["rolebot"].writer.retries > 0  # the writer did try, and waited
        finally:
            await asyncio.to_thread(release, locked)
        for _ in range(50):  # the writer writes within a few seconds of the release
            if counted(db) != before:
                break
            await asyncio.sleep(0.2)
        assert counted(db) == (before[0] + 30, before[1] + 10)


def build(settings: Settings, db: Path) -> object:
    from rolebot.tg.app import build_application

    return build_application(settings, Service(open_store(db)))
