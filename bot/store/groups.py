"""Stored group settings, keyed by chat id."""

from __future__ import annotations

import json
import time

from rolebot.store.db import Connection
from rolebot.store.schema import GroupSettingsRow


class Groups:
    """The group_settings table: one JSON object per group."""

    def __init__(self, conn: Connection) -> None:
        self.db = conn.db
        self.lock = conn.lock
        self.read = conn.read

    def group_settings(self, chat_id: int) -> GroupSettingsRow:
        """Return a group's stored settings (empty when none)."""
        with self.read() as db:
            row = db.execute("SELECT settings FROM group_settings WHERE chat_id = ?", [chat_id]).fetchone()
        settings: GroupSettingsRow = json.loads(row[0]) if row else {}
        return settings

    def save_group_settings(self, chat_id: int, settings: GroupSettingsRow) -> None:
        """Store a group's settings."""
        with self.lock, self.db.conn:
            self.db.execute(
                "INSERT INTO group_settings (chat_id, settings, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                [chat_id, json.dumps(settings, ensure_ascii=False), time.time()],
            )

    def move_group(self, old_id: int, new_id: int) -> None:
        """Carry a group's settings over to its new (supergroup) id."""
        with self.lock, self.db.conn:
            self.db.execute("UPDATE OR REPLACE group_settings SET chat_id = ? WHERE chat_id = ?", [new_id, old_id])
