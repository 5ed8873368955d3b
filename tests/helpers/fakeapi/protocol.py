"""Wire-level pieces of the stand-in: constants, Telegram's error answers, call records, JSON helpers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple, TypeVar, cast

JSON = dict[str, Any]


_T = TypeVar("_T")


DEFAULT_USER_ID = 1001


DEFAULT_GROUP_ID = -4001


DEFAULT_SUPERGROUP_ID = -1001000004001


DEFAULT_CHANNEL_ID = -1002000004001


MAX_TEXT = 4096


MAX_CAPTION = 1024


MAX_CALLBACK_DATA = 64


MAX_INLINE_RESULTS = 50


MAX_DOWNLOAD = 20 * 1024 * 1024


UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)


# Telegram's default when allowed_updates was never set (or set to []).
DEFAULT_ALLOWED = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# Parameters whose form value is a plain string and must never be JSON-decoded.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "file_id",
        "language_code",
        "parse_mode",
        "action",
        "description",
        "short_description",
        "name",
        "next_offset",
        "business_connection_id",
        "title",
        "custom_title",
        "message_effect_id",
        "query",
        "emoji",
        "ip_address",
        "document",
        "photo",
        "voice",
        "audio",
        "video",
        "animation",
        "sticker",
        "thumbnail",
        "file_name",
    }
)


COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class TelegramAPIError(Exception):
    """An error answer of the stand-in: HTTP status, Telegram description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        """Keep status, description and parameters for the JSON error body."""
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        data: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def _bad(description: str, parameters: JSON | None = None) -> TelegramAPIError:
    """A 400 error with Telegram's 'Bad Request: ' prefix."""
    return TelegramAPIError(400, f"Bad Request: {description}", parameters)


def _forbidden(description: str) -> TelegramAPIError:
    """A 403 error with Telegram's 'Forbidden: ' prefix."""
    return TelegramAPIError(403, f"Forbidden: {description}")


class Call(NamedTuple):
    """One call the stand-in handled: canonical method name and decoded parameters."""

    method: str
    params: JSON


class Faulted(NamedTuple):
    """One call hit by an injected fault: kind is 'fail', 'drop' or 'delay'."""

    method: str
    params: JSON
    kind: str
    status: int | None


@dataclass
class CallRecord:
    """Full record of a call: what was asked and how the stand-in answered."""

    method: str
    params: JSON
    status: int
    result: Any = None
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    """An injected fault waiting for a matching call."""

    method: str
    kind: str
    status: int = 500
    description: str | None = None
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    seconds: float = 0.0
    times: int | None = 1
    when: Callable[[JSON], bool] | None = None


@dataclass
class _StoredFile:
    """A file the stand-in can serve through getFile and the file download URL."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    mime_type: str | None = None


@dataclass
class _Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


def _json_bytes(data: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _decode_value(key: str, value: str) -> Any:
    """Decode one form value: JSON for structured/numeric parameters, raw for text ones."""
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _deep_copy(data: _T) -> _T:
    """An independent copy of JSON-shaped data."""
    return cast("_T", json.loads(json.dumps(data)))


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """Substring by UTF-16 offset/length, as entities address text."""
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def _phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status, or ''."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
