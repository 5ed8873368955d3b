"""Maintainers in Telegram: /review with a one-tap phrasing, /stats, document imports, refusals."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from rolebot.conversation.service import Service
from rolebot.kb.review import SUGGEST_AT
from rolebot.tg.maintainers import Maintainers, PendingImports
from tests.helpers.bot import USER, buttons, sends

MAINTAINER = USER + 1
# near our domain, not answered, but with a topic likely enough (>= review.SUGGEST_AT) for a one-tap suggestion,
# whose answer answers it (what 运营 does every day)
UNKNOWN_Q = "运营具体每天干点啥呢"


async def recorded(service: Service, count: int = 1) -> None:
    """Wait until unanswered questions are stored: the bot records them after its reply went out."""
    for _ in range(200):
        if len(service.unanswered_keys()) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the unanswered question was never recorded")


async def test_review_one_tap_phrasing_then_answers(running: Any) -> None:
    api, app = running
    service: Service = app.bot_data["rolebot"].service
    before = service.ask(UNKNOWN_Q, record=False).result
    assert not before.answered and before.candidates[0]["score"] >= SUGGEST_AT, before.candidates
    api.user_message(UNKNOWN_Q, user_id=USER)
    await sends(api)
    await recorded(service)
    mark = api.mark()
    api.user_message("/review", user_id=MAINTAINER)
    [item] = await sends(api, since=mark)
    assert UNKNOWN_Q in item["text"]
    data = [b["callback_data"] for b in buttons(item)]
    assert data and all(d.startswith("a:") for d in data)
    topic = data[0].split(":", 2)[2]
    api.callback(data[0], user_id=MAINTAINER, message=api.last_bot_message(MAINTAINER))
    await sends(api, count=2, since=mark)
    result = service.ask(UNKNOWN_Q, record=False).result
    assert result.answered and result.topic == topic
    exported = [
        json.loads(line) for line in __import__("rolebot.kb.knowledge", fromlist=["x"]).export_records(service.store)
    ]
    assert any(UNKNOWN_Q in r.get("alternates", []) for r in exported)
    audit = list(service.store.db.query("SELECT actor, action FROM audit"))
    assert audit == [{"actor": f"telegram:{MAINTAINER}", "action": "add-phrasing"}]


async def test_stats_for_maintainer(running: Any) -> None:
    api, app = running
    api.user_message("营销是什么", user_id=USER)
    api.user_message("会计和出纳的区别", user_id=USER)
    await sends(api, count=2)
    await recorded(app.bot_data["rolebot"].service)
    mark = api.mark()
    api.user_message("/stats", user_id=MAINTAINER)
    [msg] = await sends(api, since=mark)
    assert "2 个问题" in msg["text"] and "回答率：50%" in msg["text"]
    trend = msg["text"].splitlines()
    assert any(line.startswith("问题") and "█" in line and "共 2" in line for line in trend)
    assert any(line.startswith("回答率") and "最近 50%" in line for line in trend)


async def test_review_offers_no_one_tap_add_for_an_unlikely_topic(running: Any) -> None:
    api, app = running
    service: Service = app.bot_data["rolebot"].service
    far = "红烧肉怎么做才好吃"
    result = service.ask(far, record=False).result
    assert max((c["score"] for c in result.to_json()["candidates"]), default=0) < 50
    api.user_message(far, user_id=USER)
    await sends(api)
    await recorded(service)
    mark = api.mark()
    api.user_message("/review", user_id=MAINTAINER)
    [item] = await sends(api, since=mark)
    assert far in item["text"] and "不在范围内" in item["text"]
    assert not buttons(item)


async def test_review_shows_the_cli_groups_and_one_tap_adds_only_where_it_suggests(running: Any) -> None:
    from rolebot.conversation.review import Reviewer
    from rolebot.kb.review import Cluster

    api, app = running
    service: Service = app.bot_data["rolebot"].service
    asked = ["营销号是什么意思", "行銷人員要具備什麼能力", "区块链是什么", "运营的工资一般多少", "运营工资高吗"]
    asked += ["销售提成怎么算", UNKNOWN_Q]
    for text in asked:
        api.user_message(text, user_id=USER)
    await sends(api, count=len(asked))
    await recorded(service, len(asked))
    expected: list[Cluster] = Reviewer(service.store).review(30)["unanswered"]
    assert len(expected) == 6  # the two pay questions about 运营 are one group
    mark = api.mark()
    api.user_message("/review", user_id=MAINTAINER)
    shown = await sends(api, count=6, since=mark)  # a page of five groups, then the page line
    assert "第 1/2 页" in shown[-1]["text"]
    [next_page] = buttons(shown[-1])
    mark2 = api.mark()
    api.callback(next_page["callback_data"], user_id=MAINTAINER, message=api.last_bot_message(MAINTAINER))
    rest = await sends(api, count=2, since=mark2)  # the last group, then the last page's line
    assert "第 2/2 页" in rest[-1]["text"] and not buttons(rest[-1])
    shown = shown[:-1] + rest[:-1]
    assert len(shown) == 6
    for item, message in zip(expected, shown, strict=True):
        assert message["text"].split("\n")[0].endswith(f"{item['question']}（问了 {item['count']} 次）")
        data = [b["callback_data"] for b in buttons(message)]
        if item["suggestion"]:
            assert data == [f"a:{data[0].split(':')[1]}:{item['suggestion']}"]
        elif item["new_entry"]:
            assert len(data) == 1 and data[0].startswith("ne:")
        else:
            assert data == []
    taps = [b for m in shown for b in buttons(m) if b["callback_data"].startswith("a:")]
    assert [t["callback_data"].split(":")[2] for t in taps] == ["what-is-operations"]


async def test_new_entry_tap_sends_the_draft_as_a_yaml_file(running: Any) -> None:
    import yaml

    api, app = running
    service: Service = app.bot_data["rolebot"].service
    for text in ["运营的工资一般多少", "运营工资高吗"]:
        api.user_message(text, user_id=USER)
    await sends(api, count=2)
    await recorded(service, 2)
    mark = api.mark()
    api.user_message("/review", user_id=MAINTAINER)
    [item] = await sends(api, since=mark)
    assert "运营的薪资" in item["text"] and "operations-pay" in item["text"]
    [button] = buttons(item)
    assert button["callback_data"].startswith("ne:")
    api.callback(button["callback_data"], user_id=MAINTAINER, message=api.last_bot_message(MAINTAINER))
    await api.wait_for("sendDocument", since=mark)
    document = api.last_bot_message(MAINTAINER)["document"]
    assert document["file_name"] == "operations-pay.yaml"
    [draft] = yaml.safe_load(api.file_content(document["file_id"]).decode("utf-8"))
    assert draft["topic"] == "operations-pay" and draft["question"] in ("运营的工资一般多少", "运营工资高吗")
    assert draft["answer"] == "" and set(draft["alternates"]) | {draft["question"]} == {
        "运营的工资一般多少",
        "运营工资高吗",
    }


async def test_non_maintainers_get_nothing(running: Any) -> None:
    api, _ = running
    api.user_message("会计和出纳的区别", user_id=USER)
    await sends(api)
    mark = api.mark()
    api.user_message("/review", user_id=USER)
    api.user_message("/stats", user_id=USER)
    api.document("new.jsonl", b'{"topic": "x", "question": "q", "answer": "a"}\n', user_id=USER)
    msgs = await sends(api, count=3, since=mark)
    assert all("会计" not in m["text"] and "回答率" not in m["text"] and "导入" not in m["text"] for m in msgs)


def import_folders(app: Any, root: Path) -> Path:
    """Point the bot's dry runs at `root` (a test's own folder) and return it."""
    found = {
        h.callback.__self__
        for handlers in app.handlers.values()
        for h in handlers
        if isinstance(getattr(h.callback, "__self__", None), Maintainers)
    }
    [maintainers] = found
    maintainers.pending.root = root
    return root


async def test_valid_document_import_with_confirmation(running: Any, tmp_path: Path) -> None:
    api, app = running
    root = import_folders(app, tmp_path / "tmp")
    root.mkdir()
    service: Service = app.bot_data["rolebot"].service
    question = "渠道经理和大客户经理分别负责什么"
    record = {
        "topic": "channel-vs-key-account",
        "question": question,
        "alternates": ["渠道经理 大客户经理 区别"],
        "answer": "渠道经理管经销网络，大客户经理维护少数重要客户。",
        "sources": [{"title": "内部整理"}],
    }
    api.document("new.jsonl", (json.dumps(record, ensure_ascii=False) + "\n").encode(), user_id=MAINTAINER)
    [summary] = await sends(api)
    assert "1 added" in summary["text"] and not service.ask(question, record=False).result.answered
    [confirm] = buttons(summary)
    api.callback(confirm["callback_data"], user_id=MAINTAINER, message=api.last_bot_message(MAINTAINER))
    msgs = await sends(api, count=2)
    assert "已导入" in msgs[1]["text"]
    result = service.ask(question, record=False).result
    assert result.answered and result.topic == "channel-vs-key-account"
    assert list(root.iterdir()) == [], "the import's temporary folder is removed"


async def test_invalid_document_shows_lines_and_writes_nothing(running: Any, tmp_path: Path) -> None:
    api, app = running
    root = import_folders(app, tmp_path)
    service: Service = app.bot_data["rolebot"].service
    before = service.store.counts()
    body = '{"topic": "a", "question": "q1", "answer": "x"}\n{bad json\n{"topic": "b", "answer": "y"}\n'
    api.document("bad.jsonl", body.encode(), user_id=MAINTAINER)
    [msg] = await sends(api)
    assert "bad.jsonl:2" in msg["text"] and "bad.jsonl:3: question" in msg["text"]
    assert not buttons(msg) and service.store.counts() == before
    assert not list(root.glob("rolebot-import-*")), "a refused file leaves no folder"


def test_dry_runs_expire_are_bounded_and_stale_folders_go(tmp_path: Path) -> None:
    now = [10_000.0]
    stale = tmp_path / "rolebot-import-old"
    stale.mkdir()
    (stale / "x.jsonl").write_text("{}")
    fresh = tmp_path / "rolebot-import-other-bot"
    fresh.mkdir()
    os.utime(stale, (0, 0))
    pending = PendingImports(tmp_path, ttl=900, limit=3, clock=lambda: now[0])
    assert not stale.exists() and fresh.exists(), "only folders older than the time to live are someone's leftovers"

    def dry_run() -> tuple[str, Path]:
        folder = pending.folder()
        (folder / "f.jsonl").write_text("{}")
        return pending.add(folder, folder / "f.jsonl"), folder

    first, first_folder = dry_run()
    now[0] += 901
    assert pending.take(first) is None and not first_folder.exists(), "15 minutes later the press is too late"
    runs = [dry_run() for _ in range(5)]
    assert [pending.take(t) is not None for t, _ in runs] == [False, False, True, True, True]
    assert [f.exists() for _, f in runs] == [False, False, True, True, True]


async def test_review_of_two_thousand_distinct_questions_is_fast_and_paged(running: Any) -> None:
    import random
    import time

    from rolebot.kb.knowledge import open_store

    api, app = running
    service: Service = app.bot_data["rolebot"].service
    roles = ["运营", "销售", "市场", "营销", "新媒体运营", "用户运营", "内容运营", "产品经理"]
    tails = ["工资多少", "面试问什么", "要学什么技能", "每天干什么", "和销售的区别", "以后发展怎么样", "加班多吗"]
    rng = random.Random(30)
    other = open_store(service.store.path)  # another connection, as another process would write them
    for i in range(2000):
        q = f"{i}号公司的{rng.choice(roles)}{rng.choice(tails)}"
        other.record_unanswered(q, q, "private", [{"topic": "what-is-operations", "score": rng.randint(0, 80)}])
    other.close()
    mark = api.mark()
    started = time.perf_counter()
    api.user_message("/review", user_id=MAINTAINER)
    shown = await sends(api, count=6, since=mark, timeout=30)
    took = time.perf_counter() - started
    assert "第 1/" in shown[-1]["text"] and buttons(shown[-1])  # five groups a page, and a 下一页
    print(f"/review over 2,000 distinct questions: first page in {took:.1f} s")
    assert took < 10
