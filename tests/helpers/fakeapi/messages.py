"""Messages the bot sends and edits: entity parsing, markup checks, replies."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.helpers.fakeapi.entities import format_text
from tests.helpers.fakeapi.protocol import (
    CHAT_ACTIONS,
    JSON,
    MAX_CALLBACK_DATA,
    MAX_TEXT,
    NOT_MODIFIED,
    _bad,
    utf16_len,
)


class Messages:
    """Messages the bot sends and edits: entity parsing, markup checks, replies."""

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
        """The message a send replies to, from reply_parameters."""
        reply = params.get("reply_parameters")
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
        self._seq += 1
        message["_seq"] = self._seq
        self._store(message)
        return self._public(message)

    def _editable(self, params: JSON) -> JSON:
        """The stored bot message an edit targets."""
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

    def _api_sendMessage(self, params: JSON) -> JSON:
        """sendMessage: parse entities, validate markup, store and return the Message."""
        with self._lock:
            chat = self._chat_for_send(params.get("chat_id"))
            text, entities = self._formatted(params, "text", MAX_TEXT, "entities")
            content: JSON = {"text": text}
            if entities:
                content["entities"] = entities
            return self._bot_message(chat, params, content)

    def _api_editMessageText(self, params: JSON) -> JSON:
        """editMessageText: errors for missing/foreign/unchanged messages; markup is replaced."""
        with self._lock:
            message = self._editable(params)
            text, entities = self._formatted(params, "text", MAX_TEXT, "entities")
            markup = self._check_markup(params.get("reply_markup"))
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

    def _api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        """editMessageReplyMarkup: replace (or remove) the inline keyboard."""
        with self._lock:
            message = self._editable(params)
            markup = self._check_markup(params.get("reply_markup"))
            if message.get("reply_markup") == markup:
                raise _bad(NOT_MODIFIED)
            updated = dict(message)
            updated.pop("reply_markup", None)
            if markup is not None:
                updated["reply_markup"] = markup
            updated["edit_date"] = int(time.time())
            self._store(updated)
            return self._public(updated)

    def _api_sendChatAction(self, params: JSON) -> bool:
        """sendChatAction: valid action into a chat the bot may write to."""
        with self._lock:
            self._chat_for_send(params.get("chat_id"))
            if params.get("action") not in CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            return True
