"""The record schema, written once: the rows the store returns, and the columns and key lists derived from them.

Rows stay plain dicts at run time (TypedDicts), so what is exported and what `rolebot ask --json`
prints is exactly what is stored. Migrations are history and keep their literal SQL; a test checks
that the tables they build still match these types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict, cast, get_origin, get_type_hints


class Source(TypedDict):
    """Where an answer comes from: a title, and who wrote it where."""

    title: str
    author: NotRequired[str]
    site: NotRequired[str]
    url: NotRequired[str]


class FaqData(TypedDict):
    """The fields of an FAQ entry, as written in knowledge files."""

    topic: str
    question: str
    alternates: list[str]
    answer: str
    sources: list[Source]
    related: list[str]
    tags: list[str]


class PassageData(TypedDict):
    """The fields of a passage (a longer digest behind an answer), as written in knowledge files."""

    topic: str | None
    title: str
    text: str
    sources: list[Source]
    tags: list[str]


class FaqRow(FaqData):
    """A stored FAQ entry with its id."""

    id: str


class PassageRow(PassageData):
    """A stored passage with its id."""

    id: str


class FaqExport(FaqRow):
    """An FAQ entry as exported: kind, id, then its fields."""

    kind: Literal["faq"]


class PassageExport(PassageRow):
    """A passage as exported: kind, id, then its fields."""

    kind: Literal["passage"]


@dataclass(frozen=True)
class Point:
    """One specific claim of a source article that an answer of its topic can lead with (knowledge/claims.yaml)."""

    id: str
    topic: str
    roles: tuple[str, ...]
    aspect: str
    text: str
    source: str  # the article's title, as published
    asks: tuple[str, ...]  # questions it answers


class Links(TypedDict):
    """What an answer links on from: its topic and the topics it names as related."""

    topic: str | None
    related: list[str]


class FollowUp(TypedDict):
    """A next question offered under an answer."""

    topic: str
    question: str


class Choice(TypedDict):
    """A topic the engine considered for a question, best first; `question` is set when offered as a choice."""

    topic: str
    score: int
    entry_id: str
    question: NotRequired[str]


class UnansweredRow(TypedDict):
    """A question the bot declined or was unsure about, counted under its normalised form."""

    question: str
    text: str
    count: int
    first_seen: float
    last_seen: float
    chat_type: str
    candidates: list[Choice]


class DailyRow(TypedDict):
    """Questions asked on one day under one topic ('' = not answered)."""

    day: str
    topic: str
    count: int


class TopicVotes(TypedDict):
    """👍 and 👎 counted for one topic."""

    topic: str
    up: int
    down: int


class GroupSettingsRow(TypedDict, total=False):
    """A group's stored settings (read back through `GroupSettings.from_dict`, which drops invalid values)."""

    mode: str
    threshold: int
    script: str
    length: str


RecordData = FaqData | PassageData
Export = FaqExport | PassageExport
JsonObject = Mapping[str, object]  # free-form JSON, e.g. an audit record's detail

_FAQ_TYPES = get_type_hints(FaqData)
_PASSAGE_TYPES = get_type_hints(PassageData)

FAQ_KEYS = tuple(_FAQ_TYPES)
PASSAGE_KEYS = tuple(_PASSAGE_TYPES)
SOURCE_KEYS = tuple(get_type_hints(Source))
# list-valued fields: stored as JSON text, and in CSV written as JSON or '|'-separated
JSON_KEYS = {k for k, t in (_FAQ_TYPES | _PASSAGE_TYPES).items() if get_origin(t) is list}
LIST_KEYS = tuple(k for k, t in (_FAQ_TYPES | _PASSAGE_TYPES).items() if t == list[str])


def _fields(row: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Return a record's fields from its table row (JSON columns decoded)."""
    return {k: json.loads(row[k]) if k in JSON_KEYS else row[k] for k in keys}


def faq_data(row: Mapping[str, Any]) -> FaqData:
    """Return an FAQ entry's fields from its table row."""
    return cast(FaqData, _fields(row, FAQ_KEYS))


def passage_data(row: Mapping[str, Any]) -> PassageData:
    """Return a passage's fields from its table row."""
    return cast(PassageData, _fields(row, PASSAGE_KEYS))


def faq_row(row: Mapping[str, Any]) -> FaqRow:
    """Return a stored FAQ entry with its id, from its table row."""
    return cast(FaqRow, {"id": row["id"], **_fields(row, FAQ_KEYS)})


def passage_row(row: Mapping[str, Any]) -> PassageRow:
    """Return a stored passage with its id, from its table row."""
    return cast(PassageRow, {"id": row["id"], **_fields(row, PASSAGE_KEYS)})


def columns(data: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    """Return the columns for a record's fields (lists and sources as JSON)."""
    return {k: json.dumps(data.get(k) or [], ensure_ascii=False) if k in JSON_KEYS else data.get(k) for k in keys}


def faq_fields(row: FaqRow | FaqExport) -> FaqData:
    """Return a stored or exported entry's fields, without its id and kind."""
    return cast(FaqData, {k: v for k, v in row.items() if k in FAQ_KEYS})


def passage_fields(row: PassageRow | PassageExport) -> PassageData:
    """Return a stored or exported passage's fields, without its id and kind."""
    return cast(PassageData, {k: v for k, v in row.items() if k in PASSAGE_KEYS})
