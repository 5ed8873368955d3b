"""Telegram's limits in Telegram's units: what the bot's replies, buttons and inline results must fit."""

from __future__ import annotations

# a message's text after entity parsing (tags gone, &amp; one character), in UTF-16 code units: an emoji is 2
MESSAGE_UNITS = 4096
RESULT_ID_BYTES = 64  # InlineQueryResult.id, UTF-8 bytes
# callback_data is 64 bytes too: conversation/actions.py MAX_BYTES holds that number, so every edge gets the same buttons
