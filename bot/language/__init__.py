"""Language: normalise, segment and read questions (no storage, no Telegram)."""
