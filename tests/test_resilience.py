"""Faults through the stand-in Bot API: flood control, 5xx, blocked users, token never logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.helpers.bot import USER, sends, settled


async def test_429_on_send_is_retried_once_delivered(running: Any) -> None:
    api, _ = running
    api.fail("sendMessage", 429, retry_after=1, times=1)
    api.user_message("营销是什么", user_id=USER)
    [msg] = await sends(api, timeout=8)
    assert "来源" in msg["text"] and len(api.faulted) == 1


async def test_5xx_and_dropped_connection_retried(running: Any) -> None:
    api, _ = running
    api.fail("sendMessage", 502, times=2)
    api.drop("sendMessage", times=1)
    api.user_message("销售是什么", user_id=USER)
    [msg] = await sends(api, timeout=15)
    assert "销售" in msg["text"] and len(api.faulted) == 3


async def test_bad_request_is_not_retried(running: Any) -> None:
    api, app = running
    api.fail("sendMessage", 400, description="Bad Request: message text is empty", times=None)
    api.user_message("营销是什么", user_id=USER)
    await settled(api, app)  # done with the update: a retry would have come before
    assert len([f for f in api.faulted if f.method.lower() == "sendmessage"]) == 1


async def test_blocked_user_is_not_retried_forever(running: Any) -> None:
    api, app = running
    api.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user", times=None)
    api.user_message("营销是什么", user_id=USER)
    await settled(api, app)
    attempts = [f for f in api.faulted if f.method.lower() == "sendmessage"]
    assert 1 <= len(attempts) <= 2
    api.clear_faults()
    api.user_message("销售是什么", user_id=USER)
    [msg] = await sends(api)
    assert "销售" in msg["text"]


async def test_flood_control_one_notice_then_silence(running: Any) -> None:
    api, app = running
    for i in range(25):
        api.user_message(f"营销是什么 {i}", user_id=USER + 50)
    await sends(api, count=21, timeout=15)
    await settled(api, app)  # all 25 handled: a 22nd reply would have been sent by now
    texts = api.texts(USER + 50)
    assert len(texts) == 21 and sum("歇一分钟" in t for t in texts) == 1


async def test_token_never_logged_under_faults(running: Any, caplog: pytest.LogCaptureFixture) -> None:
    api, app = running
    caplog.set_level(logging.DEBUG)
    api.fail("sendMessage", 500, times=1)
    api.fail("answerCallbackQuery", 400, description="Bad Request: query is too old", times=1)
    api.user_message("营销是什么", user_id=USER)
    await sends(api, timeout=8)
    api.callback("t:what-is-sales", user_id=USER, check=False)
    await sends(api, count=2, timeout=8)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert api.token not in text


async def test_polling_faults_lose_and_repeat_nothing(running: Any) -> None:
    api, app = running
    api.fail("getUpdates", 502, times=2)
    api.drop("getUpdates", times=1)
    for q in ("营销是什么", "销售是什么", "运营是什么"):
        api.user_message(q, user_id=USER)
    msgs = await sends(api, count=3, timeout=20)
    await settled(api, app)  # a repeated update would be answered before this
    assert len(api.calls_to("sendMessage")) == 3
    assert ["营销" in msgs[0]["text"], "销售" in msgs[1]["text"], "运营" in msgs[2]["text"]] == [True] * 3


async def test_slow_chat_does_not_delay_others_and_order_is_kept(running: Any) -> None:
    api, _ = running
    slow, fast = USER + 20, USER + 21
    api.delay("sendMessage", 2.0, times=1, when=lambda p: str(p.get("chat_id")) == str(slow))
    api.user_message("营销是什么", user_id=slow)
    api.user_message("销售是什么", user_id=slow)
    api.user_message("运营是什么", user_id=fast)
    await sends(api, count=3, timeout=10)
    order = [(str(p["chat_id"]), p["text"]) for p in api.calls_to("sendMessage")]
    assert order[0][0] == str(fast)  # the fast chat was not held up by the slow one
    slow_texts = [t for c, t in order if c == str(slow)]
    assert "营销" in slow_texts[0] and "销售" in slow_texts[1]  # order within a chat kept


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u200b\u200f\u202e营销\u0000\u0007是什么\ufeff", id="zero-width-rtl-control"),
        pytest.param("*_`[营销](http://x)`_* <script>alert(1)</script> &amp;", id="markdown-html-specials"),
        pytest.param("' OR 1=1; DROP TABLE entries; --", id="sql-looking"),
        pytest.param("🤔🤔🤔", id="emoji-only"),
        pytest.param("营" * 4096, id="4096-chars"),
    ],
)
async def test_hostile_text_gets_one_polite_reply(running: Any, text: str) -> None:
    api, app = running
    api.user_message(text, user_id=USER)
    [msg] = await sends(api)
    assert msg["text"] and len(msg["text"]) <= 4096
    assert "<script>" not in msg["text"] and "Traceback" not in msg["text"]
    assert app.bot_data["rolebot"].service.store.counts()["entries"] > 0


async def test_longest_inline_query_is_answered(running: Any) -> None:
    api, _ = running
    api.inline_query("营销和销售有什么区别" * 25 + "营销销售", user_id=USER)
    [call] = await api.wait_for("answerInlineQuery")
    assert call.get("results") is not None


async def test_group_sends_are_paced_to_telegrams_limits(running: Any) -> None:
    _, app = running
    limiter = app.bot.rate_limiter
    assert limiter is not None
    assert limiter._group_max_rate == 20 and limiter._group_time_period == 60  # 20 per minute per group
    assert limiter._max_retries >= 1  # flood control (429) is waited out, not dropped
