"""A database deleted, emptied or replaced under a running bot stops it with one line; nothing is re-created."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rolebot.store.inbox import inbox_path
from tests.helpers.fakeapi import FakeBotAPI

ROLEBOT = str(Path(sys.executable).parent / "rolebot")


def env_for(api: FakeBotAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ROLEBOT_"))}
    env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_BASE_URL=api.base_url)
    return env


def start(api: FakeBotAPI, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ROLEBOT, "run", "--db", str(db)], env=env_for(api), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def read_until(proc: subprocess.Popen[str], text: str, timeout: float = 90) -> list[str]:
    """Read the bot's output until a line holds text; return the lines read."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if text in line:
            return lines
    raise AssertionError(f"no {text!r} in {lines}")


@pytest.mark.parametrize("how", ["deleted", "emptied", "replaced"])
def test_database_gone_under_the_bot_is_one_line_and_exit_1(seed_db: Path, tmp_path: Path, how: str) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    with FakeBotAPI() as api:
        env = env_for(api)
        bot = start(api, db)
        try:
            read_until(bot, "started:")
            api.user_message("营销和销售有什么区别", user_id=4242)
            api.wait_for_sync("sendMessage", timeout=60)
            gone = time.monotonic()
            if how == "deleted":
                for part in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                    part.unlink(missing_ok=True)
            elif how == "emptied":
                db.write_bytes(b"")
            else:  # a backup moved into place with mv
                shutil.copy(seed_db, tmp_path / "restored.db")
                os.replace(tmp_path / "restored.db", db)
            out, _ = bot.communicate(timeout=30)
            took = time.monotonic() - gone
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    lines = [line for line in out.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:") or " ERROR " in line]
    assert bot.returncode == 1 and len(errors) == 1, lines
    word = "replaced" if how == "replaced" else "deleted (or emptied)"
    assert errors[0].startswith(f"error: database {db} was {word}"), errors
    assert "Traceback" not in out and api.token not in out
    assert took < 10, took
    if how == "deleted":
        assert not db.exists(), "the running bot must not create a fresh database"
        again = subprocess.run([ROLEBOT, "run", "--db", str(db)], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "is missing, but bot.db.inbox beside it" in again.stderr
    if how == "emptied":
        assert db.stat().st_size == 0
    print(f"{how}: the bot stopped {took:.1f} s later with: {errors[0][:90]}")
    assert inbox_path(db).exists()
