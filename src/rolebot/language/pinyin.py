"""Toneless pinyin from pypinyin's data: the readings of a character, the keys of a word, syllables."""

from __future__ import annotations

import itertools
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.phrases_dict import phrases_dict
from pypinyin.pinyin_dict import pinyin_dict

MAX_KEYS = 8  # reading combinations kept per word: 长/行/重 multiply quickly, and rare readings rarely matter


def toneless(syllable: str) -> str:
    """Drop the tone marks of a syllable, writing ü as v (as pinyin keyboards do)."""
    decomposed = unicodedata.normalize("NFD", syllable.lower()).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def readings(ch: str) -> frozenset[str]:
    """Return every toneless reading of one character (empty for anything that is not a Han character)."""
    return frozenset(ordered_readings(ch))


@lru_cache(maxsize=65536)
def ordered_readings(ch: str) -> tuple[str, ...]:
    """Return a character's toneless readings, its usual one first (as pypinyin's data lists them)."""
    raw = pinyin_dict.get(ord(ch)) if len(ch) == 1 else None
    return tuple(dict.fromkeys(toneless(r) for r in raw.split(","))) if raw else ()


def spoken(word: str) -> tuple[str, ...]:
    """Return a word's toneless syllables as pypinyin reads the whole word (长 in 市场 is chang)."""
    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


def keys(word: str) -> list[str]:
    """Return the letter strings a word can be typed as, the likeliest first (its phrase reading, or each
    character's usual reading)."""
    out: list[str] = []
    phrase = phrases_dict.get(word)
    if phrase and len(phrase) == len(word):
        out.append("".join(toneless(p[0]) for p in phrase))
    per_char = [ordered_readings(ch) for ch in word]
    if all(per_char):
        for combo in itertools.islice(itertools.product(*per_char), MAX_KEYS):
            key = "".join(combo)
            if key not in out:
                out.append(key)
    return out


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Return every toneless syllable, without the bare nasals (m, n, ng, hm, hng) that would split English."""
    found = {toneless(r) for raw in pinyin_dict.values() for r in raw.split(",")}
    return frozenset(s for s in found if s.isascii() and s.isalpha() and any(v in s for v in "aeiouv"))


def split_syllables(letters: str) -> list[str] | None:
    """Split a run of letters into pinyin syllables (fewest syllables), or None when it is not pinyin."""
    table = syllables()
    n = len(letters)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        here = best[i]
        if here is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            piece = letters[i:j]
            if piece in table and (best[j] is None or len(best[j] or []) > len(here) + 1):
                best[j] = [*here, piece]
    return best[n]
