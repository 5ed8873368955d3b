"""Stdlib-only stand-in for the Telegram Bot API, so tests run the real PTB stack over real HTTP.

The server listens on 127.0.0.1 (ThreadingHTTPServer in background threads), so it keeps
answering while the test's own event loop runs python-telegram-bot. It speaks the wire format
PTB uses (``POST /bot{token}/{method}``, form-encoded or multipart, JSON answers with real
HTTP status codes) and models the parts of Telegram's behaviour that bots trip over: long
polling with offset confirmation, per-chat message ids, privacy mode in groups, chats a bot may
not write to, entity parsing for ``parse_mode``, 64-byte callback data, "message is not
modified", group-to-supergroup migration, and injected faults (429/5xx/403/400, delays, drops).

Usage::

    with FakeBotAPI() as api:
        app = (ApplicationBuilder().token(api.token).base_url(api.base_url)
               .base_file_url(api.base_file_url).build())
        ...  # start polling, then:
        api.user_message("/start")
        [params] = await api.wait_for("sendMessage")

Realism to keep in mind: privacy_mode=True drops plain group chatter (see api.undelivered);
sends to chats the bot never saw fail like Telegram ("chat not found",
"bot can't initiate conversation with a user"); add_user(started=True)/add_chat() open them.
"""

from __future__ import annotations

from tests.helpers.fakeapi.buttons import Buttons
from tests.helpers.fakeapi.entities import auto_entities, format_text, parse_html, parse_markdown_v2
from tests.helpers.fakeapi.faults import Faults
from tests.helpers.fakeapi.files import Files
from tests.helpers.fakeapi.inspection import Inspection
from tests.helpers.fakeapi.members import Members
from tests.helpers.fakeapi.messages import Messages
from tests.helpers.fakeapi.profile import Profile
from tests.helpers.fakeapi.protocol import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_GROUP_ID,
    DEFAULT_SUPERGROUP_ID,
    DEFAULT_USER_ID,
    JSON,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    Call,
    CallRecord,
    Faulted,
    TelegramAPIError,
    utf16_len,
)
from tests.helpers.fakeapi.server import HTTPSide
from tests.helpers.fakeapi.state import ChatState
from tests.helpers.fakeapi.updates import Updates
from tests.helpers.fakeapi.webhook import Webhook

__all__ = [
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_GROUP_ID",
    "DEFAULT_SUPERGROUP_ID",
    "DEFAULT_USER_ID",
    "JSON",
    "MAX_CALLBACK_DATA",
    "MAX_CAPTION",
    "MAX_TEXT",
    "Call",
    "CallRecord",
    "FakeBotAPI",
    "Faulted",
    "TelegramAPIError",
    "auto_entities",
    "format_text",
    "parse_html",
    "parse_markdown_v2",
    "utf16_len",
]


class FakeBotAPI(HTTPSide, Inspection, Faults, Updates, Messages, Buttons, Members, Files, Profile, Webhook, ChatState):
    """A Telegram Bot API stand-in on 127.0.0.1 for tests that run the real PTB Application."""
