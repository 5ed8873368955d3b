"""Optional start-up steps (descriptions, the commands menu) that fail log one warning; the bot still serves."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.tg.app import build_application
from rolebot.tg.startup import KnowledgeSummary, RunOptions, attach
from tests.helpers.bot import USER, sends, serving
from tests.helpers.hostile import HostileAPI


class GarbageProfile(HostileAPI):
    """A Bot API whose profile methods answer what the API never documents."""

    def _api_getMyDescription(self, params: Any) -> Any:
        return ["not", "a", "description"]

    def _api_setMyCommands(self, params: Any) -> Any:
        return {"odd": True}


def without_profile_methods() -> HostileAPI:
    """An older or self-hosted Bot API: no description methods and no commands menu (404 method not found)."""
    return HostileAPI(
        missing=(
            "getMyDescription",
            "setMyDescription",
            "getMyShortDescription",
            "setMyShortDescription",
            "setMyCommands",
        )
    )


@pytest.mark.parametrize(
    "make",
    [pytest.param(without_profile_methods, id="methods-missing"), pytest.param(GarbageProfile, id="garbage-replies")],
)
async def test_a_failing_optional_step_warns_once_and_the_bot_answers(
    make: Any, seed_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    caplog.set_level(logging.WARNING, logger="rolebot")
    with make() as api:
        settings = Settings(token=api.token, db_path=db, base_url=api.base_url, base_file_url=api.base_file_url)
        app = attach(
            build_application(settings, Service(open_store(db))), RunOptions(), KnowledgeSummary(db, 0, 0, "x")
        )
        async with serving(app):  # post_init as `rolebot run` runs it: descriptions, menu, keep-alive
            api.user_message("营销和销售有什么区别", user_id=USER)
            [reply] = await sends(api, timeout=20)
        assert "营销" in reply["text"] and "抱歉" not in reply["text"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum(m.startswith("bot description not set") for m in warnings) == 1, warnings
    assert sum(m.startswith("commands menu not set") for m in warnings) == (1 if make is not GarbageProfile else 0)
    assert not [m for m in warnings if not m.startswith(("bot description", "commands menu"))], warnings
