"""The button-action protocol both edges share: typed actions, encoded to and decoded from compact data."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

MAX_BYTES = 64  # the narrowest edge's limit (Telegram's callback_data), so every edge gets the same buttons


DIGEST = "#"  # an entry reference starting with it is a digest of an id too long for a button
ENTRY_ROOM = MAX_BYTES - 2  # after the shortest prefix and its colon ("m:", "u:", "d:")


def entry_ref(entry_id: str) -> str:
    """Return how buttons name an entry: its id when it fits, else '#' and 24 hex digits of its SHA-256."""
    if len(entry_id.encode("utf-8")) <= ENTRY_ROOM and not entry_id.startswith(DIGEST):
        return entry_id
    return DIGEST + hashlib.sha256(entry_id.encode("utf-8")).hexdigest()[:24]


class ActionTooLong(ValueError):
    """An action does not fit in MAX_BYTES of UTF-8."""


@dataclass(frozen=True)
class ShowTopic:
    """Answer one topic (a follow-up, a choice, a browse entry)."""

    topic: str


@dataclass(frozen=True)
class More:
    """Show the passage digests behind an entry."""

    entry_id: str


@dataclass(frozen=True)
class Browse:
    """List a browse category's questions."""

    category: str


@dataclass(frozen=True)
class Vote:
    """A 👍 (up) or 👎 on an entry."""

    entry_id: str
    up: bool


@dataclass(frozen=True)
class NoneOfThese:
    """None of the offered topics fit: back to the menu."""


@dataclass(frozen=True)
class ChangeSetting:
    """Change one group setting, like 'mode=auto'."""

    change: str


@dataclass(frozen=True)
class AddPhrasing:
    """Add an unanswered question (by its short key) as a phrasing of a topic."""

    key: str
    topic: str


@dataclass(frozen=True)
class NewEntry:
    """Send the draft entry of an unanswered group (by its first question's short key) as a YAML file."""

    key: str


@dataclass(frozen=True)
class ReviewPage:
    """Show one page of the review's groups."""

    page: int


@dataclass(frozen=True)
class ConfirmImport:
    """Run the import a dry run offered."""

    token: str


Action = (
    ShowTopic | More | Browse | Vote | NoneOfThese | ChangeSetting | AddPhrasing | NewEntry | ReviewPage | ConfirmImport
)


def _fields(action: Action) -> tuple[str, str]:
    """Return an action's prefix and value."""
    match action:
        case ShowTopic(topic):
            return "t", topic
        case More(entry_id):
            return "m", entry_id
        case Browse(category):
            return "b", category
        case Vote(entry_id, up):
            return ("u" if up else "d"), entry_id
        case NoneOfThese():
            return "n", ""
        case ChangeSetting(change):
            return "s", change
        case AddPhrasing(key, topic):
            return "a", f"{key}:{topic}"
        case NewEntry(key):
            return "ne", key
        case ReviewPage(page):
            return "rp", str(page)
        case ConfirmImport(token):
            return "ci", token


def encode(action: Action) -> str:
    """Return the compact data for an action; raise ActionTooLong past MAX_BYTES."""
    prefix, value = _fields(action)
    data = f"{prefix}:{value}" if value else prefix
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ActionTooLong(f"action data over {MAX_BYTES} bytes: {data!r}")
    return data


def _add_phrasing(value: str) -> AddPhrasing | None:
    key, _, topic = value.partition(":")
    return AddPhrasing(key, topic) if key and topic else None


_DECODERS: dict[str, Callable[[str], Action | None]] = {
    "t": lambda v: ShowTopic(v) if v else None,
    "m": lambda v: More(v) if v else None,
    "b": lambda v: Browse(v) if v else None,
    "u": lambda v: Vote(v, True) if v else None,
    "d": lambda v: Vote(v, False) if v else None,
    "n": lambda v: NoneOfThese(),
    "s": lambda v: ChangeSetting(v) if v else None,
    "a": _add_phrasing,
    "ne": lambda v: NewEntry(v) if v else None,
    "rp": lambda v: ReviewPage(int(v)) if v.isascii() and v.isdigit() and len(v) < 6 else None,
    "ci": lambda v: ConfirmImport(v) if v else None,
}


def decode(data: object) -> Action | None:
    """Return the action compact data stands for, or None for anything stale, foreign or malformed."""
    if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    prefix, _, value = data.partition(":")
    decoder = _DECODERS.get(prefix)
    return decoder(value) if decoder else None


def matches(kind: type[Action]) -> Callable[[object], bool]:
    """Return a predicate for data decoding to one kind of action (a routing pattern for the edges)."""
    return lambda data: isinstance(decode(data), kind)
