"""The real bot against the stand-in Bot API: who talks to it, and reading what it sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.helpers.fakeapi import FakeBotAPI
from tests.helpers.waits import eventually

USER = 1001  # the private-chat user of the end-to-end tests; USER + 1 is a maintainer
GROUP = -2001


def _j(value: Any) -> Any:
    """Decode a JSON-encoded parameter (the stand-in may already have decoded it)."""
    return json.loads(value) if isinstance(value, str) else value


def markup(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Return the inline keyboard rows a call carried."""
    data = _j(params.get("reply_markup")) or {}
    return data.get("inline_keyboard", [])


def buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every button of a call's keyboard."""
    return [b for row in markup(params) for b in row]


async def sends(api: FakeBotAPI, count: int = 1, since: int = 0, **kw: Any) -> list[dict[str, Any]]:
    """Wait for sendMessage calls."""
    return await api.wait_for("sendMessage", count=count, since=since, **kw)


async def settled(api: FakeBotAPI, app: Any, timeout: float = 10.0) -> None:
    """Wait until the bot has taken every update the stand-in holds and is done with each, its retries included.

    The marker a "nothing else was sent" check waits for: the stand-in forgets an update only when the next
    getUpdates confirms it, which the bot makes after it started answering it, and the delivery drops an
    update's task only once it is answered, given up, or left in the inbox.
    """
    delivery = app.bot_data["rolebot"].delivery
    await eventually(lambda: not api.pending_updates and not delivery.tasks, "the bot to finish every update", timeout)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Any]:
    """Run the real Application as `rolebot run` does (post_init, the delivery loop polling), without signals."""
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        delivery = app.bot_data["rolebot"].delivery
        delivery.poll_timeout = 1
        await delivery.start()
        try:
            yield delivery
        finally:
            await delivery.stop()
            await app.stop()
            await app.post_shutdown(app)
