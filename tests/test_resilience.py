"""Faults through the stand-in Bot API: flood control, 5xx, blocked users, token never logged."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.telegram_app import quiet_logging
from fakeapi import FakeBotAPI
from test_bot_e2e import USER, running, seed_db, sends  # noqa: F401  (fixtures)


async def test_429_on_send_is_retried_once_delivered(running: Any) -> None:
    api, _ = running
    api.fail("sendMessage", 429, retry_after=1, times=1)
    api.user_message("营销是什么", user_id=USER)
    [msg] = await sends(api, timeout=8)
    assert "来源" in msg["text"] and len(api.faulted) == 1


async def test_5xx_and_dropped_connection_retried(running: Any) -> None:
    api, _ = running
    api.fail("sendMessage", 502, times=2)
    api.user_message("销售是什么", user_id=USER)
    [msg] = await sends(api, timeout=10)
    assert "销售" in msg["text"]


async def test_blocked_user_is_not_retried_forever(running: Any) -> None:
    api, _ = running
    api.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user", times=None)
    api.user_message("营销是什么", user_id=USER)
    import asyncio
    await asyncio.sleep(1.5)
    attempts = [f for f in api.faulted if f.method.lower() == "sendmessage"]
    assert 1 <= len(attempts) <= 2
    api.clear_faults()
    api.user_message("销售是什么", user_id=USER)
    [msg] = await sends(api)
    assert "销售" in msg["text"]


async def test_flood_control_one_notice_then_silence(running: Any) -> None:
    api, _ = running
    for i in range(25):
        api.user_message(f"营销是什么 {i}", user_id=USER + 50)
    msgs = await sends(api, count=21, timeout=15)
    import asyncio
    await asyncio.sleep(0.5)
    texts = api.texts(USER + 50)
    assert len(texts) == 21 and sum("歇一分钟" in t for t in texts) == 1


async def test_token_never_logged_under_faults(running: Any, caplog: pytest.LogCaptureFixture) -> None:
    api, app = running
    quiet_logging(api.token)
    caplog.set_level(logging.DEBUG)
    api.fail("sendMessage", 500, times=1)
    api.fail("answerCallbackQuery", 400, description="Bad Request: query is too old", times=1)
    api.user_message("营销是什么", user_id=USER)
    await sends(api, timeout=8)
    api.callback("t:what-is-sales", user_id=USER, check=False)
    await sends(api, count=2, timeout=8)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert api.token not in text
    assert logging.getLogger("httpx").level >= logging.WARNING
