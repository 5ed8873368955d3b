"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from fakeapi import FakeBotAPI


@pytest_asyncio.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started stand-in Bot API on 127.0.0.1, stopped (and checked for fake bugs) afterwards."""
    api = FakeBotAPI()
    api.start()
    try:
        yield api
    finally:
        api.stop()
