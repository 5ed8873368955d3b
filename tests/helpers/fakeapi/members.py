"""Chat membership: member objects, joins, leaves, migration, and the chat look-ups."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tests.helpers.fakeapi.protocol import (
    DEFAULT_USER_ID,
    JSON,
    _bad,
)


class Members:
    """Chat membership: member objects, joins, leaves, migration, and the chat look-ups."""

    def set_member(self, chat_id: int, user_id: int, status: str = "member", **fields: Any) -> JSON:
        """Configure getChatMember: creator/administrator/member/restricted/left/kicked."""
        with self._lock:
            if user_id == self.bot_id:
                self._bot_status[chat_id] = status
            self._members[(chat_id, user_id)] = {"status": status, **fields}
            if status in ("creator", "administrator", "member", "restricted"):
                self._chat_users.setdefault(chat_id, set()).add(user_id)
            return self._member_object(chat_id, user_id)

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

    def _api_leaveChat(self, params: JSON) -> bool:
        """leaveChat: the bot is no longer a member afterwards."""
        with self._lock:
            chat = self._chat_for_read(params.get("chat_id"))
            if chat["type"] == "private":
                raise _bad("chat member status can't be changed in private chats")
            self._bot_status[chat["id"]] = "left"
            return True
