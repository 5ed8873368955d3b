"""What the bot builds before it takes updates, so that a burst's first answers do not wait for it."""

from __future__ import annotations

import shutil
from pathlib import Path

from rolebot.config import Settings
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import open_store
from rolebot.language.typos import pinyin_reader
from rolebot.tg.app import build_application
from tests.helpers.bot import USER, serving
from tests.helpers.fakeapi import FakeBotAPI


async def test_the_pinyin_reader_is_built_at_start_not_at_the_first_question(
    fake_api: FakeBotAPI, seed_db: Path, tmp_path: Path
) -> None:
    pinyin_reader.cache_clear()
    db = tmp_path / "bot.db"
    shutil.copy(seed_db, db)
    settings = Settings(
        token=fake_api.token, db_path=db, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url
    )
    async with serving(build_application(settings, Service(open_store(db)))):
        assert pinyin_reader.cache_info().currsize == 1
        built = pinyin_reader.cache_info().misses
        fake_api.user_message("yingxiao he xiaoshou you shenme qubie", user_id=USER)  # letters: read as pinyin
        await fake_api.wait_for("sendMessage", timeout=30)
        assert pinyin_reader.cache_info().misses == built  # answered with the reader built at start
