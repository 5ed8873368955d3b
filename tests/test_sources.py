"""Shipped knowledge is scored by its own word statistics: imported entries neither crowd it out nor reweigh it."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from rolebot.engine.engine import Engine
from rolebot.kb.knowledge import import_files
from rolebot.store.store import Store

# everyday things asked about with the words our own questions use too (为什么, 需要, 不, 好, 区别, 怎么)
THINGS = [
    "跑步鞋", "背包", "电饭煲", "台灯", "雨伞", "键盘", "耳机", "自行车", "帐篷", "保温杯",
    "空调", "冰箱", "洗衣机", "吹风机", "行李箱", "充电宝", "鼠标", "瑜伽垫", "咖啡机", "加湿器",
]  # fmt: skip
FRAMES = [
    "为什么{}需要经常换",
    "好的{}不需要保养吗",
    "{}和{}有什么区别",
    "{}怎么选才不会后悔",
    "买{}需要注意什么",
    "{}坏了怎么办",
    "为什么{}比{}好用",
]
# our own wordings of shipped topics' questions, written for this test
QUESTIONS = [
    "为什么做营销的人不需要懂销售",
    "营销跟销售到底差在哪",
    "用户运营每天都在忙什么",
    "市场部和销售部谁说了算",
    "我适合做运营还是做销售",
    "产品经理需要懂运营吗",
]


def noise() -> list[dict[str, object]]:
    """Return FAQ records about everyday things, phrased with the function words our questions use."""
    questions = dict.fromkeys(f.format(a, b) for f in FRAMES for a, b in itertools.permutations(THINGS, 2))
    return [
        {
            "id": f"noise-{i}",
            "topic": f"noise-{i}",
            "question": q,
            "answer": "关于这件东西的回答。",
            "sources": [{"title": "测试"}],
        }
        for i, q in enumerate(questions)
    ]


def answers(engine: Engine) -> list[dict[str, object]]:
    return [engine.ask(q).to_json() for q in QUESTIONS]


def test_imported_noise_changes_no_shipped_answer(store: Store, tmp_path: Path) -> None:
    before = answers(Engine(store))
    path = tmp_path / "noise.jsonl"
    records = noise()
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    import_files(store, [path])
    engine = Engine(store)
    assert len(records) > 300 and engine.ask(str(records[-1]["question"])).entry_id == records[-1]["id"]
    assert answers(engine) == before


def test_held_shipped_search_ranks_as_the_index_does(shared_store: Store) -> None:
    engine = Engine(shared_store)
    held = engine.pipeline.snapshot.shipped()
    assert held.refs  # the shipped store holds nothing else: both must rank every phrasing's words alike
    for cand in list(held.candidates.values())[::7]:
        terms = list(dict.fromkeys(cand.tokens))
        mine = [(c.kind, c.ref, c.text, c.rank) for c in held.search(terms, 40)]
        index = [(c.kind, c.ref, c.text, c.rank) for c in shared_store.search(terms, 40)]
        assert mine == index, cand.text
