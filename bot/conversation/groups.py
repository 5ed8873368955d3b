"""A group's settings: when to speak, how sure to be, which script, how long."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rolebot.store.schema import GroupSettingsRow

MODES = ("addressed", "auto")
THRESHOLDS = (60, 70, 80, 90)
SCRIPTS = ("auto", "simplified", "traditional", "tw", "hk")  # tw / hk: Traditional in Taiwan / Hong Kong words
LENGTHS = ("short", "full")


@dataclass(frozen=True)
class GroupSettings:
    """Settings an admin can change with /settings."""

    mode: str = "addressed"
    threshold: int = 80
    script: str = "auto"
    length: str = "short"

    @classmethod
    def from_dict(cls, data: GroupSettingsRow) -> GroupSettings:
        """Read stored settings, ignoring anything invalid."""
        s = cls()
        if data.get("mode") in MODES:
            s = replace(s, mode=data["mode"])
        if data.get("threshold") in THRESHOLDS:
            s = replace(s, threshold=int(data["threshold"]))
        if data.get("script") in SCRIPTS:
            s = replace(s, script=data["script"])
        if data.get("length") in LENGTHS:
            s = replace(s, length=data["length"])
        return s

    def to_dict(self) -> GroupSettingsRow:
        """Return the settings for storage."""
        return {"mode": self.mode, "threshold": self.threshold, "script": self.script, "length": self.length}

    def script_override(self) -> str | None:
        """Return the forced reply script, or None to follow the asker."""
        return None if self.script == "auto" else self.script

    def with_change(self, change: str) -> GroupSettings | None:
        """Apply a compact change like 'mode=auto'; None when it is not a valid change."""
        key, _, value = change.partition("=")
        allowed: dict[str, tuple[Any, ...]] = {
            "mode": MODES,
            "script": SCRIPTS,
            "length": LENGTHS,
            "threshold": tuple(str(t) for t in THRESHOLDS),
        }
        if key not in allowed or value not in allowed[key]:
            return None
        if key == "threshold":
            return replace(self, threshold=int(value))
        if key == "mode":
            return replace(self, mode=value)
        if key == "script":
            return replace(self, script=value)
        return replace(self, length=value)
