"""Fair scheduling: a chat waits for its turn before it takes a processing slot."""

from __future__ import annotations

import asyncio
import time

from rolebot.tg.processor import ChatTurns


async def test_paced_group_holds_one_slot_and_private_chats_go_on() -> None:
    turns = ChatTurns(slots=4)
    release = asyncio.Event()
    started: list[int] = []

    async def paced(i: int) -> None:
        started.append(i)
        await release.wait()  # a group's send waiting out its 20-a-minute pace

    group = [asyncio.create_task(turns.run(-100, lambda i=i: paced(i))) for i in range(60)]
    await asyncio.sleep(0.05)
    assert started == [0] and turns.busy == 1  # the other 59 wait for the group's turn, not in slots
    t0 = time.monotonic()

    async def private(i: int) -> int:
        await asyncio.sleep(0.01)
        return i

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
        await asyncio.sleep(0.01)

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
