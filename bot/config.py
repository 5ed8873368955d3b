"""Settings read from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from platformdirs import user_data_dir

OFFICIAL_BASE_URL = "https://api.telegram.org/bot"


def knowledge_dir() -> Path:
    """Return the folder of shipped knowledge (ROLEBOT_KNOWLEDGE overrides)."""
    override = os.environ.get("ROLEBOT_KNOWLEDGE")
    # the knowledge is package data (rolebot.knowledge), a real folder in a wheel and an editable install
    return Path(override) if override else Path(str(files("rolebot.knowledge")))


def default_db_path() -> Path:
    """Return where the database lives when neither --db nor ROLEBOT_DB says."""
    return Path(user_data_dir("rolebot", appauthor=False)) / "rolebot.db"


def resolve_db_path(cli_value: str | None) -> Path:
    """Pick the database path: --db, else ROLEBOT_DB, else the user data directory."""
    return Path(cli_value or os.environ.get("ROLEBOT_DB") or default_db_path())


def _parse_ids(raw: str) -> frozenset[int]:
    return frozenset(int(p) for p in raw.replace(" ", "").split(",") if p.lstrip("-").isdigit())


@dataclass(frozen=True)
class Settings:
    """Everything the Telegram bot needs to start."""

    token: str
    db_path: Path
    base_url: str = OFFICIAL_BASE_URL
    base_file_url: str | None = None
    maintainers: frozenset[int] = field(default_factory=frozenset)
    send_rate: float = 30.0  # messages per second overall (Telegram's limit); 0 turns pacing off

    @classmethod
    def from_env(cls, db: str | None = None) -> Settings:
        """Read settings from the environment (token may be empty)."""
        base = os.environ.get("TELEGRAM_BASE_URL") or OFFICIAL_BASE_URL
        return cls(
            token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
            db_path=resolve_db_path(db),
            base_url=base,
            base_file_url=os.environ.get("TELEGRAM_BASE_FILE_URL") or None,
            maintainers=_parse_ids(os.environ.get("ROLEBOT_MAINTAINERS", "")),
            send_rate=float(os.environ.get("ROLEBOT_SEND_RATE") or 30.0),
        )
