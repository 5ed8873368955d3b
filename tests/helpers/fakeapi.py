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
strict_chats=True makes sends to chats the bot never saw fail like Telegram ("chat not found",
"bot can't initiate conversation with a user"); add_user(started=True)/add_chat() open them.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import http.client
import itertools
import json
import mimetypes
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
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
    raw_body: bytes | None = None


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


class _ParseError(Exception):
    """An entity parse error; becomes 'Bad Request: can't parse entities: ...'."""


# --------------------------------------------------------------------------------------------
# Entity parsing (parse_mode) and auto-detection for injected user text
# --------------------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)"
    r"\s*(/?)>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_:-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_CHARREF_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(src: str, index: int) -> int:
    """UTF-8 byte offset of a character index, as Telegram reports in parse errors."""
    return len(src[:index].encode("utf-8"))


def _unescape_charref(match: re.Match[str]) -> str:
    """Decode one HTML character reference Telegram supports."""
    ref = match.group(1)
    if ref in _NAMED_REFS:
        return _NAMED_REFS[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code < 0x110000 else ""


def parse_html(src: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into plain text and entities, strict like Telegram."""
    out: list[str] = []
    pos = 0
    entities: list[JSON] = []
    stack: list[tuple[str, int, dict[str, str], int]] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "<":
            m = _TAG_RE.match(src, i)
            if not m:
                name_m = re.match(r"</?([^\s>]*)", src[i:])
                name = name_m.group(1) if name_m else ""
                raise _ParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}')
            closing, name, attr_text, self_closing = m.groups()
            name = name.lower()
            if not closing:
                if name not in _HTML_TAGS or self_closing:
                    raise _ParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}')
                attrs = {
                    a.group(1).lower(): _CHARREF_RE.sub(_unescape_charref, (a.group(2) or "").strip("\"'"))
                    for a in _ATTR_RE.finditer(attr_text)
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, i)}')
                stack.append((name, pos, attrs, i))
            else:
                if not stack:
                    raise _ParseError(f"Unexpected end tag at byte offset {_byte_offset(src, i)}")
                open_name, start, attrs, _ = stack.pop()
                if open_name != name:
                    raise _ParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(src, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                _close_html_entity(open_name, start, pos, attrs, stack, entities)
            i = m.end()
            continue
        if ch == "&":
            m = _CHARREF_RE.match(src, i)
            if m:
                text = _unescape_charref(m)
                out.append(text)
                pos += utf16_len(text)
                i = m.end()
                continue
        out.append(ch)
        pos += utf16_len(ch)
        i += 1
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def _close_html_entity(
    name: str,
    start: int,
    end: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str], int]],
    entities: list[JSON],
) -> None:
    """Turn a closed HTML tag into an entity (code inside pre sets the pre language)."""
    if end <= start:
        return
    kind = _HTML_TAGS[name]
    if name == "code" and stack and stack[-1][0] == "pre" and stack[-1][1] == start:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language[len("language-") :]
            return
    entity: JSON = {"type": kind, "offset": start, "length": end - start}
    if kind == "text_link":
        href = attrs.get("href")
        if not href:
            return
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity = {
                "type": "text_mention",
                "offset": start,
                "length": end - start,
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": "User"},
            }
        else:
            entity["url"] = href
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    entities.append(entity)


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"}
_MD2_TYPES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def _md_scan_until(src: str, i: int, closer: str, escapable: str) -> tuple[str, int]:
    """Read literal text up to an unescaped closer; returns (text, index after closer)."""
    buf: list[str] = []
    while i < len(src):
        if src[i] == "\\" and i + 1 < len(src) and src[i + 1] in escapable:
            buf.append(src[i + 1])
            i += 2
            continue
        if src.startswith(closer, i):
            return "".join(buf), i + len(closer)
        buf.append(src[i])
        i += 1
    raise _ParseError("Can't find end of the entity")


def parse_markdown_v2(src: str) -> tuple[str, list[JSON]]:
    """Parse MarkdownV2 into plain text and entities, rejecting unescaped reserved characters."""
    out: list[str] = []
    pos = 0
    entities: list[JSON] = []
    stack: list[tuple[str, int, int]] = []
    quote_start: int | None = None
    i = 0
    n = len(src)

    def emit(text: str) -> None:
        nonlocal pos
        out.append(text)
        pos += utf16_len(text)

    while i < n:
        ch = src[i]
        line_start = i == 0 or src[i - 1] == "\n"
        if ch == "\\":
            if i + 1 < n and 0 < ord(src[i + 1]) < 127:
                emit(src[i + 1])
                i += 2
                continue
            raise _ParseError("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if ch == "`":
            start = pos
            if src.startswith("```", i):
                j = i + 3
                language = ""
                newline = src.find("\n", j)
                first = src[j:newline] if newline != -1 else ""
                if newline != -1 and first and not re.search(r"\s|`", first):
                    language = first
                    j = newline + 1
                body, i = _md_scan_until(src, j, "```", "`\\")
                emit(body)
                if pos > start:
                    entity: JSON = {"type": "pre", "offset": start, "length": pos - start}
                    if language:
                        entity["language"] = language
                    entities.append(entity)
                continue
            body, i = _md_scan_until(src, i + 1, "`", "`\\")
            emit(body)
            if pos > start:
                entities.append({"type": "code", "offset": start, "length": pos - start})
            continue
        if ch in "*_~" or src.startswith("||", i):
            marker = "__" if src.startswith("__", i) else "||" if ch == "|" else ch
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if pos > start:
                    entities.append({"type": _MD2_TYPES[marker], "offset": start, "length": pos - start})
            else:
                stack.append((marker, pos, i))
            i += len(marker)
            continue
        if ch == "[":
            stack.append(("[", pos, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "[" and src.startswith("(", i + 1):
            _, start, _ = stack.pop()
            url, i = _md_scan_until(src, i + 2, ")", ")\\")
            if pos > start:
                user = re.fullmatch(r"tg://user\?id=(\d+)", url)
                if user:
                    entities.append(
                        {
                            "type": "text_mention",
                            "offset": start,
                            "length": pos - start,
                            "user": {"id": int(user.group(1)), "is_bot": False, "first_name": "User"},
                        }
                    )
                else:
                    entities.append({"type": "text_link", "offset": start, "length": pos - start, "url": url})
            continue
        if ch == ">" and line_start:
            if quote_start is None:
                quote_start = pos
            i += 1
            continue
        if ch == "\n" and quote_start is not None and not src.startswith(">", i + 1):
            if pos > quote_start:
                entities.append({"type": "blockquote", "offset": quote_start, "length": pos - quote_start})
            quote_start = None
        if ch in _MD2_RESERVED:
            raise _ParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        emit(ch)
        i += 1
    if quote_start is not None and pos > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": pos - quote_start})
    if stack:
        marker, _, index = stack[0]
        raise _ParseError(f"Can't find end of {_MD2_NAMES[marker]} entity at byte offset {_byte_offset(src, index)}")
    return "".join(out), entities


def parse_markdown(src: str) -> tuple[str, list[JSON]]:
    """Parse legacy Markdown (*bold*, _italic_, `code`, ```pre```, [text](url))."""
    out: list[str] = []
    pos = 0
    entities: list[JSON] = []
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.append(src[i + 1])
            pos += 1
            i += 2
            continue
        if ch in "*_`[":
            start_index = i
            try:
                if src.startswith("```", i):
                    body, i = _md_scan_until(src, i + 3, "```", "")
                    kind, extra = "pre", {}
                elif ch == "[":
                    body, j = _md_scan_until(src, i + 1, "]", "")
                    if not src.startswith("(", j):
                        raise _ParseError("no url")
                    url, i = _md_scan_until(src, j + 1, ")", "")
                    kind, extra = "text_link", {"url": url}
                else:
                    body, i = _md_scan_until(src, i + 1, ch, "")
                    kind = {"*": "bold", "_": "italic", "`": "code"}[ch]
                    extra = {}
            except _ParseError:
                raise _ParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(src, start_index)}"
                ) from None
            length = utf16_len(body)
            if length:
                entities.append({"type": kind, "offset": pos, "length": length, **extra})
            out.append(body)
            pos += length
            continue
        out.append(ch)
        pos += utf16_len(ch)
        i += 1
    return "".join(out), entities


def _strip_entities(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace like Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[JSON] | None,
) -> tuple[str, list[JSON]]:
    """Apply parse_mode (or explicit entities) the way Telegram does before storing a message."""
    if entities is not None:
        parsed, found = text, list(entities)
    elif parse_mode:
        mode = parse_mode.lower()
        parsers = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
        if mode not in parsers:
            raise _bad(f"unsupported parse_mode {parse_mode}")
        try:
            parsed, found = parsers[mode](text)
        except _ParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
    else:
        parsed, found = text, []
    parsed, found = _strip_entities(parsed, found)
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return parsed, found


_AUTO_ENTITY_RES = (
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'，。！？]")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)


def auto_entities(text: str) -> list[JSON]:
    """Entities Telegram adds to a user's text by itself: /commands, @mentions, URLs, #hashtags."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_ENTITY_RES:
        for m in pattern.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), kind))
    spans.sort()
    return [{"type": kind, "offset": utf16_len(text[:s]), "length": utf16_len(text[s:e])} for s, e, kind in spans]


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections and handler threads for a clean stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api: FakeBotAPI) -> None:
        """Bind an ephemeral port on 127.0.0.1."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.open_sockets: set[socket.socket] = set()
        self.threads: list[threading.Thread] = []
        self.track_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve each connection in a tracked daemon thread."""
        with self.track_lock:
            self.open_sockets.add(request)
            self.threads = [t for t in self.threads if t.is_alive()]
            thread = threading.Thread(
                target=self.process_request_thread,
                args=(request, client_address),
                name="fakeapi-conn",
                daemon=True,
            )
            self.threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self.track_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep connection-level errors (client went away) off stderr."""

    def close_connections(self) -> None:
        """Wake handler threads blocked on keep-alive reads and wait for them to end."""
        with self.track_lock:
            sockets = list(self.open_sockets)
            threads = list(self.threads)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=2)


class _Handler(BaseHTTPRequestHandler):
    """Routes every request to FakeBotAPI._handle_http."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the stand-in records calls itself."""

    def do_POST(self) -> None:
        """Handle a Bot API call."""
        self.server.api._handle_http(self)

    def do_GET(self) -> None:
        """Handle a Bot API call by query string, or a file download."""
        self.server.api._handle_http(self)

    def setup(self) -> None:
        """Disable Nagle: small request/response pairs would otherwise stall ~40 ms each."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        """Write a complete response in one segment, ignoring a client that already left."""
        try:
            phrase = _STATUS_TEXT.get(status) or _phrase(status)
            head = (
                f"{self.protocol_version} {status} {phrase}\r\n"
                f"Server: FakeBotAPI\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1")
            self.wfile.write(head + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


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


# --------------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------------


class FakeBotAPI:
    """A Telegram Bot API stand-in on 127.0.0.1 for tests that run the real PTB Application."""

    def __init__(
        self,
        token: str = "123:ABC",
        username: str = "rolebot_test_bot",
        *,
        first_name: str = "RoleBot Test",
        privacy_mode: bool = True,
        strict_chats: bool = True,
        supports_inline_queries: bool = True,
    ) -> None:
        """Configure the bot identity; privacy_mode and strict_chats mimic real Telegram."""
        self.token = token
        self.username = username
        self.privacy_mode = privacy_mode
        self.strict_chats = strict_chats
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self._me: JSON = {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._webhook_thread: threading.Thread | None = None

        self.calls: list[Call] = []
        self.log: list[CallRecord] = []
        self.faulted: list[Faulted] = []
        self.undelivered: list[JSON] = []
        self.internal_errors: list[str] = []
        self.webhook_deliveries: list[tuple[int, int]] = []
        self.settings: dict[str, JSON] = {}
        self.profile: dict[tuple[str, str], str] = {}  # (description | short_description, language_code) → text

        self._faults: list[_Fault] = []
        self._custom: dict[str, Callable[[JSON], Any]] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(100001)
        self._allowed: frozenset[str] = DEFAULT_ALLOWED
        self._poll_generation = 0
        self._webhook: JSON | None = None

        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._bot_status: dict[int, str] = {}
        self._members: dict[tuple[int, int], JSON] = {}
        self._chat_users: dict[int, set[int]] = {}
        self._migrated: dict[int, int] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._callback_queries: dict[str, bool] = {}
        self._inline_queries: dict[str, bool] = {}
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._seq = 0

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotAPI:
        """Start listening (already bound when this returns) and serving in background threads."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server(self)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakeapi-serve",
            daemon=True,
        )
        self._serve_thread.start()
        self._webhook_thread = threading.Thread(target=self._webhook_worker, name="fakeapi-webhook", daemon=True)
        self._webhook_thread.start()
        return self

    def stop(self, check: bool = True) -> None:
        """Stop serving, release long polls and delays, close sockets; raise on internal errors."""
        server = self._server
        if server is None:
            return
        with self._cond:
            self._stop_event.set()
            self._cond.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        for thread in (self._serve_thread, self._webhook_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._server = None
        self._serve_thread = None
        self._webhook_thread = None
        if check and self.internal_errors:
            raise RuntimeError("FakeBotAPI internal errors:\n" + "\n".join(self.internal_errors))

    def __enter__(self) -> FakeBotAPI:
        """Start on entering a with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop(check=exc is None)

    async def __aenter__(self) -> FakeBotAPI:
        """Start on entering an async with-block."""
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving an async with-block."""
        self.stop(check=exc is None)

    @property
    def port(self) -> int:
        """The TCP port the stand-in listens on."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---------------------------------------------------------------- configuration

    def on(self, method: str, handler: Callable[[JSON], Any]) -> None:
        """Answer a method with handler(params) (return the result, raise TelegramAPIError)."""
        with self._lock:
            self._custom[method.lower()] = handler

    def set_member(self, chat_id: int, user_id: int, status: str = "member", **fields: Any) -> JSON:
        """Configure getChatMember: creator/administrator/member/restricted/left/kicked."""
        with self._lock:
            if user_id == self.bot_id:
                self._bot_status[chat_id] = status
            self._members[(chat_id, user_id)] = {"status": status, **fields}
            if status in ("creator", "administrator", "member", "restricted"):
                self._chat_users.setdefault(chat_id, set()).add(user_id)
            return self._member_object(chat_id, user_id)

    def set_bot_status(self, chat_id: int, status: str) -> None:
        """Set the bot's own membership in a chat (administrator disables privacy filtering)."""
        self.set_member(chat_id, self.bot_id, status)

    def block(self, user_id: int, blocked: bool = True) -> None:
        """Mark a user as having blocked the bot: sends answer 403 like Telegram."""
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(user_id)

    def add_user(
        self,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
        started: bool = False,
    ) -> JSON:
        """Register (or update) a user; started=True opens their private chat with the bot."""
        with self._lock:
            user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
            if last_name:
                user["last_name"] = last_name
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[user_id] = user
            if started:
                self._private_chat(user)
            return dict(user)

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        title: str | None = None,
        *,
        username: str | None = None,
        bot_status: str = "member",
    ) -> JSON:
        """Register a group, supergroup or channel the bot is in."""
        with self._lock:
            chat = self._group_chat(chat_id, chat_type, title, username)
            self._bot_status[chat_id] = bot_status
            return dict(chat)

    def add_file(
        self,
        content: bytes,
        file_name: str | None = None,
        *,
        kind: str = "documents",
        mime_type: str | None = None,
    ) -> JSON:
        """Store bytes for getFile and the file URL; returns file_id, file_unique_id, file_size."""
        with self._lock:
            n = next(self._file_counter)
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            stored = _StoredFile(
                file_id=f"BQACAgIAAxkBAAI{n:06d}{self.bot_id}",
                file_unique_id=f"AgAD{n:06d}",
                file_path=f"{kind}/file_{n}{suffix}",
                content=bytes(content),
                mime_type=mime_type,
            )
            self._files[stored.file_id] = stored
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
            }

    def file_content(self, file_id: str) -> bytes:
        """Bytes of a stored or uploaded file."""
        with self._lock:
            return self._files[file_id].content

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands currently set for a scope and language."""
        with self._lock:
            return list(self._commands.get(self._commands_key(scope, language_code), []))

    @property
    def webhook(self) -> JSON | None:
        """Current webhook settings, or None when polling."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    # ---------------------------------------------------------------- faults

    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int | None = 1,
        when: Callable[[JSON], bool] | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        """Answer the next `times` matching calls (None = forever) with an HTTP error."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add_fault(
            _Fault(
                method=method.lower(),
                kind="fail",
                status=status,
                description=description,
                retry_after=retry_after,
                migrate_to_chat_id=migrate_to_chat_id,
                times=times,
                when=when,
                raw_body=raw_body,
            )
        )

    def delay(
        self,
        method: str,
        seconds: float,
        times: int | None = 1,
        *,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Hold the next matching calls for `seconds` before answering normally."""
        self._add_fault(_Fault(method=method.lower(), kind="delay", seconds=seconds, times=times, when=when))

    def drop(
        self,
        method: str,
        times: int | None = 1,
        *,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Close the connection of the next matching calls without any response."""
        self._add_fault(_Fault(method=method.lower(), kind="drop", times=times, when=when))

    def clear_faults(self) -> None:
        """Remove all pending faults."""
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, params: JSON) -> _Fault | None:
        """Consume the first fault matching this call, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.method != method.lower():
                    continue
                if fault.when is not None and not fault.when(params):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
            return None

    # ---------------------------------------------------------------- inspection

    def calls_to(self, method: str) -> list[JSON]:
        """Parameters of every handled call to method (case-insensitive), oldest first."""
        with self._lock:
            return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def sent(
        self,
        chat_id: int | str | None = None,
        methods: Iterable[str] = ("sendMessage", "editMessageText", "editMessageReplyMarkup"),
    ) -> list[JSON]:
        """Params of successful sendMessage/edit calls, optionally for one chat."""
        wanted = {m.lower() for m in methods}
        with self._lock:
            return [
                r.params
                for r in self.log
                if r.method.lower() in wanted
                and r.error is None
                and (chat_id is None or str(r.params.get("chat_id")) == str(chat_id))
            ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts the bot sent with sendMessage, optionally for one chat."""
        return [p.get("text", "") for p in self.sent(chat_id, methods=("sendMessage",))]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """Current stored version of a message (bot's or user's)."""
        with self._lock:
            return _deep_copy(self._messages[(chat_id, message_id)])

    def bot_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Current versions of messages the bot sent, oldest first."""
        with self._lock:
            found = [
                m
                for (cid, _), m in self._messages.items()
                if m.get("from", {}).get("id") == self.bot_id and (chat_id is None or cid == chat_id)
            ]
            found.sort(key=lambda m: int(m.get("_seq", 0)))
            return [self._public(m) for m in found]

    def last_bot_message(self, chat_id: int | None = None) -> JSON:
        """The most recent message the bot sent (optionally in one chat)."""
        messages = self.bot_messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent no message (chat_id={chat_id})")
        return messages[-1]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by an offset."""
        with self._lock:
            return list(self._updates)

    def _matching(
        self,
        method: str,
        predicate: Callable[[JSON], bool] | None,
        since: int,
    ) -> list[JSON]:
        """Params of calls to method from index `since` that satisfy predicate."""
        with self._lock:
            return [
                c.params
                for c in self.calls[since:]
                if c.method.lower() == method.lower() and (predicate is None or predicate(c.params))
            ]

    def mark(self) -> int:
        """Current number of recorded calls, for wait_for(since=...)."""
        with self._lock:
            return len(self.calls)

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        since: int = 0,
    ) -> list[JSON]:
        """Await `count` matching calls to method (from call index since); return their params."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate, since)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._wait_failure(method, count, len(found), timeout))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        since: int = 0,
    ) -> list[JSON]:
        """Blocking wait_for for code outside the event loop (threads)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._matching(method, predicate, since)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._wait_failure(method, count, len(found), timeout))
                self._cond.wait(remaining)

    def _wait_failure(self, method: str, count: int, got: int, timeout: float) -> str:
        """A helpful timeout message listing what was called instead."""
        with self._lock:
            recent = [f"  {r.method} {r.status} {r.error or ''} {self._short(r.params)}" for r in self.log[-15:]]
            faults = [f"  {f.method} {f.kind} {f.status}" for f in self.faulted[-5:]]
        return (
            f"waited {timeout}s for {count} x {method}, got {got}. Recent calls:\n"
            + "\n".join(recent)
            + ("\nFaulted:\n" + "\n".join(faults) if faults else "")
        )

    @staticmethod
    def _short(params: JSON) -> str:
        """Abbreviated params for messages."""
        text = json.dumps(params, ensure_ascii=False)
        return text if len(text) < 160 else text[:157] + "..."

    # ---------------------------------------------------------------- HTTP entry point

    def _handle_http(self, handler: _Handler) -> None:
        """Parse one request, apply faults, dispatch, record and answer."""
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = urllib.parse.unquote(parsed.path)

        if path.startswith("/file/bot"):
            self._serve_file(handler, path[len("/file/bot") :])
            return
        m = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]*)", path)
        if not m:
            handler.reply(404, _json_bytes({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        token, raw_method = m.groups()
        if token != self.token:
            status = 401 if _TOKEN_SHAPE.match(token) else 404
            handler.reply(status, _json_bytes({"ok": False, "error_code": status, "description": _STATUS_TEXT[status]}))
            return
        try:
            params = self._parse_params(handler.headers.get("Content-Type", ""), body, parsed.query)
        except Exception as exc:
            handler.reply(400, _json_bytes(_bad(f"can't parse request: {exc}").body()))
            return
        uploads: dict[str, _Upload] = params.pop("\x00uploads", {})
        method = self._canonical(raw_method)

        fault = self._take_fault(method, params)
        if fault is not None:
            if fault.kind == "drop":
                self._record_fault(method, params, "drop", None)
                handler.close_connection = True
                try:
                    handler.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.kind == "fail":
                self._record_fault(method, params, "fail", fault.status)
                handler.reply(fault.status, self._fault_body(fault))
                return
            self._record_fault(method, params, "delay", None)
            self._stop_event.wait(fault.seconds)

        status, payload = self._dispatch(method, params, uploads)
        handler.reply(status, payload)

    def _canonical(self, raw: str) -> str:
        """Canonical camelCase name for a case-insensitive method name."""
        for name in self._builtin_methods():
            if name.lower() == raw.lower():
                return name
        return raw

    @classmethod
    def _builtin_methods(cls) -> list[str]:
        """Names of the Bot API methods implemented as _api_<name>."""
        return [n[len("_api_") :] for n in dir(cls) if n.startswith("_api_")]

    def _fault_body(self, fault: _Fault) -> bytes:
        """The error body of an injected failure."""
        if fault.raw_body is not None:
            return fault.raw_body
        description = fault.description
        if description is None:
            phrase = _STATUS_TEXT.get(fault.status, "Error")
            if fault.status == 429:
                description = f"Too Many Requests: retry after {fault.retry_after}"
            elif fault.status == 409:
                description = (
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            elif fault.migrate_to_chat_id is not None:
                description = "Bad Request: group chat was upgraded to a supergroup chat"
            else:
                description = phrase
        parameters: JSON = {}
        if fault.retry_after is not None:
            parameters["retry_after"] = fault.retry_after
        if fault.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = fault.migrate_to_chat_id
        return _json_bytes(TelegramAPIError(fault.status, description, parameters or None).body())

    def _record_fault(self, method: str, params: JSON, kind: str, status: int | None) -> None:
        """Note a faulted call and wake waiters."""
        with self._cond:
            self.faulted.append(Faulted(method, params, kind, status))
            self._cond.notify_all()

    def _parse_params(self, content_type: str, body: bytes, query: str) -> JSON:
        """Decode query string plus form, multipart or JSON body into typed params."""
        raw: dict[str, str] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        uploads: dict[str, _Upload] = {}
        ctype = content_type.lower()
        if ctype.startswith("application/json"):
            data = json.loads(body or b"{}")
            params: JSON = {k: _decode_value(k, v) for k, v in raw.items()}
            params.update(data)
            params["\x00uploads"] = uploads
            return params
        if ctype.startswith("multipart/form-data"):
            header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
                if filename is not None:
                    uploads[str(name)] = _Upload(filename, content, part.get_content_type())
                else:
                    raw[str(name)] = content.decode("utf-8")
        elif body:
            raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        params = {k: _decode_value(k, v) for k, v in raw.items()}
        params["\x00uploads"] = uploads
        return params

    def _dispatch(
        self,
        method: str,
        params: JSON,
        uploads: dict[str, _Upload],
    ) -> tuple[int, bytes]:
        """Run a method, record it, and build (status, body)."""
        custom = self._custom.get(method.lower())
        impl: Callable[..., Any] | None = getattr(self, f"_api_{method}", None)
        try:
            if custom is not None:
                result = custom(params)
            elif impl is None:
                raise TelegramAPIError(404, "Not Found: method not found")
            elif method in ("sendDocument", "sendPhoto"):
                result = impl(params, uploads)
            else:
                result = impl(params)
        except TelegramAPIError as exc:
            self._record(CallRecord(method, params, exc.status, error=exc.description))
            return exc.status, _json_bytes(exc.body())
        except Exception as exc:
            import traceback

            trace = traceback.format_exc()
            with self._lock:
                self.internal_errors.append(f"{method}: {exc!r}\n{trace}")
            self._record(CallRecord(method, params, 500, error=repr(exc)))
            return 500, _json_bytes(
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: fake: {exc!r}"}
            )
        self._record(CallRecord(method, params, 200, result=result))
        return 200, _json_bytes({"ok": True, "result": result})

    def _record(self, record: CallRecord) -> None:
        """Store a handled call and wake waiters."""
        with self._cond:
            self.log.append(record)
            self.calls.append(Call(record.method, record.params))
            self._cond.notify_all()

    def _serve_file(self, handler: _Handler, rest: str) -> None:
        """Serve GET /file/bot{token}/{file_path}."""
        token, _, file_path = rest.partition("/")
        with self._lock:
            stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        if token != self.token or stored is None:
            handler.reply(404, _json_bytes({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        with self._cond:
            self.log.append(CallRecord("download", {"file_path": file_path}, 200))
            self.calls.append(Call("download", {"file_path": file_path}))
            self._cond.notify_all()
        handler.reply(200, stored.content, stored.mime_type or "application/octet-stream")

    # ---------------------------------------------------------------- state helpers

    def _user_dict(self, user_id: int, first_name: str | None = None, **extra: Any) -> JSON:
        """The registered user, created or updated from the given fields."""
        with self._lock:
            user = self._users.get(user_id)
            if user is None or first_name is not None or any(v is not None for v in extra.values()):
                current = dict(user or {"id": user_id, "is_bot": False, "first_name": "Alice", "language_code": "en"})
                if first_name is not None:
                    current["first_name"] = first_name
                for key, value in extra.items():
                    if value is not None:
                        current[key] = value
                self._users[user_id] = current
                user = current
            return dict(user)

    def _private_chat(self, user: JSON) -> JSON:
        """The private chat with a user, opened as if they pressed Start."""
        chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user["id"]] = chat
        self._started.add(user["id"])
        return chat

    def _group_chat(
        self,
        chat_id: int,
        chat_type: str | None,
        title: str | None,
        username: str | None = None,
    ) -> JSON:
        """Register or fetch a group/supergroup/channel chat (chat_type None: keep or guess)."""
        if chat_type is None:
            known = self._chats.get(chat_id)
            chat_type = known["type"] if known else ("supergroup" if str(chat_id).startswith("-100") else "group")
        if chat_type not in ("group", "supergroup", "channel"):
            raise ValueError(f"not a group chat type: {chat_type!r}")
        if chat_id > 0:
            raise ValueError(f"group and channel chat ids are negative, got {chat_id}")
        if chat_id in self._migrated:
            raise ValueError(f"chat {chat_id} was migrated to {self._migrated[chat_id]}; use the new id")
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] != chat_type or (title and chat.get("title") != title):
            chat = {
                "id": chat_id,
                "type": chat_type,
                "title": title or (chat or {}).get("title") or f"Test {chat_type}",
            }
            if username:
                chat["username"] = username
            self._chats[chat_id] = chat
        default_status = "administrator" if chat_type == "channel" else "member"
        self._bot_status.setdefault(chat_id, default_status)
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        """Next message id in a chat (ids are per chat, shared by users and the bot)."""
        n = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = n
        return n

    def _store(self, message: JSON) -> JSON:
        """Keep the current version of a message for edits, replies and callbacks."""
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    @staticmethod
    def _public(message: JSON) -> JSON:
        """A deep copy of a stored message without internal keys."""
        copy = _deep_copy(message)
        copy.pop("_seq", None)
        return copy

    def _reply_copy(self, message: JSON) -> JSON:
        """A message as embedded in reply_to_message (no nested reply)."""
        copy = self._public(message)
        copy.pop("reply_to_message", None)
        return copy

    def _base_message(self, chat: JSON, sender: JSON | None, *, date: int | None = None) -> JSON:
        """message_id, date, chat and from for a new message in chat."""
        msg: JSON = {
            "message_id": self._new_message_id(chat["id"]),
            "date": int(time.time()) if date is None else date,
            "chat": dict(chat),
        }
        if sender is not None:
            msg["from"] = dict(sender)
        if chat["type"] == "channel":
            msg["sender_chat"] = dict(chat)
        return msg

    def _enqueue(self, kind: str, payload: JSON, deliver: bool = True) -> JSON:
        """Wrap payload in an update with the next update_id; queue it unless filtered out."""
        with self._cond:
            update = {"update_id": next(self._update_ids), kind: payload}
            if deliver:
                self._updates.append(update)
                self._cond.notify_all()
            else:
                self.undelivered.append(update)
            return _deep_copy(update)

    def inject(self, update: JSON) -> JSON:
        """Queue any hand-built update (update_id is assigned when missing)."""
        update = dict(update)
        kinds = [k for k in update if k != "update_id"]
        if len(kinds) != 1:
            raise ValueError(f"an update has exactly one payload field, got {kinds}")
        if "update_id" in update:
            with self._cond:
                self._updates.append(update)
                self._cond.notify_all()
            return update
        return self._enqueue(kinds[0], update[kinds[0]])

    def _privacy_allows(self, chat: JSON, message: JSON) -> bool:
        """Whether a group message reaches a bot in privacy mode."""
        if chat["type"] not in ("group", "supergroup") or not self.privacy_mode:
            return True
        if self._bot_status.get(chat["id"]) in ("administrator", "creator"):
            return True
        if not ({"text", "caption"} & message.keys()):
            return not any(k in message for k in ("sticker", "photo", "voice", "document")) or self._is_reply_to_bot(
                message
            )
        if self._is_reply_to_bot(message):
            return True
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities", []) + message.get("caption_entities", []):
            if entity["type"] != "bot_command":
                continue
            command = _utf16_slice(text, entity["offset"], entity["length"])
            _, _, target = command.partition("@")
            if not target or target.lower() == self.username.lower():
                return True
        return False

    def _is_reply_to_bot(self, message: JSON) -> bool:
        """Whether a message replies to one of the bot's messages."""
        reply = message.get("reply_to_message")
        return bool(reply and reply.get("from", {}).get("id") == self.bot_id)

    # ---------------------------------------------------------------- update builders

    def _compose(
        self,
        content: JSON,
        *,
        user_id: int,
        chat_id: int | None,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        chat_type: str,
        chat_title: str | None,
        reply_to: JSON | None,
        date: int | None,
        kind: str = "message",
    ) -> JSON:
        """Build, store and enqueue a user message of any content."""
        with self._cond:
            user = self._user_dict(
                user_id, first_name, last_name=last_name, username=username, language_code=language_code
            )
            if chat_type == "private":
                if chat_id not in (None, user_id):
                    raise ValueError("a private chat's id is the user's id")
                chat = self._private_chat(user)
            else:
                default = {"group": DEFAULT_GROUP_ID, "supergroup": DEFAULT_SUPERGROUP_ID}
                chat = self._group_chat(chat_id if chat_id is not None else default[chat_type], chat_type, chat_title)
                self._chat_users.setdefault(chat["id"], set()).add(user_id)
            message = self._base_message(chat, user, date=date)
            if reply_to is not None:
                reply_to = reply_to.get("message", reply_to)
                key = (reply_to["chat"]["id"], reply_to["message_id"])
                if key[0] != chat["id"]:
                    raise ValueError("reply_to must be a message of the same chat")
                original = self._messages.get(key, reply_to)
                message["reply_to_message"] = self._reply_copy(original)
            message.update(content)
            self._store(message)
            deliver = self._privacy_allows(chat, message)
            return self._enqueue(kind, self._public(message), deliver)

    def user_message(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        entities: list[JSON] | None = None,
        reply_to: JSON | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        date: int | None = None,
    ) -> JSON:
        """A text message from a user; /commands, @mentions, URLs and #tags get entities."""
        content: JSON = {"text": text}
        found = auto_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        return self._compose(
            content,
            user_id=user_id,
            chat_id=chat_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            chat_type=chat_type,
            chat_title=chat_title,
            reply_to=reply_to,
            date=date,
        )

    def edited_message(
        self,
        message: JSON,
        text: str,
        *,
        entities: list[JSON] | None = None,
        edit_date: int | None = None,
    ) -> JSON:
        """An edited_message update for a user's earlier message (update dict or message dict)."""
        original: JSON = message.get("message", message)
        with self._cond:
            key = (original["chat"]["id"], original["message_id"])
            stored = dict(self._messages.get(key, original))
            stored["text"] = text
            found = auto_entities(text) if entities is None else entities
            stored.pop("entities", None)
            if found:
                stored["entities"] = found
            stored["edit_date"] = int(time.time()) if edit_date is None else edit_date
            self._store(stored)
            channel = stored["chat"]["type"] == "channel"
            kind = "edited_channel_post" if channel else "edited_message"
            return self._enqueue(kind, self._public(stored), self._privacy_allows(stored["chat"], stored))

    def channel_post(
        self,
        text: str,
        *,
        chat_id: int = DEFAULT_CHANNEL_ID,
        chat_title: str = "Test channel",
        username: str | None = None,
        author_signature: str | None = None,
    ) -> JSON:
        """A channel_post update in a channel where the bot is an administrator."""
        with self._cond:
            chat = self._group_chat(chat_id, "channel", chat_title, username)
            message = self._base_message(chat, None)
            message["text"] = text
            found = auto_entities(text)
            if found:
                message["entities"] = found
            if author_signature:
                message["author_signature"] = author_signature
            self._store(message)
            return self._enqueue(
                "channel_post", self._public(message), self._bot_status.get(chat_id) in ("administrator", "creator")
            )

    def sticker(
        self,
        emoji: str = "👍",
        *,
        set_name: str | None = "TestPack",
        **who: Any,
    ) -> JSON:
        """A sticker message (who: user_id, chat_id, chat_type, first_name, ...)."""
        info = self.add_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", kind="stickers", mime_type="image/webp")
        sticker: JSON = {
            **info,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        if set_name:
            sticker["set_name"] = set_name
        return self._compose({"sticker": sticker}, **self._who(who))

    def photo(
        self,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        **who: Any,
    ) -> JSON:
        """A photo message with two sizes (both downloadable) and an optional caption."""
        sizes = []
        for w, h in ((90, max(1, 90 * height // max(width, 1))), (width, height)):
            info = self.add_file(content, "photo.jpg", kind="photos", mime_type="image/jpeg")
            sizes.append({**info, "width": w, "height": h})
        message: JSON = {"photo": sizes}
        self._add_caption(message, caption)
        return self._compose(message, **self._who(who))

    def voice(
        self,
        content: bytes = b"OggS\x00fake-voice",
        *,
        duration: int = 3,
        mime_type: str = "audio/ogg",
        **who: Any,
    ) -> JSON:
        """A voice message whose file can be downloaded."""
        info = self.add_file(content, "voice.oga", kind="voice", mime_type=mime_type)
        return self._compose({"voice": {**info, "duration": duration, "mime_type": mime_type}}, **self._who(who))

    def document(
        self,
        file_name: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        **who: Any,
    ) -> JSON:
        """A document message; getFile + download serve content."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        info = self.add_file(content, file_name, kind="documents", mime_type=mime)
        message: JSON = {"document": {**info, "file_name": file_name, "mime_type": mime}}
        self._add_caption(message, caption)
        return self._compose(message, **self._who(who))

    @staticmethod
    def _add_caption(message: JSON, caption: str | None) -> None:
        """Attach a caption with auto entities."""
        if caption:
            message["caption"] = caption
            found = auto_entities(caption)
            if found:
                message["caption_entities"] = found

    @staticmethod
    def _who(who: dict[str, Any]) -> dict[str, Any]:
        """Defaults for the sender/chat keywords of media helpers."""
        allowed = {
            "user_id",
            "chat_id",
            "first_name",
            "last_name",
            "username",
            "language_code",
            "chat_type",
            "chat_title",
            "reply_to",
            "date",
        }
        unknown = set(who) - allowed
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
        return {
            "user_id": DEFAULT_USER_ID,
            "chat_id": None,
            "first_name": None,
            "last_name": None,
            "username": None,
            "language_code": None,
            "chat_type": "private",
            "chat_title": None,
            "reply_to": None,
            "date": None,
            **who,
        }

    def _member_user(self, user: JSON | int) -> JSON:
        """A user dict from an id, a user dict, or the bot."""
        if isinstance(user, int):
            return dict(self.bot_user) if user == self.bot_id else self._user_dict(user)
        if user.get("id") == self.bot_id:
            return dict(self.bot_user)
        return self._user_dict(
            user["id"],
            user.get("first_name"),
            last_name=user.get("last_name"),
            username=user.get("username"),
            language_code=user.get("language_code"),
        )

    def new_chat_members(
        self,
        chat_id: int,
        users: Sequence[JSON | int],
        *,
        by_user_id: int | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
    ) -> JSON:
        """Service message for members joining; adding the bot also queues my_chat_member first."""
        with self._cond:
            members = [self._member_user(u) for u in users]
            if not members:
                raise ValueError("new_chat_members needs at least one user")
            prior = self._bot_status.get(chat_id, "left")
            chat = self._group_chat(chat_id, chat_type, chat_title)
            sender = self._member_user(by_user_id) if by_user_id is not None else members[0]
            for member in members:
                if member["id"] == self.bot_id:
                    self.my_chat_member(chat_id, prior, "member", by_user_id=sender["id"])
                else:
                    self._chat_users.setdefault(chat_id, set()).add(member["id"])
                    self._members.pop((chat_id, member["id"]), None)
            message = self._base_message(chat, sender)
            message["new_chat_members"] = members
            self._store(message)
            return self._enqueue("message", self._public(message))

    def my_chat_member(
        self,
        chat_id: int,
        old_status: str,
        new_status: str,
        *,
        by_user_id: int = DEFAULT_USER_ID,
    ) -> JSON:
        """A my_chat_member update: the bot's own status in a chat changed (also applied)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise ValueError(f"unknown chat {chat_id}: create it first (add_chat)")
            sender = dict(self.bot_user) if by_user_id == self.bot_id else self._user_dict(by_user_id)
            self._bot_status[chat_id] = old_status
            self._members.pop((chat_id, self.bot_id), None)
            old_member = self._member_object(chat_id, self.bot_id)
            self._bot_status[chat_id] = new_status
            new_member = self._member_object(chat_id, self.bot_id)
            payload: JSON = {
                "chat": dict(chat),
                "from": sender,
                "date": int(time.time()),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            }
            return self._enqueue("my_chat_member", payload)

    def left_chat_member(
        self,
        chat_id: int,
        user: JSON | int,
        *,
        by_user_id: int | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
    ) -> JSON:
        """The service message for a member leaving or being removed (the bot: kicked)."""
        with self._cond:
            member = self._member_user(user)
            chat = self._group_chat(chat_id, chat_type, chat_title)
            sender = self._member_user(by_user_id) if by_user_id is not None else member
            message = self._base_message(chat, sender)
            message["left_chat_member"] = member
            self._store(message)
            update = self._enqueue("message", self._public(message))
            if member["id"] == self.bot_id:
                self._bot_status[chat_id] = "kicked" if sender["id"] != self.bot_id else "left"
            else:
                self._chat_users.get(chat_id, set()).discard(member["id"])
                self._members[(chat_id, member["id"])] = {
                    "status": "kicked" if by_user_id not in (None, member["id"]) else "left"
                }
            return update

    def migrate(
        self,
        chat_id: int,
        new_chat_id: int | None = None,
        *,
        by_user_id: int = DEFAULT_USER_ID,
    ) -> list[JSON]:
        """Upgrade a group to a supergroup: both service message updates (old chat, new chat)."""
        with self._cond:
            old = self._chats.get(chat_id)
            if old is None or old["type"] != "group":
                old = self._group_chat(chat_id, "group", None)
            new_id = new_chat_id if new_chat_id is not None else int(f"-100{abs(chat_id)}")
            sender = self._user_dict(by_user_id)
            first = self._base_message(old, sender)
            first["migrate_to_chat_id"] = new_id
            self._store(first)
            self._migrated[chat_id] = new_id
            new_chat: JSON = {"id": new_id, "type": "supergroup", "title": old["title"]}
            self._chats[new_id] = new_chat
            self._bot_status[new_id] = self._bot_status.get(chat_id, "member")
            self._chat_users[new_id] = set(self._chat_users.get(chat_id, set()))
            for (cid, uid), member in list(self._members.items()):
                if cid == chat_id:
                    self._members[(new_id, uid)] = member
            second = self._base_message(new_chat, sender)
            second["migrate_from_chat_id"] = chat_id
            self._store(second)
            return [self._enqueue("message", self._public(first)), self._enqueue("message", self._public(second))]

    def callback(
        self,
        data: str,
        *,
        message: JSON | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        language_code: str | None = None,
        inline_message_id: str | None = None,
        check: bool = True,
    ) -> JSON:
        """A button press on a bot message (default: the bot's last message to user_id)."""
        with self._cond:
            user = self._user_dict(user_id, first_name, language_code=language_code)
            query_id = str(next(self._query_ids))
            query: JSON = {"id": query_id, "from": user, "data": data}
            if inline_message_id is not None:
                query["inline_message_id"] = inline_message_id
                query["chat_instance"] = str(-abs(hash(inline_message_id)) % 10**18)
            else:
                if message is None:
                    message = self.last_bot_message(user_id)
                message = message.get("message", message)
                key = (message["chat"]["id"], message["message_id"])
                current = self._messages.get(key)
                if current is None:
                    raise ValueError(f"unknown message {key}")
                if check:
                    offered = [
                        b.get("callback_data")
                        for row in current.get("reply_markup", {}).get("inline_keyboard", [])
                        for b in row
                    ]
                    if data not in offered:
                        raise ValueError(
                            f"message {key} has no button with callback_data {data!r} "
                            f"(offered: {offered}); pass check=False to send it anyway"
                        )
                query["message"] = self._public(current)
                query["chat_instance"] = str(abs(key[0]) * 7919 % 10**12 + 10**12)
            self._callback_queries[query_id] = False
            return self._enqueue("callback_query", query)

    def inline_query(
        self,
        query: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        language_code: str | None = None,
        offset: str = "",
        chat_type: str | None = "sender",
    ) -> JSON:
        """An inline_query update (the bot must support inline mode)."""
        if len(query) > 256:
            raise ValueError("inline queries are at most 256 characters")
        with self._cond:
            user = self._user_dict(user_id, first_name, language_code=language_code)
            query_id = str(next(self._query_ids))
            payload: JSON = {"id": query_id, "from": user, "query": query, "offset": offset}
            if chat_type:
                payload["chat_type"] = chat_type
            self._inline_queries[query_id] = False
            return self._enqueue("inline_query", payload)

    # ---------------------------------------------------------------- chat resolution

    def _resolve_chat_id(self, raw: Any) -> int:
        """A chat id from an int, numeric string or @username."""
        if isinstance(raw, bool) or raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, int):
            return raw
        text = str(raw)
        if text.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == text[1:].lower():
                    return int(chat["id"])
            raise _bad("chat not found")
        try:
            return int(text)
        except ValueError:
            raise _bad("chat not found") from None

    def _chat_for_read(self, raw: Any) -> JSON:
        """A known chat (for getChat/getChatMember), honouring migration."""
        chat_id = self._resolve_chat_id(raw)
        if chat_id in self._migrated:
            raise _bad("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self._migrated[chat_id]})
        chat = self._chats.get(chat_id)
        if chat is None:
            if not self.strict_chats:
                return self._lenient_chat(chat_id)
            raise _bad("chat not found")
        return chat

    def _lenient_chat(self, chat_id: int) -> JSON:
        """With strict_chats=False, invent a chat for an unknown id."""
        if chat_id > 0:
            return self._private_chat(self._user_dict(chat_id))
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        return self._group_chat(chat_id, chat_type, None)

    def _chat_for_send(self, raw: Any) -> JSON:
        """A chat the bot may post into, or the Telegram error explaining why not."""
        chat_id = self._resolve_chat_id(raw)
        if chat_id in self._migrated:
            raise _bad("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            raise _forbidden("bot was blocked by the user")
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id in self._users and chat_id > 0 and self.strict_chats:
                raise _forbidden("bot can't initiate conversation with a user")
            if not self.strict_chats:
                return self._lenient_chat(chat_id)
            raise _bad("chat not found")
        if chat["type"] == "private":
            if self._users.get(chat_id, {}).get("is_bot"):
                raise _forbidden("bot can't send messages to bots")
            return chat
        status = self._bot_status.get(chat_id, "member")
        kind = (
            "supergroup chat"
            if chat["type"] == "supergroup"
            else ("group chat" if chat["type"] == "group" else "channel chat")
        )
        if status == "kicked":
            raise _forbidden(f"bot was kicked from the {kind}")
        if status == "left":
            raise _forbidden(f"bot is not a member of the {kind}")
        if chat["type"] == "channel" and status not in ("administrator", "creator"):
            raise _bad("need administrator rights in the channel chat")
        return chat

    # ---------------------------------------------------------------- validation helpers

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        """Validate reply_markup; return it when it is an inline keyboard (echoed back)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
            actions = (
                "url",
                "callback_data",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "web_app",
                "login_url",
                "callback_game",
                "pay",
                "copy_text",
            )
            for row in rows:
                for button in row:
                    if not button.get("text"):
                        raise _bad("text buttons are unallowed in the inline keyboard")
                    present = [a for a in actions if a in button]
                    if len(present) != 1:
                        raise _bad("text buttons are unallowed in the inline keyboard")
                    if "callback_data" in button:
                        size = len(str(button["callback_data"]).encode("utf-8"))
                        if not 1 <= size <= MAX_CALLBACK_DATA:
                            raise _bad("BUTTON_DATA_INVALID")
                    if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                        raise _bad(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
            return markup
        if "keyboard" in markup:
            for row in markup["keyboard"]:
                for button in row:
                    text = button if isinstance(button, str) else button.get("text")
                    if not text:
                        raise _bad("keyboard button text must be non-empty")
        return None

    def _formatted(
        self,
        params: JSON,
        text_key: str,
        limit: int,
        entities_key: str,
    ) -> tuple[str, list[JSON]]:
        """Text and entities after parse_mode, with Telegram's emptiness and length checks."""
        raw = params.get(text_key)
        text, entities = format_text(
            "" if raw is None else str(raw), params.get("parse_mode"), params.get(entities_key)
        )
        if text_key == "text" and not text:
            raise _bad("message text is empty")
        if utf16_len(text) > limit:
            raise _bad("message is too long" if text_key == "text" else "message caption is too long")
        return text, entities

    def _reply_target(self, params: JSON, chat: JSON) -> JSON | None:
        """The message a send replies to, from reply_parameters or reply_to_message_id."""
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not reply:
            return None
        target_chat = chat["id"]
        if reply.get("chat_id") is not None:
            target_chat = self._resolve_chat_id(reply["chat_id"])
        original = self._messages.get((target_chat, int(reply["message_id"])))
        if original is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        return self._reply_copy(original)

    def _bot_message(self, chat: JSON, params: JSON, content: JSON) -> JSON:
        """Create, store and return a message the bot sent."""
        reply = self._reply_target(params, chat)
        message = self._base_message(chat, self.bot_user)
        if params.get("message_thread_id") is not None and chat["type"] == "supergroup":
            message["message_thread_id"] = params["message_thread_id"]
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        if params.get("link_preview_options") and "text" in content:
            message["link_preview_options"] = params["link_preview_options"]
        if params.get("protect_content"):
            message["has_protected_content"] = True
        self._seq += 1
        message["_seq"] = self._seq
        self._store(message)
        return self._public(message)

    def _editable(self, params: JSON) -> JSON | None:
        """The stored bot message an edit targets (None for inline_message_id edits)."""
        if params.get("inline_message_id"):
            return None
        if params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if chat_id in self._migrated:
            raise _bad("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id not in self._chats:
            raise _bad("chat not found")
        message = self._messages.get((chat_id, int(params["message_id"])))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return message

    @staticmethod
    def _commands_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
        """Storage key for a command list."""
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    def _member_object(self, chat_id: int, user_id: int) -> JSON:
        """A complete ChatMember object for (chat, user)."""
        user = dict(self.bot_user) if user_id == self.bot_id else self._user_dict(user_id)
        override = self._members.get((chat_id, user_id), {})
        if user_id == self.bot_id:
            status = override.get("status") or self._bot_status.get(chat_id, "member")
        else:
            status = override.get("status", "member")
        fields = {k: v for k, v in override.items() if k != "status"}
        chat_type = self._chats.get(chat_id, {}).get("type", "supergroup")
        base: JSON
        if status == "creator":
            base = {"is_anonymous": False}
        elif status == "administrator":
            base = {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": True,
                "can_edit_stories": True,
                "can_delete_stories": True,
            }
            if chat_type == "channel":
                base.update(can_post_messages=True, can_edit_messages=True)
            else:
                base.update(can_pin_messages=True)
                if chat_type == "supergroup":
                    base.update(can_manage_topics=False)
        elif status == "restricted":
            base = {
                "is_member": True,
                "can_send_messages": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_manage_topics": False,
                "can_react_to_messages": False,
                "can_edit_tag": False,
                "until_date": 0,
            }
        elif status == "kicked":
            base = {"until_date": 0}
        elif status in ("member", "left"):
            base = {}
        else:
            raise ValueError(f"unknown chat member status {status!r}")
        return {"status": status, "user": user, **base, **fields}

    # ---------------------------------------------------------------- Bot API methods

    def _api_getMe(self, params: JSON) -> JSON:
        """getMe: the bot's User with its capabilities."""
        return dict(self._me)

    def _api_logOut(self, params: JSON) -> bool:
        """logOut: always succeeds."""
        return True

    def _api_close(self, params: JSON) -> bool:
        """close: always succeeds."""
        return True

    def _api_deleteWebhook(self, params: JSON) -> bool:
        """deleteWebhook: remove the webhook; drop_pending_updates clears the queue."""
        with self._cond:
            self._webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._cond.notify_all()
        return True

    def _api_setWebhook(self, params: JSON) -> bool:
        """setWebhook: empty url removes it; updates are then POSTed to url (http allowed)."""
        url = params.get("url") or ""
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = None
                return True
            if not re.match(r"^https?://", url):
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            secret = params.get("secret_token")
            if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
                raise _bad("secret token contains unallowed characters")
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "max_connections": params.get("max_connections", 40),
                "allowed_updates": params.get("allowed_updates"),
            }
            if params.get("allowed_updates") is not None:
                self._allowed = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
            self._cond.notify_all()
        return True

    def _api_getWebhookInfo(self, params: JSON) -> JSON:
        """getWebhookInfo: url ('' when polling) and pending count."""
        with self._lock:
            info: JSON = {
                "url": self._webhook["url"] if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook:
                info["max_connections"] = self._webhook["max_connections"]
            return info

    def _deliverable(self) -> list[JSON]:
        """Pending updates of allowed types."""
        return [u for u in self._updates if next(k for k in u if k != "update_id") in self._allowed]

    def _api_getUpdates(self, params: JSON) -> list[JSON]:
        """getUpdates: confirm below offset, then long-poll up to timeout seconds."""
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        timeout = max(0.0, float(params.get("timeout") or 0))
        with self._cond:
            if self._webhook is not None:
                raise TelegramAPIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if params.get("allowed_updates") is not None:
                self._allowed = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            deadline = time.monotonic() + timeout
            while True:
                if self._poll_generation != generation:
                    raise TelegramAPIError(
                        409,
                        "Conflict: terminated by other getUpdates "
                        "request; make sure that only one bot instance "
                        "is running",
                    )
                batch = self._deliverable()[:limit]
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stop_event.is_set():
                    return _deep_copy(batch)
                self._cond.wait(remaining)

    def _api_sendMessage(self, params: JSON) -> JSON:
        """sendMessage: parse entities, validate markup, store and return the Message."""
        with self._lock:
            chat = self._chat_for_send(params.get("chat_id"))
            text, entities = self._formatted(params, "text", MAX_TEXT, "entities")
            content: JSON = {"text": text}
            if entities:
                content["entities"] = entities
            return self._bot_message(chat, params, content)

    def _api_editMessageText(self, params: JSON) -> JSON | bool:
        """editMessageText: errors for missing/foreign/unchanged messages; markup is replaced."""
        with self._lock:
            message = self._editable(params)
            text, entities = self._formatted(params, "text", MAX_TEXT, "entities")
            markup = self._check_markup(params.get("reply_markup"))
            if message is None:
                return True
            if (
                message.get("text") == text
                and message.get("entities", []) == entities
                and message.get("reply_markup") == markup
            ):
                raise _bad(NOT_MODIFIED)
            if "text" not in message:
                raise _bad("there is no text in the message to edit")
            updated = dict(message)
            updated["text"] = text
            updated.pop("entities", None)
            updated.pop("reply_markup", None)
            if entities:
                updated["entities"] = entities
            if markup is not None:
                updated["reply_markup"] = markup
            updated["edit_date"] = int(time.time())
            self._store(updated)
            return self._public(updated)

    def _api_editMessageReplyMarkup(self, params: JSON) -> JSON | bool:
        """editMessageReplyMarkup: replace (or remove) the inline keyboard."""
        with self._lock:
            message = self._editable(params)
            markup = self._check_markup(params.get("reply_markup"))
            if message is None:
                return True
            if message.get("reply_markup") == markup:
                raise _bad(NOT_MODIFIED)
            updated = dict(message)
            updated.pop("reply_markup", None)
            if markup is not None:
                updated["reply_markup"] = markup
            updated["edit_date"] = int(time.time())
            self._store(updated)
            return self._public(updated)

    def _api_deleteMessage(self, params: JSON) -> bool:
        """deleteMessage: remove a stored message."""
        with self._lock:
            chat_id = self._resolve_chat_id(params.get("chat_id"))
            key = (chat_id, int(params.get("message_id") or 0))
            if key not in self._messages:
                raise _bad("message to delete not found")
            message = self._messages[key]
            if (
                message.get("from", {}).get("id") != self.bot_id
                and self._chats.get(chat_id, {}).get("type") != "private"
                and self._bot_status.get(chat_id) not in ("administrator", "creator")
            ):
                raise _bad("message can't be deleted")
            del self._messages[key]
            return True

    def _api_answerCallbackQuery(self, params: JSON) -> bool:
        """answerCallbackQuery: each query id can be answered once."""
        with self._lock:
            query_id = str(params.get("callback_query_id") or "")
            if self._callback_queries.get(query_id, True):
                raise _bad(QUERY_TOO_OLD)
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise _bad("MESSAGE_TOO_LONG")
            self._callback_queries[query_id] = True
            return True

    def _api_answerInlineQuery(self, params: JSON) -> bool:
        """answerInlineQuery: ≤ 50 results with unique ids, each query answered once."""
        with self._lock:
            query_id = str(params.get("inline_query_id") or "")
            if self._inline_queries.get(query_id, True):
                raise _bad(QUERY_TOO_OLD)
            results = params.get("results")
            if not isinstance(results, list):
                raise _bad("can't parse inline query results JSON object")
            if len(results) > MAX_INLINE_RESULTS:
                raise _bad("RESULTS_TOO_MUCH")
            seen: set[str] = set()
            for result in results:
                rid = str(result.get("id", ""))
                if not result.get("type") or not 1 <= len(rid.encode("utf-8")) <= 64:
                    raise _bad("RESULT_ID_INVALID")
                if rid in seen:
                    raise _bad("RESULT_ID_DUPLICATE")
                seen.add(rid)
                self._check_markup(result.get("reply_markup"))
                content = result.get("input_message_content")
                if isinstance(content, dict) and "message_text" in content:
                    format_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
            if len(str(params.get("next_offset") or "").encode("utf-8")) > 64:
                raise _bad("NEXT_OFFSET_INVALID")
            self._inline_queries[query_id] = True
            return True

    def _api_setMyCommands(self, params: JSON) -> bool:
        """setMyCommands: validate names (lowercase a-z0-9_, ≤ 32) and descriptions."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", ""))
            if not COMMAND_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description must be non-empty")
        with self._lock:
            self._commands[self._commands_key(params.get("scope"), params.get("language_code"))] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _api_deleteMyCommands(self, params: JSON) -> bool:
        """deleteMyCommands: forget the list for scope and language."""
        with self._lock:
            key = self._commands_key(params.get("scope"), params.get("language_code"))
            self._commands.pop(key, None)
        return True

    def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        """getMyCommands: the list for exactly this scope and language."""
        return self.commands(params.get("scope"), params.get("language_code") or "")

    def _store_setting(self, name: str, params: JSON) -> bool:
        """Remember a bot-profile setting."""
        with self._lock:
            self.settings[name] = dict(params)
        return True

    def _profile_text(self, name: str, params: JSON, limit: int) -> bool:
        """Store a description per language code ('' is the default), as Telegram does; ≤ limit characters."""
        text = str(params.get(name) or "")
        if len(text) > limit:
            raise _bad(f"{name} is too long")
        with self._lock:
            self.profile[(name, str(params.get("language_code") or ""))] = text
        return self._store_setting(name, params)

    def _api_setMyDescription(self, params: JSON) -> bool:
        """setMyDescription: per language, ≤ 512 characters; the last call is also in settings."""
        return self._profile_text("description", params, 512)

    def _api_setMyShortDescription(self, params: JSON) -> bool:
        """setMyShortDescription: per language, ≤ 120 characters; the last call is also in settings."""
        return self._profile_text("short_description", params, 120)

    def _api_getMyDescription(self, params: JSON) -> JSON:
        """getMyDescription: the text for exactly this language code ('' when none was set)."""
        with self._lock:
            return {"description": self.profile.get(("description", str(params.get("language_code") or "")), "")}

    def _api_getMyShortDescription(self, params: JSON) -> JSON:
        """getMyShortDescription: the text for exactly this language code ('' when none was set)."""
        with self._lock:
            key = ("short_description", str(params.get("language_code") or ""))
            return {"short_description": self.profile.get(key, "")}

    def _api_setMyName(self, params: JSON) -> bool:
        """setMyName: stored in settings."""
        return self._store_setting("name", params)

    def _api_setChatMenuButton(self, params: JSON) -> bool:
        """setChatMenuButton: stored in settings."""
        return self._store_setting("menu_button", params)

    def _api_getChatMember(self, params: JSON) -> JSON:
        """getChatMember: configured via set_member; defaults from what the chat has seen."""
        with self._lock:
            chat = self._chat_for_read(params.get("chat_id"))
            user_id = int(params.get("user_id") or 0)
            if user_id != self.bot_id and user_id not in self._users:
                raise _bad("user not found")
            if chat["type"] == "private":
                if user_id not in (chat["id"], self.bot_id):
                    raise _bad("user not found")
                return self._member_object(chat["id"], user_id)
            if (chat["id"], user_id) not in self._members and user_id != self.bot_id:
                if user_id not in self._chat_users.get(chat["id"], set()):
                    return {"status": "left", "user": self._user_dict(user_id)}
            return self._member_object(chat["id"], user_id)

    def _api_getChatAdministrators(self, params: JSON) -> list[JSON]:
        """getChatAdministrators: creator and administrators configured with set_member."""
        with self._lock:
            chat = self._chat_for_read(params.get("chat_id"))
            if chat["type"] == "private":
                raise _bad("there are no administrators in the private chat")
            admins = [
                self._member_object(cid, uid)
                for (cid, uid), m in self._members.items()
                if cid == chat["id"] and m.get("status") in ("creator", "administrator")
            ]
            return admins

    def _api_getChatMemberCount(self, params: JSON) -> int:
        """getChatMemberCount: members seen plus the bot."""
        with self._lock:
            chat = self._chat_for_read(params.get("chat_id"))
            if chat["type"] == "private":
                return 2
            return len(self._chat_users.get(chat["id"], set())) + 1

    def _api_getChat(self, params: JSON) -> JSON:
        """getChat: a complete ChatFullInfo."""
        with self._lock:
            chat = self._chat_for_read(params.get("chat_id"))
            info: JSON = {
                **chat,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
            if chat["type"] in ("group", "supergroup"):
                info["permissions"] = {
                    "can_send_messages": True,
                    "can_send_audios": True,
                    "can_send_documents": True,
                    "can_send_photos": True,
                    "can_send_videos": True,
                    "can_send_video_notes": True,
                    "can_send_voice_notes": True,
                    "can_send_polls": True,
                    "can_send_other_messages": True,
                    "can_add_web_page_previews": True,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                }
            return info

    def _api_sendChatAction(self, params: JSON) -> bool:
        """sendChatAction: valid action into a chat the bot may write to."""
        with self._lock:
            self._chat_for_send(params.get("chat_id"))
            if params.get("action") not in CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            return True

    def _api_leaveChat(self, params: JSON) -> bool:
        """leaveChat: the bot is no longer a member afterwards."""
        with self._lock:
            chat = self._chat_for_read(params.get("chat_id"))
            if chat["type"] == "private":
                raise _bad("chat member status can't be changed in private chats")
            self._bot_status[chat["id"]] = "left"
            return True

    def _api_getFile(self, params: JSON) -> JSON:
        """getFile: file_path for a stored file (download from base_file_url)."""
        with self._lock:
            stored = self._files.get(str(params.get("file_id") or ""))
            if stored is None:
                raise _bad("invalid file_id")
            if len(stored.content) > MAX_DOWNLOAD:
                raise _bad("file is too big")
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
                "file_path": stored.file_path,
            }

    def _upload(self, params: JSON, uploads: dict[str, _Upload], key: str, kind: str) -> JSON:
        """Resolve a file parameter (upload, attach:// or an existing file_id) to file info."""
        value = params.get(key)
        upload = uploads.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
        if upload is not None:
            info = self.add_file(upload.content, upload.filename, kind=kind, mime_type=upload.content_type)
            return {**info, "file_name": upload.filename, "mime_type": upload.content_type}
        if isinstance(value, str) and value in self._files:
            stored = self._files[value]
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
            }
        raise _bad("wrong file identifier/HTTP URL specified")

    def _media_message(self, params: JSON, content: JSON) -> JSON:
        """Common part of sendDocument/sendPhoto: caption, chat checks, storing."""
        chat = self._chat_for_send(params.get("chat_id"))
        if params.get("caption"):
            caption, entities = self._formatted(params, "caption", MAX_CAPTION, "caption_entities")
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._bot_message(chat, params, content)

    def _api_sendDocument(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        """sendDocument: multipart upload or file_id."""
        with self._lock:
            info = self._upload(params, uploads, "document", "documents")
            return self._media_message(params, {"document": info})

    def _api_sendPhoto(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        """sendPhoto: multipart upload or file_id."""
        with self._lock:
            info = self._upload(params, uploads, "photo", "photos")
            info.pop("file_name", None)
            info.pop("mime_type", None)
            return self._media_message(params, {"photo": [{**info, "width": 800, "height": 600}]})

    # ---------------------------------------------------------------- webhook delivery

    def _webhook_worker(self) -> None:
        """POST pending updates one at a time to the webhook URL; confirm on 2xx."""
        while True:
            with self._cond:
                while not self._stop_event.is_set() and not (self._webhook and self._deliverable()):
                    self._cond.wait(0.5)
                if self._stop_event.is_set():
                    return
                assert self._webhook is not None
                url = self._webhook["url"]
                secret = self._webhook.get("secret_token")
                update = self._deliverable()[0]
            status = self._post_update(url, update, secret)
            with self._cond:
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                    self._cond.notify_all()
                    continue
            self._stop_event.wait(0.2)

    @staticmethod
    def _post_update(url: str, update: JSON, secret: str | None) -> int:
        """POST one update as JSON; 0 when the connection fails."""
        parts = urllib.parse.urlsplit(url)
        conn_cls: type[http.client.HTTPConnection] = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            conn.request("POST", parts.path or "/", body=_json_bytes(update), headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        except OSError:
            return 0
        finally:
            conn.close()


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
