"""Shared pytest fixtures (helpers they use live in tests/helpers/)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.engine.engine import Engine
from rolebot.kb.knowledge import open_store
from rolebot.store.store import Store
from rolebot.tg.app import build_application
from tests.helpers.bot import USER, serving
from tests.helpers.cli import CliInvoker
from tests.helpers.db import copy_db
from tests.helpers.fakeapi import FakeBotAPI


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules that hold a slow test first, slowest first, so that no worker gets one near the end alone."""
    seconds: dict[Path, float] = {}
    for item in items:
        if mark := item.get_closest_marker("slow"):
            seconds[item.path] = max(seconds.get(item.path, 0.0), float(mark.args[0]))
    items.sort(key=lambda item: -seconds.get(item.path, 0.0))  # stable: a module's tests stay together, in order


@pytest_asyncio.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started stand-in Bot API on 127.0.0.1, stopped (and checked for fake bugs) afterwards."""
    api = FakeBotAPI()
    api.start()
    try:
        yield api
    finally:
        api.stop()


# --- fixtures for the non-Telegram layers (store, import, engine, CLI) -------------------------


@pytest.fixture(scope="session")
def shipped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a database holding the shipped knowledge, created once per run."""
    path = tmp_path_factory.mktemp("shipped") / "shipped.db"
    store = open_store(path)
    store.close()  # the last connection checkpoints the WAL into the main file
    return path


@pytest.fixture(scope="session")
def shared_store(shipped_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store with the shipped knowledge, shared by the session's engine and service.

    It is a copy of shipped_db, so the unanswered questions the service records never leak into
    the per-test copies made from shipped_db.
    """
    store = Store(copy_db(shipped_db, tmp_path_factory.mktemp("session") / "session.db"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def engine(shared_store: Store) -> Engine:
    """The answer engine over the shipped knowledge (do not write through it)."""
    return Engine(shared_store)


@pytest.fixture(scope="session")
def service(shared_store: Store) -> Service:
    """The conversation service over the shipped knowledge."""
    return Service(shared_store, salt="test-salt")


@pytest.fixture
def store(tmp_path: Path, shipped_db: Path) -> Iterator[Store]:
    """A fresh store of this test's own, with the shipped knowledge loaded.

    open_store on a copy of shipped_db: the same result as on an empty path (its refresh is a
    no-op because the fingerprint matches), without indexing the knowledge again for every test.
    """
    s = open_store(copy_db(shipped_db, tmp_path / "t.db"))
    yield s
    s.close()


@pytest.fixture
def db_path(tmp_path: Path, shipped_db: Path) -> Path:
    """A private copy of the shipped database, for tests that write through the CLI."""
    return copy_db(shipped_db, tmp_path / "copy.db")


@pytest.fixture(scope="session")
def cli() -> CliInvoker:
    """Run `rolebot` in-process with click's CliRunner (stdout and stderr kept apart)."""
    return CliInvoker()


# -- the real bot against the stand-in Bot API (shared by the end-to-end test modules) --------------


@pytest.fixture(scope="session")
def seed_db(shipped_db: Path) -> Path:
    """The shipped knowledge, built once per run: each test copies it, none writes to it."""
    return shipped_db


@pytest_asyncio.fixture
async def running(fake_api: FakeBotAPI, seed_db: Path, tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, Any]]:
    """Start the real Application polling the stand-in; stop it afterwards."""
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    settings = Settings(
        token=fake_api.token,
        db_path=db,
        base_url=fake_api.base_url,
        base_file_url=fake_api.base_file_url,
        maintainers=frozenset({USER + 1}),
    )
    app = build_application(settings, Service(open_store(db)))
    async with serving(app):
        yield fake_api, app
