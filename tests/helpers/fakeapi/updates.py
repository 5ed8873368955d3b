"""User text messages as updates, and getUpdates long polling with offset confirmation."""

from __future__ import annotations

import time

from tests.helpers.fakeapi.entities import auto_entities
from tests.helpers.fakeapi.protocol import (
    DEFAULT_ALLOWED,
    DEFAULT_CHANNEL_ID,
    DEFAULT_GROUP_ID,
    DEFAULT_SUPERGROUP_ID,
    DEFAULT_USER_ID,
    JSON,
    TelegramAPIError,
    _deep_copy,
)

# the user Telegram puts in `from` when an admin posts anonymously, as the group
ANONYMOUS_ADMIN: JSON = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


class Updates:
    """User text messages as updates, and getUpdates long polling with offset confirmation."""

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
        as_group: bool = False,
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
            if as_group:  # an anonymous admin: Telegram shows the group as the sender
                message["from"] = dict(ANONYMOUS_ADMIN)
                message["sender_chat"] = dict(chat)
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
        as_group: bool = False,
    ) -> JSON:
        """A text message from a user (as_group: an anonymous admin's); /commands, @mentions, URLs and #tags get entities."""
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
            as_group=as_group,
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
        author_signature: str | None = None,
    ) -> JSON:
        """A channel_post update in a channel where the bot is an administrator."""
        with self._cond:
            chat = self._group_chat(chat_id, "channel", chat_title)
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
