"""Chats and users the stand-in knows, stored messages, and where the bot may post."""

from __future__ import annotations

import itertools
import threading
import time
from typing import TYPE_CHECKING, Any

from tests.helpers.fakeapi.protocol import (
    DEFAULT_ALLOWED,
    DEFAULT_USER_ID,
    JSON,
    Call,
    CallRecord,
    Faulted,
    _bad,
    _deep_copy,
    _Fault,
    _forbidden,
    _StoredFile,
    _utf16_slice,
)

if TYPE_CHECKING:
    from tests.helpers.fakeapi.server import _Server


class ChatState:
    """Chats and users the stand-in knows, stored messages, and where the bot may post."""

    def __init__(
        self,
        token: str = "123:ABC",
        username: str = "rolebot_test_bot",
        *,
        first_name: str = "RoleBot Test",
        privacy_mode: bool = True,
        supports_inline_queries: bool = True,
    ) -> None:
        """Configure the bot identity; privacy_mode mimics real Telegram."""
        self.token = token
        self.username = username
        self.privacy_mode = privacy_mode
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
        self.profile: dict[tuple[str, str], str] = {}  # (description | short_description, language_code) → text

        self._faults: list[_Fault] = []
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

    def add_user(
        self,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> JSON:
        """Register (or update) a user; started=True opens their private chat with the bot."""
        with self._lock:
            user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
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
        bot_status: str = "member",
    ) -> JSON:
        """Register a group, supergroup or channel the bot is in."""
        with self._lock:
            chat = self._group_chat(chat_id, chat_type, title)
            self._bot_status[chat_id] = bot_status
            return dict(chat)

    def block(self, user_id: int, blocked: bool = True) -> None:
        """Mark a user as having blocked the bot: sends answer 403 like Telegram."""
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(user_id)

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

    def _resolve_chat_id(self, raw: Any) -> int:
        """A chat id from an int or a numeric string."""
        if isinstance(raw, bool) or raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, int):
            return raw
        text = str(raw)
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
            raise _bad("chat not found")
        return chat

    def _chat_for_send(self, raw: Any) -> JSON:
        """A chat the bot may post into, or the Telegram error explaining why not."""
        chat_id = self._resolve_chat_id(raw)
        if chat_id in self._migrated:
            raise _bad("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            raise _forbidden("bot was blocked by the user")
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id in self._users and chat_id > 0:
                raise _forbidden("bot can't initiate conversation with a user")
            raise _bad("chat not found")
        if chat["type"] == "private":
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
