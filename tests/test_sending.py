"""The send policy: retry what Telegram never received, send at most once more what it may have."""

from __future__ import annotations

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from rolebot.tg.sending import RECEIPT, Receipt, Sender, SendStats, with_retry


def failing(*errors: Exception) -> tuple[list[int], object]:
    """Return a call log and a call that raises the errors in turn, then succeeds."""
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"

    return calls, call


def caused(exc: NetworkError, cause: Exception) -> NetworkError:
    exc.__cause__ = cause
    return exc


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(_: float) -> None:
        return None

    monkeypatch.setattr("rolebot.tg.sending.asyncio.sleep", instant)


async def test_not_received_is_retried() -> None:
    refused = caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused"))
    calls, call = failing(refused, NetworkError("Bad Gateway"), NetworkError("Bad Gateway"))
    stats = SendStats()
    assert await with_retry(call, stats=stats) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 4 and stats.retried == 3 and stats.unsure == 0


@pytest.mark.parametrize(
    "cause",
    [
        pytest.param(httpx.ReadTimeout("slow"), id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("dropped"), id="cut-off"),
    ],
)
async def test_maybe_received_is_sent_at_most_once_more(cause: Exception) -> None:
    calls, call = failing(*(caused(TimedOut(), cause) for _ in range(5)))
    stats = SendStats()
    assert await with_retry(call, stats=stats) is None  # type: ignore[arg-type]
    assert len(calls) == 2 and stats.unsure == 2 and stats.unsure_retried == 1


async def test_flood_control_is_left_to_the_rate_limiter() -> None:
    calls, call = failing(RetryAfter(3))
    receipt = Receipt(7)
    assert await with_retry(call, receipt=receipt) is None  # type: ignore[arg-type]
    assert len(calls) == 1 and receipt.failed  # the limiter already retried: keep it for a later try


async def test_permanent_refusal_is_not_a_failure_to_retry() -> None:
    calls, call = failing(BadRequest("message text is empty"))
    receipt = Receipt(7)
    assert await with_retry(call, receipt=receipt) is None  # type: ignore[arg-type]
    assert len(calls) == 1 and not receipt.failed


async def test_replay_skips_replies_already_delivered() -> None:
    sender = Sender()
    seen: list[tuple[int, int]] = []
    receipt = Receipt(9, skip=1, on_sent=lambda u, n: seen.append((u, n)))
    token = RECEIPT.set(receipt)
    try:
        first_calls, first = failing()
        second_calls, second = failing()
        assert await sender.deliver(first) is None  # type: ignore[arg-type]
        assert await sender.deliver(second) == "ok"  # type: ignore[arg-type]
    finally:
        RECEIPT.reset(token)
    assert first_calls == [] and second_calls == [1] and seen == [(9, 2)]
