"""Exact lookup: an entry asked word for word (up to width, case, script, punctuation) is answered at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolebot.engine.engine import Engine
from rolebot.kb.knowledge import import_files, open_store
from rolebot.language.normalize import exact_keys
from rolebot.store.store import Store


def entry(rid: str, question: str, alternates: list[str] | None = None) -> dict[str, object]:
    """An FAQ record of a topic of its own."""
    return {
        "id": rid,
        "topic": f"topic-{rid}",
        "question": question,
        "alternates": alternates or [],
        "answer": f"{rid} 的答案，足够长的一句话。",
        "sources": [{"title": "测试来源"}],
    }


def load(store: Store, tmp_path: Path, records: list[dict[str, object]]) -> Engine:
    """Import records and return an engine over the store."""
    path = tmp_path / "exact.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    import_files(store, [path])
    return Engine(store)


@pytest.mark.parametrize(
    ("text", "key", "bare"),
    [
        pytest.param("杠铃怎么保养？", "杠铃怎么保养?", "杠铃怎么保养", id="full-width-mark"),
        pytest.param("槓鈴怎麼保養？", "杠铃怎么保养?", "杠铃怎么保养", id="traditional"),
        pytest.param("ＰＰＴ 怎么  做", "ppt 怎么 做", "ppt怎么做", id="width-case-spaces"),
        pytest.param("？！", "?!", "", id="only-punctuation"),
    ],
)
def test_exact_keys(text: str, key: str, bare: str) -> None:
    assert exact_keys(text) == (key, bare)


def test_questions_differing_only_by_punctuation_are_each_found(store: Store, tmp_path: Path) -> None:
    engine = load(store, tmp_path, [entry("care-q", "杠铃怎么保养？"), entry("care", "杠铃怎么保养")])
    for text, owner in [("杠铃怎么保养？", "care-q"), ("杠铃怎么保养", "care"), ("杠铃怎么保养?", "care-q")]:
        r = engine.ask(text)
        assert (r.answered, r.kind, r.entry_id, r.score) == (True, "answer", owner, 100), (text, r)
    # other punctuation matches both only without it: two owners, so scoring (and the asker) decide
    assert engine.pipeline.snapshot.exact_entry("杠铃怎么保养。") is None
    assert engine.ask("杠铃怎么保养。").kind == "unsure"


def test_own_question_beats_another_entrys_alternate(store: Store, tmp_path: Path) -> None:
    engine = load(
        store,
        tmp_path,
        [entry("other", "哑铃怎么挑选", alternates=["壶铃怎么保养"]), entry("owner", "壶铃怎么保养")],
    )
    r = engine.ask("壶铃怎么保养")
    assert (r.kind, r.entry_id) == ("answer", "owner")
    assert engine.ask("哑铃怎么挑选").entry_id == "other"


def test_traditional_and_full_width_variants_find_the_entry(store: Store, tmp_path: Path) -> None:
    engine = load(store, tmp_path, [entry("kettle", "壶铃训练前要热身吗？")])
    for text in ("壺鈴訓練前要熱身嗎？", "壶铃训练前要热身吗?", "壶铃训练前要热身吗"):
        r = engine.ask(text)
        assert (r.kind, r.entry_id) == ("answer", "kettle"), text
    assert engine.ask("壺鈴訓練前要熱身嗎？").script == "traditional"


def test_exact_answer_keeps_the_json_contract(store: Store, tmp_path: Path) -> None:
    engine = load(store, tmp_path, [entry("kettle", "壶铃训练前要热身吗？")])
    out = engine.ask("壶铃训练前要热身吗？").to_json()
    assert out["answered"] is True and out["kind"] == "answer" and out["score"] == 100
    assert out["entry_id"] == "kettle" and out["topic"] == "topic-kettle" and out["question"] == "壶铃训练前要热身吗？"
    assert out["sources"] == [{"title": "测试来源"}] and out["candidates"] == [{"topic": "topic-kettle", "score": 100}]


def test_excluded_phrasings_are_not_looked_up(store: Store, tmp_path: Path) -> None:
    engine = load(store, tmp_path, [entry("kettle", "壶铃训练前要热身吗？")])
    assert engine.fold(frozenset({"壶铃训练前要热身吗？"})).snapshot.exact_entry("壶铃训练前要热身吗？") is None


def test_shipped_questions_are_found_exactly(engine: Engine) -> None:
    for topic, question, _ in engine.store.topics():
        assert engine.pipeline.snapshot.exact_entry(question) is not None, (topic, question)


def test_keys_missing_from_an_older_database_are_filled_on_open(db_path: Path, tmp_path: Path) -> None:
    store = open_store(db_path)
    load(store, tmp_path, [entry("kettle", "壶铃训练前要热身吗？")])
    with store.atomic():
        store.db.execute("UPDATE phrasings SET key = NULL, bare = NULL, main = 0")  # as migration 6 leaves them
    assert Engine(store).pipeline.snapshot.exact_entry("壶铃训练前要热身吗？") is None
    store.close()
    reopened = open_store(db_path)
    assert not reopened.unkeyed_phrasings()
    assert Engine(reopened).ask("壶铃训练前要热身吗").entry_id == "kettle"
    reopened.close()
