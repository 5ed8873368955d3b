"""Hostile input is bounded: a bot token typed into a question is never stored or shown as typed."""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.store.activity import redact_tokens
from rolebot.tg.app import build_application
from rolebot.tg.startup import RunOptions, serve
from tests.helpers.bot import USER, sends, serving
from tests.helpers.hostile import HostileAPI

LEAKED = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx"


@pytest.fixture
def bot_db(seed_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    return db


def test_token_shapes_are_redacted() -> None:
    assert redact_tokens(f"我的 token 是 {LEAKED}，怎么办") == "我的 token 是 <token>，怎么办"
    assert redact_tokens("123456789：AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx") == "<token>"  # a full-width colon
    assert redact_tokens("营销和销售 10:30 开会") == "营销和销售 10:30 开会"


async def test_a_token_typed_into_a_question_is_not_kept_nor_shown_in_review(running: Any) -> None:
    api, app = running
    api.user_message(f"我的机器人 token {LEAKED} 被别人拿走了怎么办", user_id=USER)
    await sends(api, timeout=20)
    api.user_message("/review", user_id=USER + 1)  # a maintainer
    review = await sends(api, count=2, timeout=20)
    shown = review[1]["text"] + str(review[1].get("reply_markup") or "")
    assert "<token>" in shown or "&lt;token&gt;" in shown, shown
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx" not in shown
    service = app.bot_data["rolebot"].service
    await app.bot_data["rolebot"].writer.run(service.write_activity)
    with sqlite3.connect(service.store.conn.path) as conn:
        stored = " ".join(str(v) for row in conn.execute("SELECT question, text FROM unanswered") for v in row)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx" not in stored and "<token>" in stored


# -- the webhook: the secret before the body, the body capped, a malformed update confirmed -----------


def rss_kb() -> int:
    """Return this process's resident memory now (not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_raw(port: int, size: int, secret: str | None) -> tuple[int, int]:
    """POST a body of `size` bytes, streamed; return (status, bytes the server took before answering)."""
    head = f"POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n"
    if secret:
        head += f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall((head + "\r\n").encode())
        sock.settimeout(0.0)
        chunk, sent, answer = b"[" + b" " * 65535, 0, b""
        while sent < size:
            try:
                answer += sock.recv(4096)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                sent += sock.send(chunk[: size - sent])
            except BlockingIOError:
                select.select([sock], [sock], [], 1.0)
            except OSError:
                break
        sock.settimeout(20)
        while b"\r\n" not in answer:
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    return int(answer.split(b" ", 2)[1]), sent


@asynccontextmanager
async def webhook_bot(api: HostileAPI, db: Path, secret: str = "hook-secret") -> AsyncIterator[tuple[Any, int]]:
    settings = Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)
    app = build_application(settings, Service(open_store(db)))
    port = free_port()
    opts = RunOptions(f"http://127.0.0.1:{port}/telegram", port, secret, "127.0.0.1", health_port=0)
    running = asyncio.create_task(serve(app, opts))
    try:
        await api.wait_for("setWebhook", timeout=30)
        yield app, port
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # serve's own stop, as `docker stop` gives it
        await asyncio.wait_for(running, timeout=30)


async def test_webhook_refuses_a_50_mb_body_without_the_secret_before_reading_it(bot_db: Path) -> None:
    with HostileAPI() as api:
        async with webhook_bot(api, bot_db) as (_, port):
            before = rss_kb()
            status, sent = await asyncio.to_thread(post_raw, port, 50 * 1024 * 1024, None)
            grew = rss_kb() - before
            assert status == 403
            too_big, _ = await asyncio.to_thread(post_raw, port, 5 * 1024 * 1024, "hook-secret")
            assert too_big == 413
            api.user_message("营销和销售有什么区别", user_id=USER)  # Telegram, with the secret: answered
            [reply] = await sends(api, timeout=20)
            assert "营销" in reply["text"]
    assert grew < 5 * 1024, f"{grew} KB"
    print(f"50 MB without the secret: 403 after {sent / 1e6:.1f} MB sent, resident memory {grew / 1024:+.1f} MB")


async def test_webhook_confirms_a_malformed_update_and_serves_the_next(
    bot_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with HostileAPI() as api:
        async with webhook_bot(api, bot_db):
            api.user_message("营销和销售有什么区别", user_id=USER)
            template = api.user_message("营销是什么", user_id=USER)["message"]
            poison_id = api.poison({"message": {**template, "date": "yesterday", "text": "毒药正文"}})
            api.user_message("销售是什么", user_id=USER)
            await sends(api, count=3, timeout=20)
            deadline = time.monotonic() + 10
            while poison_id not in [u for u, _ in api.webhook_deliveries] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
    assert [s for u, s in api.webhook_deliveries if u == poison_id] == [200]  # confirmed once
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped")]
    assert len(skipped) == 1 and f"update {poison_id}" in skipped[0]
    assert not any("毒药正文" in r.getMessage() for r in caplog.records)


# -- documents: capped by the bytes read, any file name --------------------------------------------


class NoFileSize(HostileAPI):
    """A Bot API (or something posing as one) that leaves out file_size and serves a file of any size."""

    def _api_getFile(self, params: Any) -> Any:
        with self._lock:
            stored = self._files[str(params.get("file_id"))]
            return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_path": stored.file_path}

    def _serve_file(self, handler: Any, rest: str) -> None:
        """Serve the file without a Content-Length (chunked), as a proxy may."""
        file_path = rest.partition("/")[2]
        with self._lock:
            stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        if stored is None:
            super()._serve_file(handler, rest)
            return
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        self.served = 0
        try:
            for start in range(0, len(stored.content), 1 << 16):
                piece = stored.content[start : start + (1 << 16)]
                handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.served += len(piece)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        handler.close_connection = True


@asynccontextmanager
async def maintained(api: HostileAPI, db: Path) -> AsyncIterator[Any]:
    settings = Settings(
        token=api.token,
        db_path=db,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        maintainers=frozenset({USER + 1}),
    )
    app = build_application(settings, Service(open_store(db)))
    async with serving(app):
        yield app


def without_file_size(api: HostileAPI) -> None:
    with api._cond:
        for update in api._updates:
            update.get("message", {}).get("document", {}).pop("file_size", None)


async def test_a_document_without_file_size_is_cut_off_past_20_mb(bot_db: Path) -> None:
    with NoFileSize() as api:
        async with maintained(api, bot_db):
            body = b'{"topic": "x", "question": "q", "answer": "a"}\n' * 1_300_000  # 61 MB
            api.document("big.jsonl", body, user_id=USER + 1)
            without_file_size(api)
            [reply] = await sends(api, timeout=60)
    assert "超过 20 MB" in reply["text"] and "抱歉" not in reply["text"]
    # read up to the 21 MB cap; what the stand-in wrote beyond it sat in loopback's socket buffers
    assert api.served < 40 * 1024 * 1024, api.served
    print(f"{len(body) / 1e6:.0f} MB document without file_size: refused after {api.served / 1e6:.1f} MB served")


@pytest.mark.parametrize(
    "name", [pytest.param("a" * 300 + ".jsonl", id="300-characters"), pytest.param("x\x00y.jsonl", id="nul")]
)
async def test_any_file_name_gets_a_dry_run(bot_db: Path, name: str) -> None:
    record = {"topic": "what-is-sales", "question": "推销员每天都做什么工作", "answer": "拜访客户、介绍产品。"}
    with HostileAPI() as api:
        async with maintained(api, bot_db):
            api.document(name, (json.dumps(record, ensure_ascii=False) + "\n").encode(), user_id=USER + 1)
            [reply] = await sends(api, timeout=30)
    assert reply["text"].startswith("试导入"), reply["text"]


# -- knowledge files: refused while read, within bounded memory and time -----------------------------

# the child's own peak (VmHWM: ru_maxrss would count the forked test process it was exec'd from)
MEASURE = """
import sys, time
from rolebot.terminal.cli import main
began = time.monotonic()
try:
    main(sys.argv[1:], prog_name="rolebot")
except SystemExit as exc:
    code = exc.code
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"measure {code} {time.monotonic() - began:.2f} {peak}", file=sys.stderr)
"""


def measured_import(path: Path, db: Path) -> tuple[int, float, int, str]:
    """Run `rolebot import --dry-run` on a file; return (exit code, seconds, peak RSS in KB, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, "import", str(path), "--dry-run", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    *rest, last = proc.stderr.strip().splitlines()
    _, code, took, rss = last.split()
    return int(code), float(took), int(rss), "\n".join(rest)


def list_bomb(path: Path, megabytes: int) -> Path:
    tags = ", ".join(["a"] * (megabytes * 1024 * 1024 // 3))
    path.write_text(f"- topic: what-is-sales\n  question: 推销是什么\n  answer: 卖东西。\n  tags: [{tags}]\n")
    return path


@pytest.fixture(scope="module")
def baseline(shipped_db: Path, tmp_path_factory: pytest.TempPathFactory) -> int:
    """Peak RSS of an import refused at its one bad line: what checking any file costs."""
    folder = tmp_path_factory.mktemp("baseline")
    bad = folder / "bad.jsonl"
    bad.write_text("{bad\n")
    code, _, rss, err = measured_import(bad, shutil.copy(shipped_db, folder / "b.db"))
    assert code == 1, err
    return rss


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("yaml-1mb", id="yaml-list-1MB"),
        pytest.param("yaml-8mb", id="yaml-list-8MB"),
        pytest.param("yaml-20mb", id="yaml-list-20MB"),
        pytest.param("yaml-top-20mb", id="yaml-top-level-list-20MB"),
        pytest.param("jsonl-1m-bad", id="jsonl-1M-bad-lines"),
        pytest.param("jsonl-long-line", id="jsonl-one-20MB-line"),
    ],
)
def test_hostile_knowledge_files_are_refused_in_bounded_memory_and_time(
    case: str, baseline: int, shipped_db: Path, tmp_path: Path
) -> None:
    if case.startswith("yaml-") and case.endswith("mb") and "top" not in case:
        path = list_bomb(tmp_path / "bomb.yaml", int(case.split("-")[1].removesuffix("mb")))
    elif case == "yaml-top-20mb":
        path = tmp_path / "top.yaml"
        path.write_text("[" + ", ".join(["a"] * (20 * 1024 * 1024 // 3)) + "]\n")
    elif case == "jsonl-1m-bad":
        path = tmp_path / "bad.jsonl"
        path.write_text("{bad\n" * 1_000_000)
    else:
        path = tmp_path / "long.jsonl"
        path.write_text('{"topic": "x", "tags": [' + ", ".join(['"a"'] * (20 * 1024 * 1024 // 5)) + "]}\n")
    code, took, rss, err = measured_import(path, shutil.copy(shipped_db, tmp_path / "t.db"))
    extra_mb = (rss - baseline) / 1024
    size_mb = path.stat().st_size / 1e6
    print(
        f"{case} ({size_mb:.1f} MB): exit {code}, {took:.1f} s, peak {rss / 1024:.0f} MB, {extra_mb:+.0f} MB over an import refused at its first line"
    )
    assert code == 1 and "nothing was imported" in err, err[-500:]
    assert len(err.splitlines()) <= 1002  # the first problems, then one line that says the check stopped
    assert took < 10 and extra_mb < 100
