"""Read what a question is about: the roles it names, what it asks, and what it compares."""

from __future__ import annotations

from dataclasses import dataclass

from rolebot.language import segment
from rolebot.language.normalize import Normalized, normalize
from rolebot.language.script import Reader
from rolebot.language.vocabulary import Vocabulary

CONNECTORS = frozenset({"和", "跟", "与", "同", "还是", "或", "或者", "vs", "对比", "比", "及", "以及", "、"})


@dataclass(frozen=True)
class Query:
    """A question after normalising, tokenising and reading its roles and intent."""

    norm: Normalized
    words: tuple[str, ...]
    content: tuple[str, ...]
    entities: frozenset[str]
    intents: frozenset[str]
    operands: tuple[str, ...]

    @property
    def script(self) -> str:
        """Return the script the question was written in."""
        return self.norm.script

    @property
    def reader(self) -> Reader:
        """Return who wrote the question: script, region and the local words used."""
        return self.norm.reader


def intents_of(text: str, vocab: Vocabulary) -> frozenset[str]:
    """Return the intents whose cue words occur in a normalised text."""
    return frozenset(name for name, pattern in vocab.intent_res.items() if pattern.search(text))


def entities_of(words: list[str] | tuple[str, ...], vocab: Vocabulary) -> frozenset[str]:
    """Return the role terms among the words."""
    return frozenset(w for w in words if w in vocab.roles)


def operands_of(words: list[str] | tuple[str, ...], vocab: Vocabulary) -> tuple[str, ...]:
    """Return the words on either side of each connector ("A 和 B"), skipping verbs like 做."""
    out: list[str] = []
    skip = vocab.role_verbs | vocab.role_suffixes | {"的", "是", "在"}
    for i, w in enumerate(words):
        if w not in CONNECTORS:
            continue
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(words) and (words[j] in skip or words[j] in CONNECTORS):
                j += step
            if (
                0 <= j < len(words)
                and words[j] not in vocab.stopwords
                and words[j] not in vocab.cue_words
                and words[j] not in out
            ):
                out.append(words[j])
    return tuple(out)


def understand(text: str, vocab: Vocabulary) -> Query:
    """Normalise, tokenise and read a question."""
    norm = normalize(text, vocab)
    words = segment.words(norm.text)
    content = tuple(segment.content(words, vocab))
    intents = intents_of(norm.text, vocab)
    operands = operands_of(_with_separators(norm.text, words), vocab)
    if not operands and "difference" in intents:
        operands = _juxtaposed(words, vocab)
    return Query(
        norm=norm,
        words=tuple(words),
        content=content,
        entities=entities_of(words, vocab),
        intents=intents,
        operands=operands,
    )


def _juxtaposed(words: list[str], vocab: Vocabulary) -> tuple[str, ...]:
    """Return the things compared without a connector ("产品经理项目经理区别"): two or three words before the cue."""
    cues = set(vocab.intents.get("difference", ()))
    at = next((i for i, w in enumerate(words) if w in cues), len(words))
    skip = vocab.stopwords | vocab.cue_words | vocab.role_verbs | vocab.role_suffixes
    before = [w for w in words[:at] if w not in skip]
    return tuple(dict.fromkeys(before)) if 2 <= len(set(before)) <= 3 else ()


def _with_separators(text: str, words: list[str]) -> list[str]:
    """Put list separators (、 and /) back between words, since segment.words drops punctuation."""
    out: list[str] = []
    pos = 0
    for w in words:
        at = text.find(w, pos)
        if at > pos and any(ch in "、/" for ch in text[pos:at]):
            out.append("、")
        out.append(w)
        pos = at + len(w) if at >= 0 else pos
    return out
