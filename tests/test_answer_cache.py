"""The engine's answer cache: a question asked again is served from it, a change of the knowledge drops it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolebot.conversation.service import Service
from rolebot.engine.engine import ANSWER_CACHE, Engine
from rolebot.kb.knowledge import import_files
from rolebot.store.store import Store

QUESTION = "壶铃训练前要热身吗"


def write(path: Path, answer: str) -> Path:
    """Write one entry answering QUESTION's topic with `answer`."""
    rec = {"id": "kettle", "topic": "kettle", "question": "壶铃训练前要热身吗？", "answer": answer}
    path.write_text(json.dumps({**rec, "sources": [{"title": "测试"}]}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_a_second_ask_is_served_from_the_cache(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(store)
    first = engine.ask("营销和运营有什么区别")
    monkeypatch.setattr(engine.pipeline, "answer", lambda *a, **k: pytest.fail("asked again, not from the cache"))
    again = engine.ask("营销和运营有什么区别")
    assert engine.cache_hits == 1 and again.to_json() == first.to_json()
    again.reader = again.reader.forced("traditional")  # the service does this: the cached answer is not changed
    assert engine.ask("营销和运营有什么区别").script == "simplified"
    # cleaned the same (width, case, spaces) is the same question; Traditional is another reader
    assert engine.ask(" 营销和运营有什么区别 ").topic == first.topic and engine.cache_hits == 3
    monkeypatch.undo()
    assert engine.ask("營銷和運營有什麼區別").script == "traditional" and engine.cache_hits == 3


def test_the_cache_is_bounded(store: Store) -> None:
    engine = Engine(store)
    for i in range(ANSWER_CACHE + 10):
        engine._answers.put(str(i), engine.ask("营销"))  # filled directly: asking 2,058 is slow
    engine.ask("运营是做什么的")
    assert len(engine._answers) == ANSWER_CACHE and "0" not in engine._answers


def test_an_import_drops_the_cache(store: Store, tmp_path: Path) -> None:
    service = Service(store, salt="t")
    service.import_files([write(tmp_path / "a.jsonl", "热身五到十分钟，先做动态拉伸。")], dry_run=False)
    assert service.ask(QUESTION).result.answer == "热身五到十分钟，先做动态拉伸。"
    service.import_files([write(tmp_path / "b.jsonl", "要热身：先慢跑，再做轻重量的摆动。")], dry_run=False)
    assert service.ask(QUESTION).result.answer == "要热身：先慢跑，再做轻重量的摆动。"


def test_another_connections_import_drops_the_cache_and_its_counts_do_not(store: Store, tmp_path: Path) -> None:
    engine = Engine(store)
    other = Store(store.path)  # `rolebot import` in another process, or the bot's writer
    try:
        import_files(other, [write(tmp_path / "a.jsonl", "热身五到十分钟，先做动态拉伸。")])
        engine._checked = float("-inf")  # as if a second had passed
        assert engine.ask(QUESTION).answer == "热身五到十分钟，先做动态拉伸。"
        other.count_question("kettle")
        other.flush()
        engine._checked = float("-inf")
        engine.ask(QUESTION)
        assert engine.cache_hits == 1  # question counts are no change of the knowledge
        import_files(other, [write(tmp_path / "b.jsonl", "要热身：先慢跑，再做轻重量的摆动。")])
        engine._checked = float("-inf")
        assert engine.ask(QUESTION).answer == "要热身：先慢跑，再做轻重量的摆动。"
    finally:
        other.close()
