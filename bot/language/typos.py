"""Read role words typed as homophones (营消, 销受, 市厂) and questions typed in plain pinyin.

Both come from pinyin keyboards: a user types `yingxiao`, and either picks the wrong candidate or
sends the letters as they are. Everything here is derived from pypinyin's data and the role
vocabulary; there is no list of typos.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from rolebot.language import pinyin, segment
from rolebot.language.vocabulary import Vocabulary

_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK_ONLY = re.compile(r"[\u3400-\u9fff]+")
# a run of pinyin-looking words: letters (ü typed as v or ü) separated by spaces or apostrophes
_LATIN_RUN = re.compile(r"(?<![a-z0-9ü])[a-zü]+(?:['\s]+[a-zü]+)*(?![a-z0-9ü])")
_LATIN_WORD = re.compile(r"[a-zü]+")
DOMAIN_FREQ = 2_000_000  # a vocabulary word outranks every general word typed the same way
GENERAL_MIN_FREQ = 100  # general words rarer than this add ambiguity (and start-up time), not coverage
RARE_READING = 4.0  # extra cost of a word read in a way other than its usual one (有 as wei)
UNKNOWN_COST = 30.0  # a syllable with no character jieba knows
STARTS_KEPT = 65536  # characters whose role-word starts Homophones remembers
# English words that also spell pinyin (he, you, me, an …) stay English unless something else in the
# same run is plainly pinyin; these are a few more than the vocabulary's English stop words
_ENGLISH = frozenset(
    {"he", "she", "her", "his", "me", "you", "a", "an", "long", "men", "hang", "ban", "bang", "change"}
)


def _is_cjk(text: str) -> bool:
    return _CJK_ONLY.fullmatch(text) is not None


def _jieba_freq() -> tuple[dict[str, int], int]:
    """Return jieba's word frequencies and their total (initialising jieba when nobody has yet)."""
    return segment.dictionary()


@dataclass(frozen=True)
class _Target:
    """A role word and, per character, the syllable pypinyin reads it with."""

    word: str
    sounds: tuple[str, ...]


class Homophones:
    """Rewrite a span that is no word but sounds exactly like a role word (tones ignored)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.known = (
            set(vocab.roles) | set(vocab.words) | set(vocab.aliases) | set(vocab.cue_words) | set(vocab.stopwords)
        )
        by_sound: dict[tuple[str, ...], list[str]] = {}
        for word in vocab.roles:
            if len(word) >= 2 and _is_cjk(word):
                sounds = pinyin.spoken(word)
                if len(sounds) == len(word):
                    by_sound.setdefault(sounds, []).append(word)
        # two roles that sound the same cannot be told apart by sound: correct to neither
        targets = [_Target(words[0], sounds) for sounds, words in by_sound.items() if len(words) == 1]
        self.lengths = sorted({len(t.word) for t in targets}, reverse=True)
        self.by_start: dict[tuple[int, str], list[_Target]] = {}
        for t in targets:
            self.by_start.setdefault((len(t.word), t.sounds[0]), []).append(t)
        # per character met, the role words it can start (see `_starting`)
        self._starts: dict[str, tuple[tuple[int, tuple[_Target, ...]], ...]] = {}

    def is_word(self, span: str) -> bool:
        """Say whether a span is a word in its own right (jieba's dictionary or our vocabulary)."""
        # our own words first: a question of them needs no jieba dictionary (loaded at the first cut)
        return span in self.known or _jieba_freq()[0].get(span, 0) > 0

    def fix(self, text: str) -> str:
        """Return the text with each homophone of a role word replaced by the role word."""
        if not _CJK.search(text):
            return text
        starts = self._starts
        out: list[str] = []
        done = 0  # text[:done] is in out
        i = 0
        while i < len(text):
            found = starts.get(text[i])
            if found is None:
                found = self._starting(text[i])
            target = self._match(text, i, found) if found else None
            if target is None:
                i += 1
                continue
            out += [text[done:i], target.word]
            i = done = i + len(target.word)
        return "".join([*out, text[done:]]) if out else text

    def _starting(self, ch: str) -> tuple[tuple[int, tuple[_Target, ...]], ...]:
        """Return (length, targets) of the role words, longest first, whose first syllable `ch` can be read as."""
        first = pinyin.readings(ch)
        found = tuple(
            (length, targets)
            for length in self.lengths
            if (targets := tuple(t for sound in first for t in self.by_start.get((length, sound), ())))
        )
        # most characters start no role word's sound, and every character of every question comes through here;
        # kept for as many characters as pinyin.readings keeps, so that no stream of odd characters grows it
        if len(self._starts) < STARTS_KEPT:
            self._starts[ch] = found
        return found

    def _match(self, text: str, i: int, starting: tuple[tuple[int, tuple[_Target, ...]], ...]) -> _Target | None:
        """Return the longest role word the span at `i` is a homophone of, among those its character starts."""
        for length, targets in starting:
            span = text[i : i + length]
            if len(span) < length or not _is_cjk(span):
                continue
            match = next((t for t in targets if self._sounds_like(span, t)), None)
            # 销售, 消瘦, 时长: a real word is read as itself (asked last: jieba's dictionary may not be loaded yet)
            if match is not None and not self.is_word(span):
                return match
        return None

    @staticmethod
    def _sounds_like(span: str, target: _Target) -> bool:
        """Say whether every character of the span can be read as the target's syllable there.

        At least half the characters must be the target's own: one slip of the keyboard is a typo,
        a different pair of characters with the same sound is more likely another word.
        """
        same = sum(a == b for a, b in zip(span, target.word, strict=True))
        if same == len(span) or same * 2 < len(span):
            return False
        return all(s in pinyin.readings(ch) for ch, s in zip(span, target.sounds, strict=True))


class PinyinReader:
    """Turn runs of plain pinyin (`yingxiao he xiaoshou qubie`) into Chinese words."""

    def __init__(self, vocab: Vocabulary) -> None:
        freq, total = _jieba_freq()
        self.log_total = math.log(max(total, 1))
        self.english = (
            {k for k in vocab.aliases if k.isascii()}
            | {w for w in vocab.stopwords if w.isascii()}
            | {c for c in vocab.cue_words if c.isascii()}
            | {r for r in vocab.roles if r.isascii()}
            | _ENGLISH
        )
        # a stretch is pinyin only when it spells one of our words: `make`, `media`, `ceo` spell pinyin too
        self.anchors = {
            w for w in [*vocab.roles, *vocab.words, *vocab.aliases, *vocab.cue_words] if len(w) > 1 and _is_cjk(w)
        }
        self.lexicon: dict[str, tuple[str, float]] = {}
        domain = set(vocab.roles) | set(vocab.words) | set(vocab.aliases) | vocab.cue_words | vocab.stopwords
        domain |= vocab.role_verbs | vocab.role_suffixes
        for word in domain:
            if _is_cjk(word):
                self._add(word, DOMAIN_FREQ + freq.get(word, 0))
        for word, count in freq.items():
            if count >= GENERAL_MIN_FREQ and 2 <= len(word) <= 4 and _is_cjk(word):
                self._add(word, count)
            elif count > 0 and len(word) == 1 and _is_cjk(word):
                self._add(word, count)
        self.longest = max((len(k) for k in self.lexicon), default=0)

    def _add(self, word: str, count: int) -> None:
        """Keep the cheapest word for each way of typing it; unusual readings cost more."""
        cost = self.log_total - math.log(count)
        for n, key in enumerate(pinyin.keys(word)):
            held = self.lexicon.get(key)
            price = cost + (RARE_READING if n else 0.0)
            if held is None or held[1] > price:
                self.lexicon[key] = (word, price)

    def read(self, text: str) -> str:
        """Return the text with each run of plain pinyin written in Chinese; other text is left alone."""
        if not re.search("[a-z]", text):
            return text
        return _LATIN_RUN.sub(self._convert, text)

    def _convert(self, match: re.Match[str]) -> str:
        """Convert the pinyin stretches of a run, leaving the English words in it ("marketing he xiaoshou")."""
        out: list[str] = []
        stretch: list[str] = []
        for token in re.split(r"['\s]+", match.group(0)):
            if pinyin.split_syllables(token.replace("ü", "v")) is not None:
                stretch.append(token)
                continue
            out += [self._stretch(stretch), token]
            stretch = []
        out.append(self._stretch(stretch))
        return " ".join(o for o in out if o)

    def _stretch(self, tokens: list[str]) -> str:
        """Write a stretch of pinyin tokens in Chinese, unless it reads as English (you, he, long)."""
        typed = [t.replace("ü", "v") for t in tokens]
        syllable_count = sum(len(pinyin.split_syllables(t) or []) for t in typed)
        if not typed or all(t in self.english for t in typed) or syllable_count < 2:
            return " ".join(tokens)
        words = self._segment(typed)
        if words is None or not any(w in self.anchors for w in words):
            return " ".join(tokens)
        return "".join(words)

    def _segment(self, tokens: list[str]) -> list[str] | None:
        """Return the cheapest words spelling the tokens; a word lies inside one token or spans whole ones."""
        letters = "".join(tokens)
        edges = {0}
        token_of: list[int] = []
        for n, t in enumerate(tokens):
            token_of += [n] * len(t)
            edges.add(len(token_of))
        size = len(letters)
        best: list[tuple[float, int, str] | None] = [None] * (size + 1)
        best[0] = (0.0, 0, "")
        for i in range(size):
            here = best[i]
            if here is None:
                continue
            for j in range(i + 1, min(size, i + self.longest) + 1):
                inside = token_of[i] == token_of[j - 1]
                if not inside and not (i in edges and j in edges):
                    continue
                hit = self.lexicon.get(letters[i:j])
                if hit is None:
                    continue
                cost = here[0] + hit[1]
                held = best[j]
                if held is None or cost < held[0]:
                    best[j] = (cost, i, hit[0])
        if best[size] is None:
            return None
        words: list[str] = []
        j = size
        while j > 0:
            cell = best[j]
            assert cell is not None
            words.append(cell[2])
            j = cell[1]
        return words[::-1]


@lru_cache(maxsize=4)
def homophones(vocab: Vocabulary) -> Homophones:
    """Return the homophone reader for a vocabulary (built once)."""
    return Homophones(vocab)


@lru_cache(maxsize=4)
def pinyin_reader(vocab: Vocabulary) -> PinyinReader:
    """Return the plain-pinyin reader for a vocabulary (built on the first question with letters)."""
    return PinyinReader(vocab)


def read_pinyin(text: str, vocab: Vocabulary) -> str:
    """Write the plain-pinyin runs of a cleaned (lower-case) text in Chinese."""
    if not re.search("[a-z]{2}", text):
        return text
    return pinyin_reader(vocab).read(text)


def fix_homophones(text: str, vocab: Vocabulary) -> str:
    """Replace homophones of role words in a Simplified text."""
    return homophones(vocab).fix(text)
