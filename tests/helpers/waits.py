"""Wait for a condition with a deadline, instead of sleeping a guessed time and hoping it held."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Await until condition() is true; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.01)


def eventually_sync(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Block until condition() is true, for code outside an event loop; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.02)
