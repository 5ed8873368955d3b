"""The stored record schema: which fields entries and passages have, and how they map to columns."""

from __future__ import annotations

import json
from typing import Any

FAQ_KEYS = ("topic", "question", "alternates", "answer", "sources", "related", "tags")
PASSAGE_KEYS = ("topic", "title", "text", "sources", "tags")
JSON_KEYS = {"alternates", "sources", "related", "tags"}


def row_to_data(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Return a record's fields from its table row (JSON columns decoded)."""
    return {k: json.loads(row[k]) if k in JSON_KEYS else row[k] for k in keys}


def data_to_row(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Return the columns for a record's fields (lists and sources as JSON)."""
    return {k: json.dumps(data.get(k) or [], ensure_ascii=False) if k in JSON_KEYS else data.get(k) for k in keys}
