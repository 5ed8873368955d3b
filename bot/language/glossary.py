"""Regional words and converter corrections (knowledge/glossary.yaml, knowledge/corrections.yaml), applied to text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import jieba
import opencc
import yaml

from rolebot.config import knowledge_dir
from rolebot.language import segment
from rolebot.language.vocabulary import FAST_LOADER, vocabulary

REGIONS = ("tw", "hk")
_T2S = opencc.OpenCC("t2s")
# a pair of straight quotes around words with Chinese in them, on one line (also as HTML writes them)
_STRAIGHT = re.compile(
    r'"([^"\n<>]*?[\u3400-\u9fff][^"\n<>]*?)"|&quot;((?:(?!&quot;)[^\n<>])*?[\u3400-\u9fff](?:(?!&quot;)[^\n<>])*?)&quot;'
)
_SPAN = 4  # a glossary word is at most this many of jieba's words (短视频 = 短 + 视频)


@dataclass(frozen=True)
class Word:
    """A mainland word and how Taiwan and Hong Kong readers write it (None: as in the mainland, characters converted)."""

    mainland: str
    tw: str | None = None
    hk: str | None = None
    role: bool = False  # one of our role words: written back as the reader wrote it, and rewritten inside compounds
    keep: tuple[str, ...] = ()  # Simplified phrases in which the word keeps its mainland form
    sample: str = ""  # a Simplified sentence that uses the word, and how each region reads it
    expect: tuple[tuple[str, str], ...] = ()

    def local(self, region: str) -> str | None:
        """Return the region's form, or None when the region writes the mainland word."""
        return self.tw if region == "tw" else self.hk if region == "hk" else None


@dataclass(frozen=True)
class Correction:
    """A form the converter writes wrongly in our text, and the right one (regions: where it applies)."""

    wrong: str
    right: str
    regions: tuple[str, ...] = REGIONS
    why: str = ""


@dataclass(frozen=True, eq=False)
class Glossary:
    """The reviewed regional words, the marks of Traditional text and the converter's corrections."""

    words: tuple[Word, ...]
    marks: tuple[tuple[str, str], ...] = ()  # “ → 「: the same for every Traditional reader
    corrections: tuple[Correction, ...] = ()

    @cached_property
    def by_word(self) -> dict[str, Word]:
        """Return the words by their mainland form."""
        return {w.mainland: w for w in self.words}

    def region_words(self, region: str) -> frozenset[str]:
        """Return the mainland words the region writes its own way."""
        return frozenset(w.mainland for w in self.words if w.local(region))

    def roles(self) -> tuple[Word, ...]:
        """Return the role words, which follow what the reader wrote."""
        return tuple(w for w in self.words if w.role)

    def localize(self, text: str, region: str, chosen: frozenset[str]) -> list[tuple[str, str]]:
        """Cut Simplified text into (mainland, local) pieces: the chosen words in the region's form, whole words only.

        A role word is also rewritten inside a compound jieba keeps whole (营销部), another word inside a compound
        of words (营销策划 → 行銷企劃, 互联网内容 → 網路內容); never inside another word (沟渠道路, 信息化).
        """
        local = {m: f for m in chosen if m in self.by_word and m in text and (f := self.by_word[m].local(region))}
        if not local:
            return [(text, text)]
        kept = _kept_spans(text, [self.by_word[m] for m in local])
        roles = {m for m in local if self.by_word[m].role}
        out: list[tuple[str, str]] = []
        toks = _cut(text)
        pos = i = 0
        while i < len(toks):
            # a word is whole when it starts and ends where jieba's words do (数字营销 is 数字 + 营销)
            for j in range(min(len(toks), i + _SPAN), i, -1):
                run = "".join(toks[i:j])
                if run in local:
                    out.append((run, run if _inside(kept.get(run, ()), pos, pos + len(run)) else local[run]))
                    break
            else:
                j = i + 1
                out += self._inside_word(toks[i], pos, local, roles, kept)
            pos += sum(len(t) for t in toks[i:j])
            i = j
        return out

    def _inside_word(
        self,
        tok: str,
        start: int,
        local: dict[str, str],
        roles: set[str],
        kept: dict[str, list[tuple[int, int]]],
    ) -> list[tuple[str, str]]:
        """Rewrite the chosen words inside one of jieba's words: role words anywhere, others in our domain words."""
        inner = {m: f for m, f in local.items() if m in tok and (m in roles or _compound_of(tok, m))}
        if not inner:
            return [(tok, tok)]
        out: list[tuple[str, str]] = []
        at = 0
        for m in _alternation(tuple(sorted(inner, key=len, reverse=True))).finditer(tok):
            if at < m.start():
                out.append((tok[at : m.start()], tok[at : m.start()]))
            keep = _inside(kept.get(m.group(0), ()), start + m.start(), start + m.end())
            out.append((m.group(0), m.group(0) if keep else inner[m.group(0)]))
            at = m.end()
        if at < len(tok):
            out.append((tok[at:], tok[at:]))
        return out

    def mark(self, text: str) -> str:
        """Write the marks of Traditional text (“ ” → 「 」), straight quotes around Chinese words too ("营销")."""
        for mainland, local in self.marks:
            text = text.replace(mainland, local)
        if self.marks and ('"' in text or "&quot;" in text):
            text = _STRAIGHT.sub(lambda m: f"「{m.group(1) or m.group(2)}」", text)
        return text

    def correct(self, text: str, region: str) -> str:
        """Put right what the converter writes wrongly for the region."""
        fixes = {c.wrong: c.right for c in self.corrections if region in c.regions}
        if not fixes:
            return text
        pattern = _alternation(tuple(sorted(fixes, key=len, reverse=True)))
        return pattern.sub(lambda m: fixes[m.group(0)], text)

    def kept(self, word: Word, region: str) -> tuple[str, ...]:
        """Return a word's keep phrases as Simplified text shows them once read back from the region's reply
        (销售策划, and 销售企划 from 銷售企劃)."""
        out = list(word.keep)
        for phrase in word.keep:
            variant = phrase
            for other in self.words:
                if other is not word and other.mainland in variant and (f := other.local(region)):
                    variant = variant.replace(other.mainland, str(_T2S.convert(f)))
            out.append(variant)
        return tuple(sorted(set(out), key=len, reverse=True))

    def wrong_forms(self, region: str) -> tuple[str, ...]:
        """Return the forms that must never be shown to a reader of the region."""
        return tuple(c.wrong for c in self.corrections if region in c.regions)


@lru_cache(maxsize=8)
def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in words))


def _kept_spans(text: str, words: list[Word]) -> dict[str, list[tuple[int, int]]]:
    """Return, per word, where in the text its keep phrases are."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for w in words:
        for phrase in w.keep:
            at = text.find(phrase)
            while at >= 0:
                spans.setdefault(w.mainland, []).append((at, at + len(phrase)))
                at = text.find(phrase, at + 1)
    return spans


def _inside(spans: list[tuple[int, int]] | tuple[()], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _cut(text: str) -> list[str]:
    """Cut text into words as the engine does (jieba with the domain dictionary), nothing dropped."""
    segment.prepare(vocabulary())  # the shipped domain words: a no-op once the engine has loaded them
    segment.dictionary()
    return list(jieba.cut(text, HMM=False))


def _compound_of(tok: str, word: str) -> bool:
    """Say whether one of jieba's words is a compound holding `word` as a word of its own: one of our domain
    words (营销策划), or the word and another word of two characters or more (互联网 + 内容), never 信息 + 化."""
    if tok in _domain_words():
        return True
    rest = tok.removeprefix(word) if tok.startswith(word) else tok.removesuffix(word) if tok.endswith(word) else ""
    return len(rest) >= 2 and rest in segment.dictionary()[0]


@lru_cache(maxsize=1)
def _domain_words() -> frozenset[str]:
    vocab = vocabulary()
    return frozenset(vocab.words) | frozenset(vocab.roles)


def _word(item: dict[str, object]) -> Word:
    expect = tuple((r, str(item[r + "_sample"])) for r in REGIONS if item.get(r + "_sample"))
    return Word(
        mainland=str(item["mainland"]),
        tw=str(item["tw"]) if item.get("tw") else None,
        hk=str(item["hk"]) if item.get("hk") else None,
        role=bool(item.get("role")),
        keep=tuple(str(k) for k in item.get("keep") or ()),  # type: ignore[attr-defined]
        sample=str(item.get("sample") or ""),
        expect=expect,
    )


def load_glossary(folder: Path) -> Glossary:
    """Read glossary.yaml and corrections.yaml from a folder; a missing file means none."""
    words_path, fixes_path = folder / "glossary.yaml", folder / "corrections.yaml"
    data = yaml.load(words_path.read_text("utf-8"), Loader=FAST_LOADER) if words_path.exists() else None
    fixes = yaml.load(fixes_path.read_text("utf-8"), Loader=FAST_LOADER) if fixes_path.exists() else None
    data, fixes = data or {}, fixes or {}
    return Glossary(
        words=tuple(_word(w) for w in data.get("words") or []),
        marks=tuple((str(m["mainland"]), str(m["local"])) for m in data.get("marks") or []),
        corrections=tuple(
            Correction(str(c["wrong"]), str(c["right"]), tuple(c.get("regions") or REGIONS), str(c.get("why") or ""))
            for c in fixes.get("corrections") or []
        ),
    )


@lru_cache(maxsize=4)
def glossary(folder: Path | None = None) -> Glossary:
    """Return the shipped glossary and corrections (cached)."""
    return load_glossary(folder or knowledge_dir())
