"""Read-only commands on a database this user cannot write: a read-only file in a read-only folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.db import copy_db

ROLEBOT = [sys.executable, "-m", "rolebot"]
# root writes whatever the mode bits say: run the commands as root without the capabilities that allow it
DROP = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"] if os.geteuid() == 0 else []
QUESTION = "没人问过的怪问题 quux"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DROP, *args], capture_output=True, text=True, timeout=60)


def _unanswered(conn: sqlite3.Connection) -> None:
    now = time.time()
    conn.execute(
        "INSERT INTO unanswered (question, text, count, first_seen, last_seen, chat_type, candidates) "
        "VALUES (?, ?, 3, ?, ?, 'private', '[]')",
        ["quux", QUESTION, now, now],
    )
    conn.commit()


def _committed_copy(tmp_path: Path, shipped_db: Path) -> tuple[Path, sqlite3.Connection]:
    """Copy the shipped database into tmp_path/ro and commit one unanswered question that stays in its -wal."""
    if DROP and shutil.which("setpriv") is None:
        pytest.skip("running as root and no setpriv to drop the right to write read-only files")
    folder = tmp_path / "ro"
    folder.mkdir()
    db = copy_db(shipped_db, folder / "bot.db")
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the bot's last commit stays in the -wal, not yet in bot.db
    _unanswered(writer)
    return db, writer


def _read_only(folder: Path) -> None:
    for f in folder.iterdir():
        f.chmod(0o444)
    folder.chmod(0o555)


@pytest.fixture(params=["closed", "open-by-a-writer"])
def locked_db(request: pytest.FixtureRequest, tmp_path: Path, shipped_db: Path) -> Iterator[Path]:
    """A copy of the shipped database, 0444 in a 0555 folder; 'open-by-a-writer' keeps its last commit in the -wal."""
    db, writer = _committed_copy(tmp_path, shipped_db)
    folder = db.parent
    if request.param == "closed":
        writer.close()
    _read_only(folder)
    if _run("touch", str(folder / "probe")).returncode == 0:
        folder.chmod(0o755)
        pytest.skip("this user can write a 0555 folder")
    try:
        yield db
    finally:
        folder.chmod(0o755)
        writer.close()


def _state(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


@pytest.mark.slow(5)
def test_read_only_commands_read_and_write_nothing(locked_db: Path, shipped_db: Path) -> None:
    before = _state(locked_db.parent)
    ask = _run(*ROLEBOT, "ask", "营销和销售有什么区别", "--db", str(locked_db))
    assert (ask.returncode, ask.stderr) == (0, ""), ask.stderr
    assert "销售是营销的一部分" in ask.stdout
    logged = _run(*ROLEBOT, "ask", "--log", "营销和销售有什么区别", "--db", str(locked_db))
    assert logged.returncode == 0, logged.stderr
    assert logged.stderr == "warning: the database is read-only: questions are answered but not counted\n"
    export = _run(*ROLEBOT, "export", "--db", str(locked_db))
    assert (export.returncode, export.stderr) == (0, ""), export.stderr
    shipped = subprocess.run([*ROLEBOT, "export", "--db", str(shipped_db)], capture_output=True, text=True, timeout=60)
    assert export.stdout == shipped.stdout
    review = _run(*ROLEBOT, "review", "--json", "--db", str(locked_db))
    assert (review.returncode, review.stderr) == (0, ""), review.stderr
    assert QUESTION in review.stdout  # the commit still in the -wal is seen
    assert json.loads(review.stdout)
    listing = _run(*ROLEBOT, "review", "--db", str(locked_db))
    assert (listing.returncode, listing.stderr) == (0, ""), listing.stderr
    health = _run(*ROLEBOT, "health", "--db", str(locked_db))
    assert "database ok" in health.stdout + health.stderr  # unhealthy only because no bot answered Telegram
    assert _state(locked_db.parent) == before  # no -wal, -shm or salt made, not a byte changed


def test_a_wal_left_with_commits_is_one_line(tmp_path: Path, shipped_db: Path) -> None:
    db, writer = _committed_copy(tmp_path, shipped_db)
    folder = db.parent
    shutil.copy(db.with_name("bot.db-wal"), tmp_path / "wal")
    writer.close()
    shutil.copy(tmp_path / "wal", db.with_name("bot.db-wal"))  # a crash's leftover: a -wal and no -shm
    _read_only(folder)
    try:
        proc = _run(*ROLEBOT, "export", "--db", str(db))
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot read {db} read-only: its write-ahead log bot.db-wal needs")
    assert proc.stderr.count("\n") == 1, proc.stderr
