"""Telegram edge: python-telegram-bot only lives here."""
