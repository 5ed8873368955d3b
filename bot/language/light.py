"""Words that carry no topic of their own (adverbs, pronouns, particles, numerals …), from jieba's tags."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

_FILE = "light_words.txt"  # beside this module; rebuilt by scripts/build_light_words.py


@lru_cache(maxsize=1)
def light_words() -> frozenset[str]:
    """Return the shipped light words."""
    text = resources.files("rolebot.language").joinpath(_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_light(word: str) -> bool:
    """Say whether a word asks about nothing by itself (到底, 具体, 这样, 二个)."""
    return word in light_words()
