"""Who a reply is for (script, Taiwan or Hong Kong standard, the local words they used) and writing for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
import yaml

from rolebot.config import knowledge_dir
from rolebot.language.vocabulary import FAST_LOADER

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"
REGIONS = ("tw", "hk")

_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=2)
def _s2t(region: str) -> opencc.OpenCC:
    """Return the converter to a region's Traditional, made at its first use (its phrase table takes ~40 MB)."""
    # characters and regional variants only: phrase tables (s2twp) rewrite 的士兵 as 計程車兵
    return opencc.OpenCC("s2hk" if region == "hk" else "s2tw")


# Cantonese words no Taiwan or Mandarin question would use; 係 alone also ends 關係, so only after no 關/联
_CANTONESE = re.compile(r"[嘅咩唔冇佢啲喺嗰咗嘢哋噉嚟囉喎]|點解|點樣|邊個|邊度|(?<![關联聯])係")
_TITLE = re.compile(r"《[^《》]*》")  # a published title: its wording stays as published


@dataclass(frozen=True)
class LocalWord:
    """A word Taiwan readers write differently: the Simplified word, its local form, compounds left alone."""

    simplified: str
    local: str
    keep: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Glossary:
    """The curated words where Taiwan usage differs (knowledge/traditional.yaml)."""

    words: tuple[LocalWord, ...]

    def used_in(self, text: str) -> frozenset[str]:
        """Return the Simplified words whose local form the text uses."""
        return frozenset(w.simplified for w in self.words if w.local in text)

    def apply(self, text: str, chosen: frozenset[str]) -> str:
        """Put the local form of each chosen word into Simplified text, outside 《》 titles and kept compounds."""
        local = {w.simplified: w.local for w in self.words if w.simplified in chosen and w.simplified in text}
        if not local:
            return text
        kept = {k for w in self.words if w.simplified in local for k in w.keep}
        # one left-to-right pass, longest first: 运营销售 is 运营 + 销售, never 运 + 营销 + 售
        pattern = re.compile(
            "|".join([_TITLE.pattern, *(re.escape(x) for x in sorted(kept | set(local), key=len, reverse=True))])
        )
        return pattern.sub(lambda m: local.get(m.group(0), m.group(0)), text)


def load_glossary(path: Path) -> Glossary:
    """Read a glossary file; a missing file means no local words."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER) if path.exists() else None
    words = tuple(
        LocalWord(str(w["simplified"]), str(w["local"]), tuple(str(k) for k in w.get("keep") or ()))
        for w in (data or {}).get("words") or []
    )
    return Glossary(words)


@lru_cache(maxsize=4)
def glossary(folder: Path | None = None) -> Glossary:
    """Return the shipped glossary (cached)."""
    return load_glossary((folder or knowledge_dir()) / "traditional.yaml")


@dataclass(frozen=True)
class Reader:
    """Who a reply is for: the script, the regional standard, and the glossary words they wrote locally."""

    script: str = SIMPLIFIED
    region: str = "tw"  # "tw" | "hk", for Traditional
    words: frozenset[str] = frozenset()  # Simplified glossary words, e.g. 营销 for a reader who wrote 行銷

    @property
    def traditional(self) -> bool:
        """Say whether replies go out in Traditional."""
        return self.script == TRADITIONAL

    def write(self, text: str) -> str:
        """Write our Simplified text for this reader: their local words, then characters converted."""
        if not self.traditional:
            return text
        return str(_s2t(self.region).convert(glossary().apply(text, self.words)))

    def write_title(self, text: str) -> str:
        """Write a published title for this reader: its script only, never its words."""
        return str(_s2t(self.region).convert(text)) if self.traditional else text

    def forced(self, script: str | None) -> Reader:
        """Return this reader with the script a group chose (None keeps the reader's own)."""
        if script is None or script == self.script:
            return self
        return Reader(script) if script == SIMPLIFIED else Reader(script, self.region, self.words)


SIMPLIFIED_READER = Reader()  # the default: our Simplified text as it is


def detect_script(text: str) -> str:
    """Return 'traditional' when converting to Simplified changes the text."""
    changed = sum(1 for a, b in zip(text, _T2S.convert(text), strict=False) if a != b)
    return TRADITIONAL if changed else SIMPLIFIED


def detect_region(text: str) -> str:
    """Return 'hk' for Cantonese wording or mostly Hong Kong character forms (裏, 説, 户), else 'tw'."""
    if _CANTONESE.search(text):
        return "hk"
    hk = tw = 0
    for ch in set(text):
        simple = _T2S.convert(ch)
        as_tw, as_hk = _s2t("tw").convert(simple), _s2t("hk").convert(simple)
        if as_tw != as_hk:
            hk += ch == as_hk
            tw += ch == as_tw
    return "hk" if hk > tw else "tw"


def reader_of(text: str) -> Reader:
    """Read from a question (or a reply of ours) who it is for."""
    if detect_script(text) != TRADITIONAL:
        return Reader()
    return Reader(TRADITIONAL, detect_region(text), glossary().used_in(text))
