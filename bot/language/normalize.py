"""Turn a raw question into clean Simplified Chinese with canonical role words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import opencc

from rolebot.language.script import TRADITIONAL, Reader, detect_script, reader_of
from rolebot.language.typos import fix_homophones, read_pinyin
from rolebot.language.vocabulary import Vocabulary

__all__ = ["Normalized", "clean", "detect_script", "exact_keys", "normalize", "to_traditional"]

_T2S = opencc.OpenCC("t2s")
# Characters a chat client may carry that mean nothing: zero-width, direction marks, BOM, variation selectors.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufe00-\ufe0f\u00ad]")
_SPACES = re.compile(r"\s+")
# characters that are no noise: letters, digits, white space, common punctuation (checked against every code
# point in tests/test_normalize.py); a text of only these needs no look-up per character
_PLAIN = re.compile(r"[\w\s!-/:-@\[-\]{-~\u2010-\u2027\u3000-\u3003\u3008-\u3011\u3014-\u301f]*")


@dataclass(frozen=True)
class Normalized:
    """A question ready for tokenising, and who wrote it (script, region, local words)."""

    original: str
    text: str
    reader: Reader

    @property
    def script(self) -> str:
        """Return the script the question was written in: "simplified" | "traditional"."""
        return self.reader.script


def _is_noise(ch: str) -> bool:
    """Say whether a character is a control, symbol or emoji that carries no words."""
    cat = unicodedata.category(ch)
    return cat[0] == "C" or cat in ("So", "Sk", "Me", "Mn")


def to_traditional(text: str) -> str:
    """Convert Simplified text to Traditional character by character (Taiwan forms, no local words)."""
    return Reader(TRADITIONAL).write(text)


def clean(text: str) -> str:
    """NFKC, drop invisible and emoji characters, lowercase, fold spaces."""
    # lowercase first: İ lowercases to i + a combining dot, which the noise filter then drops
    text = unicodedata.normalize("NFKC", text.lower()).lower()
    text = _INVISIBLE.sub("", text)
    if not _PLAIN.fullmatch(text):  # nearly every question and phrasing: no character to look up one by one
        text = "".join(" " if _is_noise(ch) else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def exact_keys(text: str) -> tuple[str, str]:
    """Return the keys a phrasing is looked up by word for word: punctuation kept, and punctuation and spaces dropped."""
    # only width, case and script: aliases and typo fixes depend on the vocabulary, and would go stale in the store
    key = str(_T2S.convert(clean(text)))
    return key, "".join(ch for ch in key if unicodedata.category(ch)[0] not in "PZ")


def normalize(text: str, vocab: Vocabulary) -> Normalized:
    """Normalise a question: clean, plain pinyin to Chinese, Traditional→Simplified, homophones of role
    words to the words, aliases to canonical role words."""
    cleaned = clean(text)
    reader = reader_of(cleaned)
    canon = read_pinyin(cleaned, vocab)
    for _ in range(64):  # to a fixed point: a conversion or an alias can make room for another (市场市场行銷)
        before = canon
        canon = fix_homophones(_T2S.convert(canon), vocab)
        canon = vocab.alias_re.sub(lambda m: vocab.aliases.get(m.group(0), m.group(0)), canon)
        canon = _SPACES.sub(" ", canon).strip()
        if canon == before:
            break
    return Normalized(text, canon, reader)
