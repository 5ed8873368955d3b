"""Health is progress: unhealthy within its bound when polling stalls, drips or dies, whatever the wall clock says."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.store.heartbeat import Health, Heartbeat, boot_id, check_health, heartbeat_path
from rolebot.store.lock import DatabaseLock
from rolebot.tg.app import build_application
from tests.helpers.bot import USER, sends, serving
from tests.helpers.hostile import HostileAPI

ROLEBOT = str(Path(sys.executable).parent / "rolebot")
MAX_AGE = 2.0  # the bound these tests give health (150 s in production)
SLACK = 2.0  # a getUpdates not done `poll_timeout + SLACK` seconds after it began is given up


@pytest_asyncio.fixture
async def polling(seed_db: Path, tmp_path: Path) -> AsyncIterator[tuple[HostileAPI, Any, Path]]:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    with HostileAPI() as api:
        settings = Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)
        app = build_application(settings, Service(open_store(db)))
        app.bot_data["rolebot"].delivery.deadline_slack = SLACK
        async with serving(app) as delivery:
            yield api, delivery, db


def health(delivery: Any, db: Path) -> Health:
    """What /healthz says (the running bot's own check, its tasks looked at)."""
    return check_health(db, delivery.heartbeat, MAX_AGE, serving=delivery.problem)


async def until(predicate: Callable[[], bool], timeout: float) -> float:
    """Wait until predicate() holds; return how long it took."""
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not within {timeout:.0f} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - began


@pytest.mark.parametrize("fault", ["stops-answering", "drips"])
async def test_stalled_polling_turns_unhealthy_within_the_bound_then_recovers(
    polling: tuple[HostileAPI, Any, Path], fault: str
) -> None:
    api, delivery, db = polling
    await until(lambda: health(delivery, db).ok, timeout=10)
    if fault == "stops-answering":
        api.delay("getUpdates", 60)  # held until the stand-in stops: no answer at all
    else:
        api.drip("getUpdates", every=0.3)  # a byte every 0.3 s: each read succeeds, the answer never ends
    took = await until(lambda: not health(delivery, db).ok, timeout=MAX_AGE + 10)
    # the last progress was at most one long poll (1 s) before the fault
    assert took <= MAX_AGE + 1.5, took
    assert "none for" in health(delivery, db).api
    # the getUpdates deadline gives the stalled call up: polling goes on
    back = await until(lambda: health(delivery, db).ok, timeout=1 + SLACK + 10)
    api.user_message("营销和销售有什么区别", user_id=USER)
    [reply] = await sends(api, timeout=20)
    assert "营销" in reply["text"]
    print(f"{fault}: unhealthy {took:.1f} s after the fault (bound {MAX_AGE:.0f} s), healthy again {back:.1f} s later")


async def test_a_dead_polling_task_is_unhealthy_at_once(polling: tuple[HostileAPI, Any, Path]) -> None:
    _, delivery, db = polling
    await until(lambda: health(delivery, db).ok, timeout=10)
    delivery._poller.cancel()
    took = await until(lambda: not health(delivery, db).ok, timeout=5)
    assert health(delivery, db).serving == "polling was cancelled"
    assert took < 1.0


def write_beat(db: Path, *, monotonic: float, wall: float) -> None:
    record = {"monotonic": monotonic, "wall": wall, "boot": boot_id(), "pid": os.getpid()}
    heartbeat_path(db).write_text(json.dumps(record))


def test_the_age_is_monotonic_not_the_wall_clock(shipped_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    shutil.copy(shipped_db, db)
    with DatabaseLock(db):
        # a wall clock stepped back an hour: the last progress looks "just now" by the wall, 200 s ago by the clock
        write_beat(db, monotonic=time.monotonic() - 200, wall=time.time())
        stale = check_health(db, Heartbeat(heartbeat_path(db)))
        assert not stale.ok and "none for 200 s" in stale.api
        # stepped forward: an hour old by the wall, fresh by the monotonic clock
        write_beat(db, monotonic=time.monotonic(), wall=time.time() - 3600)
        assert check_health(db, Heartbeat(heartbeat_path(db))).ok
        # a beat from another boot says nothing about this one
        heartbeat_path(db).write_text(json.dumps({"monotonic": 1.0, "wall": time.time(), "boot": "x", "pid": 1}))
        assert not check_health(db, Heartbeat(heartbeat_path(db))).ok


def test_a_stopped_process_turns_unhealthy_within_the_bound(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    with HostileAPI() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ROLEBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_BASE_URL=api.base_url)
        bot = subprocess.Popen(
            [ROLEBOT, "run", "--db", str(db)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 60
            while Heartbeat(heartbeat_path(db)).age() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            # quiet polling makes progress once per long poll (10 s) and writes the file at most every 5 s
            bound = 20.0

            def check() -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [ROLEBOT, "health", "--db", str(db), "--max-age", str(bound)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )

            assert check().returncode == 0
            bot.send_signal(signal.SIGSTOP)  # alive, holding its lock, making no progress
            stopped = time.monotonic()
            while (result := check()).returncode == 0 and time.monotonic() - stopped < bound + 10:
                time.sleep(0.5)
            took = time.monotonic() - stopped
        finally:
            bot.send_signal(signal.SIGCONT)
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=30)
    assert result.returncode == 1 and "none for" in result.stderr, result
    assert took <= bound + 1, took
    print(f"SIGSTOPped bot unhealthy after {took:.1f} s (bound {bound:.0f} s)")


def test_a_damaged_inbox_is_unhealthy(shipped_db: Path, tmp_path: Path) -> None:
    from rolebot.store.inbox import inbox_path

    db = tmp_path / "h.db"
    shutil.copy(shipped_db, db)
    with DatabaseLock(db):
        write_beat(db, monotonic=time.monotonic(), wall=time.time())
        assert check_health(db, Heartbeat(heartbeat_path(db))).ok  # no inbox yet: nothing taken
        inbox_path(db).write_bytes(b"not a database " * 100)
        damaged = check_health(db, Heartbeat(heartbeat_path(db)))
    assert not damaged.ok and damaged.database.startswith("inbox h.db.inbox")
