"""Read what a question is about: the roles it names, what it asks, and what it compares."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rolebot.language import segment
from rolebot.language.normalize import Normalized, normalize
from rolebot.language.script import Reader
from rolebot.language.vocabulary import Vocabulary

CONNECTORS = frozenset({"和", "跟", "与", "同", "还是", "或", "或者", "vs", "对比", "比", "及", "以及", "、"})
# "A 就是 B 吗", "A 算不算 B": asking whether two roles are the same thing is asking how they differ
EQUATING = frozenset({"就是", "是", "算", "算是", "属于", "等于", "等同于", "是不是", "算不算", "就叫"})
ASKING = ("吗", "么", "?", "？", "是不是", "算不算")


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


def understand(text: str, vocab: Vocabulary, norm: Normalized | None = None) -> Query:
    """Normalise (unless given `norm`, the text already normalised), tokenise and read a question."""
    norm = norm or normalize(text, vocab)
    words = segment.words(norm.text)
    operands = operands_of(_with_separators(norm.text, words), vocab)
    if vocab.shorthands and (named := _shorthand_roles(words, operands, vocab)) != words:
        norm = replace(norm, text=_respelled(norm.text, words, named))
        words = named
        operands = tuple(vocab.shorthands.get(o, o) for o in operands)
    content = tuple(segment.content(words, vocab))
    intents = intents_of(norm.text, vocab)
    if "difference" not in intents and _equates(words, vocab) and any(a in norm.text for a in ASKING):
        intents = intents | {"difference"}
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


def _shorthand_roles(words: list[str], operands: tuple[str, ...], vocab: Vocabulary) -> list[str]:
    """Return the words with each shorthand (产品) read as its role where a role verb or a compared role says so."""
    roles_compared = any(o in vocab.roles for o in operands)
    out = list(words)
    for i, w in enumerate(words):
        role = vocab.shorthands.get(w)
        if role and ((i > 0 and words[i - 1] in vocab.role_verbs) or (w in operands and roles_compared)):
            out[i] = role
    return out


def _respelled(text: str, words: list[str], named: list[str]) -> str:
    """Return the text with each word that `named` reads differently written as named, in place."""
    out: list[str] = []
    pos = 0
    for old, new in zip(words, named, strict=True):
        at = text.find(old, pos)
        if at < 0:
            continue
        out.append(text[pos:at])
        out.append(new)
        pos = at + len(old)
    out.append(text[pos:])
    return "".join(out)


def _equates(words: list[str], vocab: Vocabulary) -> bool:
    """Say whether the question sets one role equal to another ("营销就是销售吗", "市场推广算销售吗")."""
    skip = vocab.role_suffixes | vocab.role_verbs | {"的", "也", "不", "都"}
    core = [w for w in words if w not in skip]
    return any(
        w in EQUATING and core[i - 1] in vocab.roles and core[i + 1] in vocab.roles and core[i - 1] != core[i + 1]
        for i, w in enumerate(core)
        if 0 < i < len(core) - 1
    )
