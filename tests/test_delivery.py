"""Delivery through the inbox: real `rolebot run` processes killed in the middle of a backlog lose nothing."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.store.inbox import inbox_path
from tests.helpers.fakeapi import FakeBotAPI
from tests.helpers.waits import eventually, eventually_sync

ROLEBOT = str(Path(sys.executable).parent / "rolebot")
BOLD = re.compile(r"^<b>(.*?)</b>")
CHATS, PER_CHAT = 60, 10  # 600 messages; 10 a chat stays under the per-user flood limit
SLOTS = 32  # answers in flight at once (tg/app.py): the most a hard kill can double


@pytest.fixture(scope="module")
def questions(seed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """Eleven questions with different answers: (question, the bold title of its answer); the last is the marker."""
    db = tmp_path_factory.mktemp("q") / "q.db"
    shutil.copy(seed_db, db)
    service = Service(open_store(db))
    pairs: dict[str, str] = {}
    for _, question, _ in service.store.topics():
        title = service.ask(question, record=False).result.question or ""
        if title and title not in pairs.values():
            pairs[question] = title
        if len(pairs) == PER_CHAT + 1:
            break
    service.close()
    return list(pairs.items())


def start(api: FakeBotAPI, db: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start `rolebot run` against the stand-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ROLEBOT_"))}
    env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_BASE_URL=api.base_url, ROLEBOT_SEND_RATE="0")
    with log.open("ab") as out:  # the child keeps its own copy of the file
        return subprocess.Popen([ROLEBOT, "run", "--db", str(db)], env=env, stdout=out, stderr=subprocess.STDOUT)


def answered(api: FakeBotAPI) -> dict[int, list[str]]:
    """Return, per chat, the titles of the answers the bot delivered."""
    got: dict[int, list[str]] = {}
    for rec in api.log:
        if rec.method == "sendMessage" and rec.error is None:
            m = BOLD.match(rec.params.get("text", ""))
            got.setdefault(int(rec.params["chat_id"]), []).append(html.unescape(m.group(1)) if m else "?")
    return got


def lost_and_doubled(api: FakeBotAPI, titles: list[str]) -> tuple[int, int]:
    """Count answers never delivered and answers delivered more than once, over every chat."""
    lost = doubled = 0
    got = answered(api)
    for c in range(CHATS):
        have = Counter(got.get(10_000 + c, []))
        for t in titles:
            lost += max(1 - have[t], 0)
            doubled += max(have[t] - 1, 0)
    return lost, doubled


def out_of_order(api: FakeBotAPI, titles: list[str]) -> int:
    """Count chats whose answers (first deliveries, the marker's left out) came in another order than asked."""
    got = answered(api)
    return sum([t for t in dict.fromkeys(got.get(10_000 + c, [])) if t in titles] != titles for c in range(CHATS))


def backlog(api: FakeBotAPI, questions: list[tuple[str, str]]) -> None:
    """Queue 600 messages: every chat asks the ten questions in order."""
    for q, _ in questions[:PER_CHAT]:
        for c in range(CHATS):
            api.user_message(q, user_id=10_000 + c)


def ask_markers(api: FakeBotAPI, questions: list[tuple[str, str]]) -> None:
    """Ask every chat's marker question, after its ten."""
    for c in range(CHATS):
        api.user_message(questions[PER_CHAT][0], user_id=10_000 + c)


def markers_answered(api: FakeBotAPI, questions: list[tuple[str, str]]) -> None:
    """Wait until every chat has its marker's answer: a chat is answered in order, so its ten (and their doubles) went before."""
    marker = questions[PER_CHAT][1]

    def done() -> bool:
        if len(api.calls_to("sendMessage")) < CHATS * (PER_CHAT + 1):  # cheap, while most are still to come
            return False
        got = answered(api)
        return all(marker in got.get(10_000 + c, []) for c in range(CHATS))

    eventually_sync(done, "every chat's marker answered", timeout=120)


def wait_sends(api: FakeBotAPI, count: int, timeout: float) -> int:
    """Wait until `count` replies went out (or the time is up); return how many did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(api.calls_to("sendMessage")) < count:
        time.sleep(0.05)
    return len(api.calls_to("sendMessage"))


@pytest.fixture
def bot_db(seed_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    return db


@pytest.mark.slow(20)
def test_sigkill_mid_backlog_then_restart_loses_nothing(
    bot_db: Path, tmp_path: Path, questions: list[tuple[str, str]]
) -> None:
    log = tmp_path / "bot.log"
    with FakeBotAPI() as api:
        api.delay("sendMessage", 0.1, times=None)  # slow Telegram: the backlog takes a while
        bot = start(api, bot_db, log)
        try:
            backlog(api, questions)  # it waits at the stand-in until the bot, starting, fetches it
            before = wait_sends(api, 150, timeout=60)
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
            assert 150 <= before < 600, log.read_text()
            bot = start(api, bot_db, log)
            ask_markers(api, questions)
            markers_answered(api, questions)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=20)
        lost, doubled = lost_and_doubled(api, [t for _, t in questions[:PER_CHAT]])
        assert lost == 0, log.read_text()[-3000:]
        assert doubled <= SLOTS
        assert out_of_order(api, [t for _, t in questions[:PER_CHAT]]) == 0
        assert inbox_path(bot_db).exists()


@pytest.mark.slow(20)
def test_sigterm_exits_fast_and_sigkill_after_10s_loses_nothing(
    bot_db: Path, tmp_path: Path, questions: list[tuple[str, str]]
) -> None:
    log = tmp_path / "bot.log"
    with FakeBotAPI() as api:
        api.delay("sendMessage", 0.1, times=None)
        bot = start(api, bot_db, log)
        try:
            backlog(api, questions)  # it waits at the stand-in until the bot, starting, fetches it
            wait_sends(api, 150, timeout=60)
            t0 = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            try:
                code = bot.wait(timeout=10)  # what docker stop and systemd allow before SIGKILL
            except subprocess.TimeoutExpired:
                bot.send_signal(signal.SIGKILL)
                code = bot.wait()
            took = time.monotonic() - t0
            assert code == 0 and took < 10, f"exit {code} after {took:.1f}s\n" + log.read_text()[-3000:]
            assert len(api.calls_to("sendMessage")) < 600  # it did not drain the backlog before exiting
            bot = start(api, bot_db, log)
            ask_markers(api, questions)
            markers_answered(api, questions)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=20)
        lost, doubled = lost_and_doubled(api, [t for _, t in questions[:PER_CHAT]])
        assert lost == 0 and doubled == 0, log.read_text()[-3000:]
        assert out_of_order(api, [t for _, t in questions[:PER_CHAT]]) == 0


def unfinished_ids(db: Path) -> list[int]:
    """Return the update ids the inbox still holds unanswered."""
    import sqlite3

    conn = sqlite3.connect(inbox_path(db))
    try:
        return [r[0] for r in conn.execute("SELECT update_id FROM inbox WHERE done IS NULL")]
    finally:
        conn.close()


async def test_answer_that_cannot_be_sent_waits_in_the_inbox(fake_api: FakeBotAPI, bot_db: Path) -> None:
    from rolebot.config import Settings
    from rolebot.tg.app import build_application
    from tests.helpers.bot import serving

    settings = Settings(token=fake_api.token, db_path=bot_db, base_url=fake_api.base_url)
    fake_api.fail("sendMessage", 502, times=None)  # Telegram's side is down for longer than we retry
    app = build_application(settings, Service(open_store(bot_db)))
    app.bot_data["rolebot"].sender.attempts = 2
    async with serving(app) as delivery:
        delivery.retry_delays = (0.2,)
        fake_api.user_message("营销是什么", user_id=4242)
        # two tries of two attempts each, then the update is let go of (it waits in the inbox): no fifth
        await eventually(lambda: len(fake_api.faulted) >= 4, "four failed sends")
        await eventually(lambda: not delivery.tasks, "the update to be given up")
        assert len(fake_api.faulted) == 4
    assert len(unfinished_ids(bot_db)) == 1 and not fake_api.pending_updates  # taken, not answered, kept
    fake_api.clear_faults()
    app = build_application(settings, Service(open_store(bot_db)))
    async with serving(app):
        [msg] = await fake_api.wait_for("sendMessage", predicate=lambda p: "营销" in p.get("text", ""))
    assert unfinished_ids(bot_db) == []
    assert len([r for r in fake_api.log if r.method == "sendMessage" and r.error is None]) == 1


async def test_fetching_waits_while_the_backlog_is_full(fake_api: FakeBotAPI, bot_db: Path) -> None:
    from rolebot.config import Settings
    from rolebot.tg.app import build_application
    from tests.helpers.bot import serving

    settings = Settings(token=fake_api.token, db_path=bot_db, base_url=fake_api.base_url)
    app = build_application(settings, Service(open_store(bot_db)))
    app.bot_data["rolebot"].delivery.backlog = 5
    fake_api.delay("sendMessage", 1.0, times=None)  # an answer holds its place in memory for a second
    async with serving(app) as delivery:
        for i in range(40):
            fake_api.user_message("营销是什么", user_id=6000 + i)
        # five answers are being sent, each held for a second: memory is full, and stays so until one is done
        await eventually(lambda: len(fake_api.faulted) >= 5, "five answers being sent")
        assert len(delivery.tasks) == 5
        assert len(fake_api.pending_updates) >= 35  # the rest Telegram keeps, as nothing confirmed them
        most = 0

        def all_sent() -> bool:
            nonlocal most
            most = max(most, len(delivery.tasks))  # never more than five, to the last answer
            return len(fake_api.calls_to("sendMessage")) >= 40

        await eventually(all_sent, "all 40 answers", timeout=30)
        assert most <= 5


async def test_webhook_update_is_in_the_inbox_before_the_200(fake_api: FakeBotAPI, bot_db: Path) -> None:
    import sqlite3

    from telegram import Update

    from rolebot.config import Settings
    from rolebot.tg.app import build_application

    settings = Settings(token=fake_api.token, db_path=bot_db, base_url=fake_api.base_url)
    app = build_application(settings, Service(open_store(bot_db)))
    delivery = app.bot_data["rolebot"].delivery
    fake_api.delay("sendMessage", 2.0, times=None)  # the answer is still being sent when we look
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await delivery.start(poll=False)
        try:
            update = {
                "update_id": 777,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": 4343, "type": "private", "first_name": "U"},
                    "from": {"id": 4343, "is_bot": False, "first_name": "U"},
                    "text": "营销是什么",
                },
            }
            # what PTB's webhook handler does before it answers Telegram 200
            await app.update_queue.put(Update.de_json(update, app.bot))
            conn = sqlite3.connect(inbox_path(bot_db))
            [(done,)] = conn.execute("SELECT done FROM inbox WHERE update_id = 777").fetchall()
            conn.close()
            assert done is None  # stored, not yet answered
            await fake_api.wait_for("sendMessage", timeout=10)
        finally:
            await delivery.stop()
            await app.stop()
            await app.post_shutdown(app)


def test_sigterm_gives_up_a_retry_wait_and_the_answer_comes_after_the_restart(bot_db: Path, tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    with FakeBotAPI() as api:
        api.fail("sendMessage", 429, retry_after=60, times=None)  # flood control: try again in a minute
        api.add_chat(-4300, "supergroup", title="Chatter", bot_status="administrator")  # it sees every message
        bot = start(api, bot_db, log)
        try:
            api.user_message("营销是什么", user_id=4242)
            eventually_sync(lambda: api.faulted, "the first 429", timeout=30)
            # a marker the bot takes after it read the 429: chatter it answers with nothing, in a chat of its own;
            # once that is done, the answer is waiting out the 60 s
            chatter = api.user_message("大家好", user_id=4343, chat_id=-4300, chat_type="supergroup")["update_id"]
            eventually_sync(lambda: chatter in done_ids(bot_db), "the chatter to be done with", timeout=30)
            t0 = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            code = bot.wait(timeout=10)
            took = time.monotonic() - t0
            assert code == 0, log.read_text()[-3000:]
            assert "gave up 1 retry waits" in log.read_text(), log.read_text()[-3000:]
            assert took < 10
            assert len(unfinished_ids(bot_db)) == 1  # taken, not answered: kept for the next start
            api.clear_faults()
            bot = start(api, bot_db, log)
            api.user_message("销售是什么", user_id=4242)  # a marker: the chat is answered in order, a double before it
            eventually_sync(lambda: len(delivered(api)) >= 2, "the answer and the marker's", timeout=30)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=20)
        answers = delivered(api)
        assert len(answers) == 2, log.read_text()[-3000:]
        assert "营销" in answers[0]["text"] and "销售" in answers[1]["text"]
        assert unfinished_ids(bot_db) == []


def delivered(api: FakeBotAPI) -> list[dict[str, object]]:
    """Return the params of every sendMessage that went through."""
    return [r.params for r in api.log if r.method == "sendMessage" and r.error is None]


def done_ids(db: Path) -> set[int]:
    """Return the update ids the inbox holds as done (read while the bot runs)."""
    import sqlite3

    conn = sqlite3.connect(inbox_path(db), timeout=5)
    try:
        return {r[0] for r in conn.execute("SELECT update_id FROM inbox WHERE done IS NOT NULL")}
    finally:
        conn.close()
