"""The bot's identity and profile: getMe, commands, descriptions."""

from __future__ import annotations

import json

from tests.helpers.fakeapi.protocol import (
    COMMAND_RE,
    JSON,
    _bad,
)


class Profile:
    """The bot's identity and profile: getMe, commands, descriptions."""

    def _api_getMe(self, params: JSON) -> JSON:
        """getMe: the bot's User with its capabilities."""
        return dict(self._me)

    def _api_logOut(self, params: JSON) -> bool:
        """logOut: always succeeds."""
        return True

    def _api_close(self, params: JSON) -> bool:
        """close: always succeeds."""
        return True

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands currently set for a scope and language."""
        with self._lock:
            return list(self._commands.get(self._commands_key(scope, language_code), []))

    @staticmethod
    def _commands_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
        """Storage key for a command list."""
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

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

    def _profile_text(self, name: str, params: JSON, limit: int) -> bool:
        """Store a description per language code ('' is the default), as Telegram does; ≤ limit characters."""
        text = str(params.get(name) or "")
        if len(text) > limit:
            raise _bad(f"{name} is too long")
        with self._lock:
            self.profile[(name, str(params.get("language_code") or ""))] = text
        return True

    def _api_setMyDescription(self, params: JSON) -> bool:
        """setMyDescription: per language, ≤ 512 characters."""
        return self._profile_text("description", params, 512)

    def _api_setMyShortDescription(self, params: JSON) -> bool:
        """setMyShortDescription: per language, ≤ 120 characters."""
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
