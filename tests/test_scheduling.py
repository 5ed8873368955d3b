"""Fair scheduling: a chat waits for its turn before it takes a processing slot."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from rolebot.tg.processor import ChatTurns
from tests.helpers.bot import GROUP


async def test_paced_group_holds_one_slot_and_private_chats_go_on() -> None:
    turns = ChatTurns(slots=4)
    release = asyncio.Event()
    started: list[int] = []

    async def paced(i: int) -> None:
        started.append(i)
        await release.wait()  # a group's send waiting out its 20-a-minute pace

    group = [asyncio.create_task(turns.run(-100, lambda i=i: paced(i))) for i in range(60)]

    async def private(i: int) -> int:
        await asyncio.sleep(0.01)  # an answer's work, done while the group waits
        return i

    # a private chat's work, queued behind the group's 60: by the time it is done, each of them has asked for its turn
    async with asyncio.timeout(5):  # not stuck behind the group either
        assert await asyncio.create_task(turns.run(999, lambda: private(-1))) == -1
    assert started == [0] and turns.busy == 1  # the other 59 wait for the group's turn, not in slots
    t0 = time.monotonic()

    answers = await asyncio.gather(*(turns.run(1000 + i, lambda i=i: private(i)) for i in range(20)))
    assert answers == list(range(20)) and time.monotonic() - t0 < 1.0
    release.set()
    await asyncio.gather(*group)
    assert started == list(range(60))  # in arrival order
    assert turns.chats == 0 and turns.busy == 0  # nothing kept for chats that went quiet


async def test_slots_bound_work_across_chats() -> None:
    turns = ChatTurns(slots=3)
    peak = 0

    async def work() -> None:
        nonlocal peak
        peak = max(peak, turns.busy)
        await asyncio.sleep(0.01)  # holds its slot a while, so that three are busy at once

    await asyncio.gather(*(turns.run(c, work) for c in range(30)))
    assert peak == 3


async def test_failed_work_frees_the_turn() -> None:
    turns = ChatTurns(slots=1)

    async def boom() -> None:
        raise RuntimeError("x")

    async def fine() -> str:
        return "ok"

    first = asyncio.create_task(turns.run(5, boom))
    second = asyncio.create_task(turns.run(5, fine))
    assert isinstance((await asyncio.gather(first, return_exceptions=True))[0], RuntimeError)
    assert await second == "ok" and turns.chats == 0


async def test_busy_group_does_not_delay_private_answers(running: Any) -> None:
    api, _ = running
    questions = ["营销是什么", "销售是什么", "运营是什么", "市场部做什么", "用户运营是什么"]

    slowest: list[float] = []

    async def private_latency(users: range) -> float:
        took = []
        for n, user in enumerate(users):
            mark = api.mark()
            t0 = time.monotonic()
            api.user_message(questions[n % len(questions)], user_id=user)
            await api.wait_for("sendMessage", since=mark, predicate=lambda p, u=user: str(p["chat_id"]) == str(u))
            took.append(time.monotonic() - t0)
        slowest.append(max(took))
        return statistics.median(took)

    sent: list[float] = []

    def over_20_a_minute(params: dict[str, Any]) -> bool:  # Telegram's flood control for one group
        if str(params.get("chat_id")) != str(GROUP):
            return False
        now = time.monotonic()
        if len([t for t in sent if now - t < 60]) >= 20:
            return True
        sent.append(now)
        return False

    api.fail("sendMessage", 429, retry_after=3, times=None, when=over_20_a_minute)
    await private_latency(range(7000, 7003))  # warm up
    calm = await private_latency(range(7100, 7110))
    for i in range(60):  # 60 members each /ask once: the rate limiter lets 20 a minute through to the group
        api.user_message(
            f"/ask {questions[i % 5]}{'？' * (i // 5)}", user_id=8000 + i, chat_id=GROUP, chat_type="group"
        )
    for _ in range(100):  # until Telegram refuses the group: its retry_after is being waited out now
        if api.faulted:
            break
        await asyncio.sleep(0.1)
    assert api.faulted
    busy = await private_latency(range(7200, 7210))
    group_sent = len([p for p in api.calls_to("sendMessage") if str(p["chat_id"]) == str(GROUP)])
    assert group_sent < 60  # the group is still being paced while the private chats are answered
    assert busy <= 2 * calm + 0.1, (calm, busy)  # + 0.1 s: two cores shared with other test runs
    assert slowest[-1] < 2.0  # a group's 429 (retry after 3 s) pauses that group only
