"""One bot per database: a second `rolebot run` refuses while the first lives, naming it; the OS frees the lock."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.store.heartbeat import Heartbeat, check_health, heartbeat_path
from rolebot.store.inbox import inbox_path
from rolebot.store.lock import DatabaseBusy, DatabaseLock, holder
from rolebot.tg.app import build_application
from tests.helpers.bot import USER, sends, serving
from tests.helpers.fakeapi import FakeBotAPI

ROLEBOT = str(Path(sys.executable).parent / "rolebot")
USERS = 300


def env_for(api: FakeBotAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ROLEBOT_"))}
    env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_BASE_URL=api.base_url, ROLEBOT_SEND_RATE="0")
    return env


def start(api: FakeBotAPI, db: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([ROLEBOT, "run", "--db", str(db)], env=env_for(api), stdout=out, stderr=out)


def wait_for_line(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if text in line:
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in {log.read_text(errors='replace')[-2000:]}")


def replies_per_chat(api: FakeBotAPI) -> Counter[int]:
    return Counter(int(r.params["chat_id"]) for r in api.log if r.method == "sendMessage" and r.error is None)


def test_a_second_lock_on_one_database_names_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert holder(db) is None
    with DatabaseLock(db):
        assert holder(db) == os.getpid()
        with pytest.raises(DatabaseBusy) as busy:
            DatabaseLock(db).acquire(patience=0.1)
        assert f"pid {os.getpid()}" in str(busy.value) and "\n" not in str(busy.value)
    assert holder(db) is None
    DatabaseLock(db).acquire().release()


def test_second_run_mid_backlog_refuses_and_nothing_is_lost_or_doubled(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with FakeBotAPI() as api:
        api.delay("sendMessage", 0.2, times=None)  # a slow Telegram: the backlog lasts while the second starts
        first = start(api, db, first_log)
        try:
            wait_for_line(first_log, "started:", first)
            for i in range(USERS):
                api.user_message("营销和销售有什么区别", user_id=20_000 + i)
            second = start(api, db, second_log)
            code = second.wait(timeout=90)
            sent_when_refused = len(api.calls_to("sendMessage"))
            deadline = time.monotonic() + 120
            while len(replies_per_chat(api)) < USERS and time.monotonic() < deadline:
                time.sleep(0.1)
            api.user_message("销售是什么", user_id=20_000)  # a marker: any double would come before its answer
            while replies_per_chat(api)[20_000] < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=30)
    lines = [line for line in second_log.read_text().splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("error: another rolebot (pid ") and f"pid {first.pid})" in lines[0]
    assert 0 < sent_when_refused < USERS, "the second start came mid-backlog"
    per_chat = replies_per_chat(api)
    per_chat[20_000] -= 1  # the marker's answer
    lost = sum(1 for i in range(USERS) if per_chat[20_000 + i] == 0)
    doubled = sum(max(n - 1, 0) for n in per_chat.values())
    assert (lost, doubled) == (0, 0)
    print(f"second start refused after {sent_when_refused} of {USERS} answers; lost {lost}, doubled {doubled}")


def test_two_cold_starts_at_once_one_serves_one_says_why(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "bot.db"  # neither finds a database: both would create it
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with FakeBotAPI() as api:
        procs = [start(api, db, log) for log in logs]
        try:
            deadline = time.monotonic() + 120
            while sum(p.poll() is not None for p in procs) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            [loser] = [i for i, p in enumerate(procs) if p.poll() is not None]
            winner = 1 - loser
            wait_for_line(logs[winner], "started:", procs[winner])
            api.user_message("营销是什么", user_id=30_000)
            api.wait_for_sync("sendMessage", timeout=60)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=30)
    lines = [line for line in logs[loser].read_text().splitlines() if line.strip()]
    assert procs[loser].returncode == 1 and len(lines) == 1, lines
    assert f"another rolebot (pid {procs[winner].pid})" in lines[0]
    assert procs[winner].returncode == 0


def test_health_is_unhealthy_at_once_when_the_bot_is_killed(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    log = tmp_path / "bot.log"
    with FakeBotAPI() as api:
        bot = start(api, db, log)
        try:
            wait_for_line(log, "started:", bot)
            deadline = time.monotonic() + 30
            while Heartbeat(heartbeat_path(db)).age() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert check_health(db, Heartbeat(heartbeat_path(db))).ok
        finally:
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
        killed = time.monotonic()
        health = subprocess.run([ROLEBOT, "health", "--db", str(db)], capture_output=True, text=True, timeout=60)
        took = time.monotonic() - killed
    assert health.returncode == 1 and "no bot is running on it" in health.stderr, health
    assert Heartbeat(heartbeat_path(db)).age() is not None  # the beat is fresh: the lock told
    print(f"unhealthy {took:.1f} s after the kill (the lock's holder gone; the heartbeat still fresh)")


async def test_a_stop_ends_within_10_s_while_another_process_holds_the_inbox(seed_db: Path, tmp_path: Path) -> None:

    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    with FakeBotAPI() as api:

        def app() -> object:
            settings = Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)
            return build_application(settings, Service(open_store(db)))

        # it waits out a write of the bot's own (a done mark) before it takes the lock, then holds it
        holder_conn = sqlite3.connect(inbox_path(db), timeout=5, isolation_level=None)
        async with serving(app()):
            api.user_message("营销是什么", user_id=USER)
            await sends(api, timeout=20)
            holder_conn.execute("BEGIN IMMEDIATE")  # e.g. a backup tool, or a second bot stuck on it
            api.user_message("运营是什么", user_id=USER)
            await api.wait_for("getUpdates", count=1, since=len(api.calls), timeout=20)
            began = time.monotonic()
        took = time.monotonic() - began
        holder_conn.execute("ROLLBACK")
        holder_conn.close()
        assert took < 10, took
        before = len(api.texts(USER))
        async with serving(app()):  # the update it could not take in was not confirmed: it comes again
            deadline = time.monotonic() + 30
            while not any("运营" in t.partition("\n")[0] for t in api.texts(USER)[before:]):
                assert time.monotonic() < deadline, api.texts(USER)
                await asyncio.sleep(0.1)
    print(f"stopped in {took:.1f} s with the inbox write-locked by another connection")


async def test_a_stop_ends_within_10_s_while_another_process_holds_the_database(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    with FakeBotAPI() as api:
        settings = Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)
        app = build_application(settings, Service(open_store(db)))
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        async with serving(app):
            other.execute("BEGIN IMMEDIATE")  # an import in another process, say
            for question in ("营销是什么", "会计和出纳的区别"):  # counted, and one kept for review: writes to make
                api.user_message(question, user_id=USER)
            await sends(api, count=2, timeout=20)
            began = time.monotonic()
        took = time.monotonic() - began
        other.execute("ROLLBACK")
        other.close()
    assert took < 10, took
    print(f"stopped in {took:.1f} s with the database write-locked by another connection")
