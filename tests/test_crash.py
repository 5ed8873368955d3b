"""Crashes and restarts: kill -9 during an import, and a bot restart that must not double or drop."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.cutting import PARALLEL_FROM
from rolebot.kb.knowledge import open_store
from rolebot.tg.app import build_application
from tests.helpers.bot import serving
from tests.helpers.fakeapi import FakeBotAPI
from tests.helpers.waits import eventually_sync


def test_kill_9_during_import_leaves_database_consistent(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    store = open_store(db)
    before = store.counts()
    store.close()
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as out:
        for i in range(30000):
            out.write(
                json.dumps(
                    {
                        "topic": f"synthetic-{i}",
                        "question": f"甲乙{i}号和丙丁{i}号有什么区别",
                        "answer": "合成的答案。",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    rolebot = Path(sys.executable).parent / "rolebot"
    proc = subprocess.Popen(
        [str(rolebot), "import", str(big), "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    eventually_sync(lambda: writing(db) or proc.poll() is not None, "the import to begin writing", timeout=60)
    assert proc.poll() is None, "the import ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    after = open_store(db).counts()
    assert after == before or after["entries"] == before["entries"] + 30000


def writing(db: Path) -> bool:
    """Say whether another process holds the database's write lock: an import is inside its transaction."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc) or "busy" in str(exc), exc
        return True
    finally:
        conn.close()


async def _run_once(api: FakeBotAPI, db: Path, until: int) -> None:
    settings = Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)
    app = build_application(settings, Service(open_store(db)))
    async with serving(app):
        await api.wait_for("sendMessage", count=until, timeout=10)


async def test_restart_answers_everything_exactly_once(fake_api: FakeBotAPI, tmp_path: Path) -> Any:
    db = tmp_path / "r.db"
    open_store(db).close()
    for i in range(3):
        fake_api.user_message(f"营销是什么 {i}", user_id=3000 + i)
    await _run_once(fake_api, db, until=3)
    for i in range(3):
        fake_api.user_message(f"销售是什么 {i}", user_id=3000 + i)
    await _run_once(fake_api, db, until=6)
    sent = fake_api.calls_to("sendMessage")
    assert len(sent) == 6 and not fake_api.pending_updates


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_kill_9_during_a_large_import_leaves_no_worker_behind(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    open_store(db).close()
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as out:
        for i in range(PARALLEL_FROM * 4):
            out.write(
                json.dumps({"topic": f"t-{i}", "question": f"甲乙{i}号和丙丁{i}号有什么区别", "answer": "答。"}) + "\n"
            )
    rolebot = Path(sys.executable).parent / "rolebot"
    proc = subprocess.Popen(
        [str(rolebot), "import", str(big), "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        workers: set[int] = set()

        def cutting() -> bool:
            """The worker is there, and has cut a chunk: the import writes only what a worker cut."""
            workers.update(_children(proc.pid))
            return bool(workers) and writing(db) or proc.poll() is not None

        eventually_sync(cutting, "a worker cutting for the import", timeout=60)
        assert workers, "the import started no worker process"
        assert proc.poll() is None, "the import ended before it could be killed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    eventually_sync(lambda: not any(_alive(w) for w in workers), "the workers to go with their importer", timeout=10)
