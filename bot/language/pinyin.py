"""Toneless pinyin from pypinyin's data: the readings of a character, the keys of a word, syllables.

pypinyin itself is not imported on the way to an answer: importing it loads its phrase dictionary and
segmenter (~50 MB, 0.5–0.8 s). Characters' readings are read from its character table, and what is needed
of its phrases is shipped in pinyin_words.txt (scripts/build_pinyin_words.py).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import unicodedata
from functools import lru_cache
from pathlib import Path

MAX_KEYS = 8  # reading combinations kept per word: 长/行/重 multiply quickly, and rare readings rarely matter
WORDS_FILE = Path(__file__).with_name("pinyin_words.txt")


@lru_cache(maxsize=1)
def _characters() -> dict[int, str]:
    """Return pypinyin's readings per character (code point -> "líng,yuán,xīng"), its own table read as it reads it."""
    spec = importlib.util.find_spec("pypinyin")
    folder = next(iter(spec.submodule_search_locations or []), None) if spec else None
    table = Path(folder) / "pinyin_dict.json" if folder else None
    if table is None or not table.is_file():
        from pypinyin.pinyin_dict import pinyin_dict  # an install without the plain file: the slow way

        return dict(pinyin_dict)
    return {int(k): str(v) for k, v in json.loads(table.read_text(encoding="utf-8")).items()}


@lru_cache(maxsize=1)
def _shipped() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Return the shipped phrases read unusually and role words' whole-word readings, as toneless syllables."""
    sections: dict[str, dict[str, tuple[str, ...]]] = {"[phrases]": {}, "[roles]": {}}
    here = sections["[phrases]"]
    for line in WORDS_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line in sections:
            here = sections[line]
            continue
        word, _, sounds = line.partition("\t")
        here[word] = tuple(sounds.split())
    return sections["[phrases]"], sections["[roles]"]


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
    raw = _characters().get(ord(ch)) if len(ch) == 1 else None
    return tuple(dict.fromkeys(toneless(r) for r in raw.split(","))) if raw else ()


def spoken(word: str) -> tuple[str, ...]:
    """Return a word's toneless syllables as pypinyin reads the whole word (长 in 市场 is chang)."""
    hit = _shipped()[1].get(word)
    if hit is not None:
        return hit
    from pypinyin import Style, lazy_pinyin  # a role the shipped table lacks (another vocabulary): ask pypinyin

    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


def keys(word: str) -> list[str]:
    """Return the letter strings a word can be typed as, the likeliest first (its phrase reading, or each
    character's usual reading)."""
    out: list[str] = []
    # only phrases read unusually are shipped: any other is typed as its characters' usual readings, first below
    phrase = _shipped()[0].get(word)
    if phrase:
        out.append("".join(phrase))
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
    found = {toneless(r) for raw in _characters().values() for r in raw.split(",")}
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
