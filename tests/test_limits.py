"""Telegram's limits in Telegram's units: UTF-16 text after parsing, 64-byte ids and callback data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rolebot.conversation.actions import More, Vote, decode, entry_ref
from rolebot.conversation.render import units, visible
from rolebot.conversation.service import Service
from rolebot.store.store import Store
from rolebot.tg.inline import result_id
from tests.helpers.bot import USER, buttons, sends

LONG_ID = "imported-entry-" + "很长的编号" * 8  # 135 bytes of UTF-8
QUESTION = "长编号条目的笑脸回答是什么样子"
ANSWER = "回答😀" * 1400 + "。"  # 4,201 characters, 5,601 UTF-16 code units
RECORD = {"id": LONG_ID, "topic": "career-paths", "question": QUESTION, "answer": ANSWER, "sources": [{"title": "测"}]}


def import_long(service: Service, tmp_path: Path) -> None:
    """Import the entry with the long id and the emoji-dense answer."""
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(RECORD, ensure_ascii=False) + "\n", encoding="utf-8")
    service.import_files([path], dry_run=False)


def test_long_entry_id_keeps_its_buttons_and_they_work(store: Store, tmp_path: Path) -> None:
    service = Service(store, salt="s", text_limit=4096)
    import_long(service, tmp_path)
    reply = service.ask(QUESTION, record=False).reply
    acts = [decode(b.action) for b in reply.flat_buttons()]
    votes = [a for a in acts if isinstance(a, Vote)]
    assert len(votes) == 2 and any(isinstance(a, More) for a in acts)
    assert all(len(b.action.encode()) <= 64 for b in reply.flat_buttons())
    assert votes[0].entry_id == entry_ref(LONG_ID) != LONG_ID
    # a fresh service (a restart) finds the entry behind the digest too
    for svc in (service, Service(store, salt="s")):
        assert svc.more(votes[0].entry_id) is not None
        assert svc.feedback(votes[0].entry_id, 1, user_id=USER)
    ids = {r["entry_id"] for r in store.db.query("SELECT entry_id FROM feedback")}
    assert ids == {LONG_ID}


def test_result_ids_fit_and_differ() -> None:
    assert result_id("what-is-marketing") == "what-is-marketing"
    long_ids = [LONG_ID, LONG_ID + "2"]
    assert all(len(result_id(i).encode()) <= 64 for i in long_ids)
    assert result_id(long_ids[0]) != result_id(long_ids[1])


async def test_long_id_and_emoji_answer_in_telegram(running: Any, tmp_path: Path) -> None:
    api, app = running
    service: Service = app.bot_data["rolebot"].service
    import_long(service, tmp_path)
    api.user_message(QUESTION, user_id=USER)
    [msg] = await sends(api)  # the stand-in refuses more than 4096 UTF-16 units: this one was accepted
    assert "😀" in msg["text"] and units(visible(msg["text"])) <= 4096 < units(ANSWER)
    labels = [b["text"] for b in buttons(msg)]
    assert "👍" in labels and "👎" in labels and "📖 更多" in labels
    up = next(b for b in buttons(msg) if b["text"] == "👍")
    api.callback(up["callback_data"], user_id=USER, message=api.last_bot_message(USER))
    await api.wait_for("answerCallbackQuery")
    api.inline_query(QUESTION, user_id=USER)
    [call] = await api.wait_for("answerInlineQuery")
    results = json.loads(call["results"]) if isinstance(call["results"], str) else call["results"]
    assert results and all(len(r["id"].encode()) <= 64 for r in results)
