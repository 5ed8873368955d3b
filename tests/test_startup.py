"""`rolebot run` as an operator meets it: one-line failures without the token, the start-up line, health."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rolebot.store.lock import DatabaseLock
from rolebot.tg.health import Heartbeat, check_health, heartbeat_path
from rolebot.tg.logs import JsonFormatter, RedactingFormatter, Redactor
from rolebot.tg.profile import profiles, sync_profile
from tests.helpers.db import damage_pages
from tests.helpers.fakeapi import FakeBotAPI

TOKEN = "123456789:AAAA-secretpart"
SECRET_HALF = TOKEN.partition(":")[2]
ROLEBOT = [sys.executable, "-m", "rolebot"]


def free_port() -> int:
    """Return a port nothing listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(base_url: str, db: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a `rolebot run` against base_url."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ROLEBOT_"))}
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=base_url, ROLEBOT_DB=str(db), **extra)
    return env


def assert_clean(output: str) -> None:
    """No traceback and neither the token nor its secret half."""
    assert "Traceback" not in output
    assert TOKEN not in output and SECRET_HALF not in output and "secretpart" not in output


@dataclass
class Failure:
    """What one failed start printed."""

    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def failures(seed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Failure]]:
    """Start `rolebot run` once per failure case, all at once (each start pays the imports)."""
    tmp = tmp_path_factory.mktemp("failures")
    blocker = tmp / "a-file"
    blocker.write_text("not a folder")
    with FakeBotAPI(token=TOKEN) as api, FakeBotAPI(token="123456789:BBBB-other") as other:
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        hook = ["--webhook-url", "https://bot.example.org/telegram", "--listen", "127.0.0.1"]
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "base-url-without-bot": ([], {"TELEGRAM_BASE_URL": api.base_url.removesuffix("/bot")}),
            "unreachable-api": ([], {"TELEGRAM_BASE_URL": f"http://127.0.0.1:{free_port()}/bot"}),
            "rejected-token": ([], {"TELEGRAM_BASE_URL": other.base_url}),
            "port-in-use": ([*hook, "--port", str(taken.getsockname()[1])], {}),
            "port-out-of-range": ([*hook, "--port", "70000"], {}),
            "unwritable-database": ([], {"ROLEBOT_DB": str(blocker / "rolebot.db")}),
            "malformed-token": ([], {"TELEGRAM_BOT_TOKEN": "AAAA-secretpart"}),
            "damaged-database": ([], {}),
            "deleted-database": ([], {}),
        }
        procs = {}
        for name, (args, extra) in cases.items():
            db = tmp / f"{name}.db"
            shutil.copy(seed_db, db)
            if name == "damaged-database":
                damage_pages(db)
            if name == "deleted-database":  # the bot ran on it (its inbox is there), then the database went
                (tmp / f"{name}.db.inbox").write_bytes(b"")
                db.unlink()
            env = {**env_for(api.base_url, db), **extra}
            procs[name] = subprocess.Popen(
                [*ROLEBOT, "run", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=120)
            results[name] = Failure(proc.returncode, out, err)
        taken.close()
        yield results


EXPECTED = {
    "base-url-without-bot": "must be a URL ending in /bot",
    "unreachable-api": "cannot reach the Bot API",
    "rejected-token": "rejected the token of bot 123456789",
    "port-in-use": "cannot listen on 127.0.0.1",
    "port-out-of-range": "not a port number",
    "unwritable-database": "cannot open database",
    "malformed-token": "does not look like a bot token",
    "damaged-database": "is damaged (quick_check: ",
    "deleted-database": "is missing, but deleted-database.db.inbox beside it shows a bot ran on it",
}


@pytest.mark.parametrize("case", list(EXPECTED), ids=list(EXPECTED))
def test_failed_start_is_one_clean_line(failures: dict[str, Failure], case: str) -> None:
    result = failures[case]
    assert result.code != 0
    assert len(result.lines) <= 3, result.lines
    assert EXPECTED[case] in result.stderr
    assert result.lines[0].startswith("error: ")
    assert_clean(result.stdout + result.stderr)


class Running:
    """A `rolebot run` subprocess whose stderr is collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*ROLEBOT, "run", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        """Return the first stderr line containing text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self.thread.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"no line with {text!r}; got {self.lines}")

    def stop(self) -> str:
        """Stop it with SIGTERM (as systemd and docker do) and return everything it printed."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        self.thread.join(timeout=5)
        assert self.proc.returncode == 0, self.lines
        return out + "\n".join(self.lines)


@pytest.mark.slow(6)
def test_polling_start_summary_descriptions_once_and_health(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    with FakeBotAPI(token=TOKEN) as api:
        first = Running([], env_for(api.base_url, db))
        try:
            line = first.wait_for("started:")
            assert "bot @rolebot_test_bot" in line and "polling" in line
            assert f"database {db}" in line and " entries in " in line and "knowledge " in line
            deadline = time.monotonic() + 10
            while not heartbeat_path(db).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            health = subprocess.run([*ROLEBOT, "health", "--db", str(db)], capture_output=True, text=True, timeout=60)
            assert health.returncode == 0 and health.stdout.startswith("healthy"), health
        finally:
            printed = first.stop()
        assert_clean(printed)
        sets = [c.params for c in api.calls if c.method in ("setMyDescription", "setMyShortDescription")]
        assert len(sets) == 4  # description and short description, default and zh-hant
        by_lang = {p.get("language_code") or "": p for p in sets if "description" in p}
        assert "营销" in by_lang[""]["description"] and "營銷" in by_lang["zh-hant"]["description"]

        second = Running([], env_for(api.base_url, db))
        try:
            second.wait_for("started:")
        finally:
            assert_clean(second.stop())
        again = [c for c in api.calls if c.method in ("setMyDescription", "setMyShortDescription")]
        assert len(again) == 4, "unchanged descriptions are not set again"
        assert sum(c.method == "getMyDescription" for c in api.calls) == 4
    stale = subprocess.run(
        [*ROLEBOT, "health", "--db", str(db), "--max-age", "0"], capture_output=True, text=True, timeout=60
    )
    assert stale.returncode == 1 and "unhealthy" in stale.stderr


def get(url: str) -> tuple[int, dict[str, Any]]:
    """GET a URL; return the status and the JSON body (also for 503)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_webhook_summary_json_logs_and_healthz(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "hook.db"
    shutil.copy(seed_db, db)
    port, health_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    args = ["--webhook-url", url, "--port", str(port), "--listen", "127.0.0.1", "--health-port", str(health_port)]
    with FakeBotAPI(token=TOKEN) as api:
        env = env_for(api.base_url, db, ROLEBOT_LOG_FORMAT="json", ROLEBOT_WEBHOOK_SECRET="hook-secret-42")
        bot = Running(args, env)
        try:
            line = bot.wait_for("started:")
            record = json.loads(line)
            assert record["level"] == "info" and f"webhook {url}" in record["message"]
            assert "@rolebot_test_bot" in record["message"]
            assert api.webhook is not None and api.webhook["secret_token"] == "hook-secret-42"
            status, body = get(f"http://127.0.0.1:{health_port}/healthz")
            assert status == 200 and body["ok"] is True and body["database"] == "ok"
            # a database deleted under the bot stops it (tests/test_database_gone.py)
        finally:
            printed = bot.stop()
    assert_clean(printed)
    assert "hook-secret-42" not in printed
    for text in bot.lines:
        if text.strip():
            json.loads(text)  # every log line is one JSON object


# -- in-process pieces -------------------------------------------------------------------------------


def test_formatters_redact_messages_arguments_and_tracebacks() -> None:
    redact = Redactor(TOKEN, ["hook-secret"])
    try:
        raise RuntimeError(f"bad url http://x/bot{TOKEN}/getMe with hook-secret")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "call %s failed", (TOKEN,), sys.exc_info())
    for formatter in (RedactingFormatter(redact), JsonFormatter(redact)):
        text = formatter.format(record)
        assert "RuntimeError" in text and "<token>" in text
        assert SECRET_HALF not in text and "hook-secret" not in text
    encoded = redact(f"url=http%3A//x/bot{TOKEN.replace(':', '%3A')}")
    assert SECRET_HALF not in encoded
    assert redact("secret half alone: AAAA-secretpart") == "secret half alone: <token>"


def test_health_needs_the_database_and_a_recent_answer(tmp_path: Path, seed_db: Path) -> None:
    db = tmp_path / "h.db"
    shutil.copy(seed_db, db)
    beat = Heartbeat(heartbeat_path(db))
    with DatabaseLock(db):  # the bot holds it while it runs
        assert not check_health(db, beat).ok  # never answered
        beat.beat()
        assert check_health(db, Heartbeat(heartbeat_path(db))).ok  # a second process reads the file
    assert not check_health(db, Heartbeat(heartbeat_path(db))).ok  # a fresh beat, but no bot holds the lock
    db.unlink()
    assert not check_health(db, beat).ok


async def test_descriptions_set_once_then_left_alone(running: Any) -> None:
    api, app = running
    first = await sync_profile(app.bot)
    assert len(first) == 4
    assert await sync_profile(app.bot) == []
    assert sum(c.method == "setMyDescription" for c in api.calls) == 2
    for profile in profiles():
        assert len(profile.description) <= 512 and len(profile.short_description) <= 120
        key = ("description", profile.language_code)
        assert api.profile[key] == profile.description


def test_webhook_without_secret_runs_with_a_random_one_and_refuses_forgeries(seed_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "hook.db"
    shutil.copy(seed_db, db)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    maintainer = 4242
    args = ["--webhook-url", url, "--port", str(port), "--listen", "127.0.0.1", "--health-port", "0"]
    with FakeBotAPI(token=TOKEN) as api:
        bot = Running(args, env_for(api.base_url, db, ROLEBOT_MAINTAINERS=str(maintainer)))
        try:
            assert "a random secret for this run" in bot.wait_for("started:")
            assert api.webhook is not None
            secret = api.webhook["secret_token"]
            assert isinstance(secret, str) and len(secret) >= 32
            # a press of "add as a phrasing" claiming to be the maintainer, without the secret or with a wrong one
            press = {
                "update_id": 77,
                "callback_query": {
                    "id": "forged",
                    "from": {"id": maintainer, "is_bot": False, "first_name": "M"},
                    "chat_instance": "x",
                    "data": "a:0123456789:marketing-vs-sales",
                },
            }
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}):
                request = urllib.request.Request(
                    url, json.dumps(press).encode(), {"Content-Type": "application/json", **headers}
                )
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(request, timeout=10)
                refused.value.close()
                assert refused.value.code == 403
            api.user_message("营销是什么", user_id=1001)  # Telegram itself sends the secret: answered
            api.wait_for_sync("sendMessage")
            assert not api.calls_to("answerCallbackQuery")
        finally:
            printed = bot.stop()
    assert_clean(printed)
    assert secret not in printed
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)


def test_listening_on_all_interfaces_is_warned() -> None:
    from rolebot.tg.startup import RunOptions, exposure_warning

    hook = "https://bot.example.org/telegram"
    assert "all interfaces (0.0.0.0)" in (exposure_warning(RunOptions(hook, secret="s")) or "")
    assert "all interfaces" in (exposure_warning(RunOptions(None, listen="::", health_port=8080)) or "")
    assert exposure_warning(RunOptions(hook, secret="s", listen="127.0.0.1")) is None
    assert exposure_warning(RunOptions(None)) is None  # polling listens on nothing


def test_webhook_options_refuse_no_secret() -> None:
    from rolebot.tg.app import webhook_options

    for secret in (None, ""):
        with pytest.raises(ValueError, match="secret"):
            webhook_options("https://bot.example.org/telegram", 8443, secret)
