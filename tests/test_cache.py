"""The engine's bounded caches: the most recently used rows are kept, the rest are read again."""

from __future__ import annotations

import pytest

from rolebot.engine.cache import Recent
from rolebot.engine.engine import Engine


def test_recent_keeps_the_most_recently_used() -> None:
    kept: Recent[str, int] = Recent(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # now more recent than b
    kept.put("c", 3)
    assert len(kept) == 2
    assert "b" not in kept
    assert kept.get("a") == 1 and kept.get("c") == 3
    kept.clear()
    assert len(kept) == 0 and kept.get("a") is None


def test_engine_caches_stay_within_their_bounds(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine._scorer, "_read", Recent(5))
    monkeypatch.setattr(engine.pipeline.snapshot, "_entries", Recent(1))
    monkeypatch.setattr(engine.model.space, "_known", Recent(7))  # the shipped model is shared: put back after
    for q in ("营销和销售有什么区别", "用户运营做什么", "市场部和销售部谁管定价", "产品经理和运营的区别"):
        engine.ask(q)
    assert 0 < len(engine._scorer._read) <= 5
    assert len(engine.pipeline.snapshot._entries) == 1
    assert 0 < len(engine.model.space._known) <= 7
    assert engine.ask("营销和销售有什么区别").answered  # from what is kept or read again, the same answer
