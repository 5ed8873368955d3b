"""Poison updates and error pages are skipped or retried, never fatal; a serving task that ends ends the bot."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.store.inbox import inbox_path
from rolebot.tg.app import SORRY, build_application
from rolebot.tg.delivery import InboxError, ServingStopped
from rolebot.tg.startup import RunOptions, serve
from tests.helpers.bot import USER, sends, serving
from tests.helpers.hostile import HostileAPI

BODY = "毒药正文-not-to-be-logged"  # a malformed update's text: it must never reach the log


def settings_for(api: HostileAPI, db: Path) -> Settings:
    return Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)


@pytest.fixture
def bot_db(seed_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    return db


@asynccontextmanager
async def bot(api: HostileAPI, db: Path) -> AsyncIterator[Any]:
    app = build_application(settings_for(api, db), Service(open_store(db)))
    async with serving(app) as delivery:
        yield delivery


def message(update_id_holder: HostileAPI) -> dict[str, Any]:
    """A well-formed private message dict from the stand-in (taken from a real update it made)."""
    made = update_id_holder.user_message("营销是什么", user_id=USER + 7)
    return dict(made["message"])


POISONS = {
    "date-a-string": lambda m: {"message": {**m, "date": "yesterday", "text": BODY}},
    "from-a-string": lambda m: {"message": {**m, "from": BODY}},
    "update-a-list": lambda m: [BODY, {"message": m}],
}


@pytest.mark.parametrize("kind", list(POISONS))
async def test_a_malformed_update_between_two_good_ones_is_skipped(
    kind: str, bot_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with HostileAPI() as api:
        template = message(api)
        async with bot(api, bot_db) as delivery:
            [first] = await sends(api, timeout=20)  # the template's own update, answered
            api.user_message("营销和销售有什么区别", user_id=USER)
            poison_id = api.poison(POISONS[kind](template), with_id=kind != "update-a-list")
            api.user_message("销售是什么", user_id=USER)
            replies = await sends(api, count=3, timeout=20)
            assert [r["chat_id"] for r in replies[1:]] == [USER, USER]
            assert not any(SORRY in r["text"] for r in replies)
            assert delivery.failure is not None and not delivery.failure.done()
            # the next getUpdates confirms it (its offset is past the poison)
            api.user_message("运营是什么", user_id=USER)
            await sends(api, count=4, timeout=20)
            offsets = [int(c.params.get("offset") or 0) for c in api.calls if c.method == "getUpdates"]
            assert max(offsets) > poison_id
        # a restart does not fetch it again, and answers what comes next
        async with bot(api, bot_db):
            api.user_message("市场是什么", user_id=USER)
            await sends(api, count=5, timeout=20)
    logged = [r.getMessage() for r in caplog.records]
    skipped = [m for m in logged if m.startswith("skipped")]
    assert len(skipped) == 1, skipped
    if kind == "update-a-list":
        assert "without an update_id" in skipped[0]
    else:
        assert f"update {poison_id}" in skipped[0]
        with sqlite3.connect(inbox_path(bot_db)) as conn:
            done, body = conn.execute("SELECT done, body FROM inbox WHERE update_id = ?", (poison_id,)).fetchone()
        assert done is not None and body == ""
    assert not any(BODY in m for m in logged)
    assert first["chat_id"] == USER + 7


async def test_an_html_error_page_for_getupdates_is_retried_not_a_rejected_token(
    bot_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with HostileAPI() as api:
        async with bot(api, bot_db) as delivery:
            api.answer_raw("getUpdates", 404, times=2)
            await api.wait_raw("getUpdates", count=2, timeout=20)
            api.user_message("营销和销售有什么区别", user_id=USER)
            [reply] = await sends(api, timeout=20)
            assert "营销" in reply["text"]
            assert delivery.failure is not None and not delivery.failure.done()
    assert not any("rejected" in r.getMessage() for r in caplog.records)


async def test_sendmessage_answered_by_an_html_404_then_delivered_once_without_apology(bot_db: Path) -> None:
    with HostileAPI() as api:
        async with bot(api, bot_db) as delivery:
            api.answer_raw("sendMessage", 404, times=1)
            api.user_message("营销和销售有什么区别", user_id=USER)
            [reply] = await sends(api, timeout=20)
            api.user_message("销售是什么", user_id=USER)  # the marker: it comes after any apology would
            await sends(api, count=2, timeout=20)
            assert delivery.answered == 2
        texts = api.texts(USER)
    assert api.raw_answered == [("sendMessage", 404)]
    assert len(texts) == 2 and "营销" in texts[0]
    assert not any(SORRY in t for t in texts)


async def test_a_revoked_token_while_polling_ends_serving_with_one_reason(bot_db: Path) -> None:
    with HostileAPI() as api:
        async with bot(api, bot_db) as delivery:
            api.fail("getUpdates", 401, description="Unauthorized", times=None)
            why = await asyncio.wait_for(asyncio.shield(delivery.failure), timeout=30)
            assert delivery.problem() == why
    assert why.startswith("polling failed: Telegram rejected the token")
    assert api.token not in why


async def test_polling_killed_from_inside_ends_rolebot_run_non_zero(bot_db: Path) -> None:
    with HostileAPI() as api:
        app = build_application(settings_for(api, bot_db), Service(open_store(bot_db)))
        running = asyncio.create_task(serve(app, RunOptions()))
        await api.wait_for("getUpdates", timeout=30)
        delivery = app.bot_data["rolebot"].delivery
        assert delivery.problem() is None
        delivery._poller.cancel()
        with pytest.raises(ServingStopped) as stopped:
            await asyncio.wait_for(running, timeout=30)
    assert "polling was cancelled" in str(stopped.value) and "\n" not in str(stopped.value)


async def test_a_damaged_inbox_is_one_line_at_start(bot_db: Path) -> None:
    inbox_path(bot_db).write_bytes(b"this is not a database, " * 200)
    with HostileAPI() as api:
        app = build_application(settings_for(api, bot_db), Service(open_store(bot_db)))
        with pytest.raises(InboxError) as refused:
            await asyncio.wait_for(serve(app, RunOptions()), timeout=30)
    assert "cannot be used" in str(refused.value) and "move it away" in str(refused.value)


async def test_a_send_answered_200_with_garbage_is_one_warning_and_no_apology(
    bot_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with HostileAPI() as api:
        async with bot(api, bot_db):
            api.answer_raw("sendMessage", 200, b'{"ok": true, "result": "not a message"}')
            api.user_message("营销和销售有什么区别", user_id=USER)
            await api.wait_raw("sendMessage", timeout=20)
            api.user_message("销售是什么", user_id=USER)  # the marker: an apology would come before its answer
            [after] = await sends(api, timeout=20)
    assert "销售" in after["text"] and SORRY not in after["text"]
    assert api.texts(USER) == [after["text"]]
    warned = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(warned) == 1 and warned[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
