"""Hostile input is bounded: a bot token typed into a question is never stored or shown as typed."""

from __future__ import annotations

import sqlite3
from typing import Any

from rolebot.store.activity import redact_tokens
from tests.helpers.bot import USER, sends

LEAKED = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx"


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
