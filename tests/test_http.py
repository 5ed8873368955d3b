"""The bot's HTTP client against the stand-in: answers, uploads, and which failures may have reached Telegram."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from rolebot.tg.http import AiohttpRequest
from rolebot.tg.sending import was_sent
from tests.helpers.fakeapi import FakeBotAPI

USER = 10_001


@pytest_asyncio.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    """A PTB Bot whose calls go through AiohttpRequest to the stand-in."""
    fake_api.user_message("你好", user_id=USER)  # the stand-in knows a chat once its user wrote
    request = AiohttpRequest(connection_pool_size=1, read_timeout=0.5, connect_timeout=0.3, pool_timeout=0.2)
    async with Bot(
        fake_api.token, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url, request=request
    ) as b:
        yield b


async def test_calls_and_uploads_arrive_whole(bot: Bot, fake_api: FakeBotAPI) -> None:
    sent = await bot.send_message(USER, "营销和销售<b>有什么区别</b>", parse_mode="HTML")
    assert sent.text == "营销和销售有什么区别"
    assert fake_api.calls_to("sendMessage")[-1]["text"] == "营销和销售<b>有什么区别</b>"
    content = "id,question\n1,营销是什么\n".encode()
    doc = await bot.send_document(USER, content, filename="导出.csv", caption="备份")
    assert doc.document is not None and doc.document.file_name == "导出.csv" and doc.caption == "备份"
    file = await bot.get_file(doc.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content  # a GET through the same client


async def test_a_refused_connection_was_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once it is closed
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
    finally:
        await request.shutdown()
    assert not was_sent(caught.value)


async def test_a_dropped_connection_may_have_been_sent(bot: Bot, fake_api: FakeBotAPI) -> None:
    fake_api.drop("sendMessage")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(USER, "hi")
    assert was_sent(caught.value)
    assert (await bot.send_message(USER, "again")).text == "again"  # the pool recovers


async def test_a_timed_out_answer_may_have_been_sent(bot: Bot, fake_api: FakeBotAPI) -> None:
    fake_api.delay("sendMessage", 3.0)  # longer than the read timeout of 0.5 s
    with pytest.raises(TimedOut) as caught:
        await bot.send_message(USER, "hi")
    assert was_sent(caught.value)


async def test_waiting_in_vain_for_a_pooled_connection_was_not_sent(bot: Bot, fake_api: FakeBotAPI) -> None:
    fake_api.delay("sendMessage", 2.0, when=lambda p: p.get("text") == "slow")  # holds the one connection
    first = asyncio.create_task(bot.send_message(USER, "slow", read_timeout=5.0))
    async with asyncio.timeout(30):
        while not fake_api.faulted:  # the stand-in holds it now
            await asyncio.sleep(0.01)
    with pytest.raises(TimedOut) as caught:
        await bot.send_message(USER, "queued")  # pool and connect timeouts: 0.5 s
    assert not was_sent(caught.value)
    assert (await first).text == "slow"


def test_the_proxy_comes_from_the_environment_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    request = AiohttpRequest()
    assert request.proxy("https://api.telegram.org/bot1:x/getMe") == "http://proxy.internal:3128"
    assert request.proxy("http://127.0.0.1:8081/bot1:x/getMe") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")
    assert (
        request.proxy("https://api.telegram.org/bot1:x/sendMessage") == "http://proxy.internal:3128"
    )  # looked up once
