"""Who a reply is for (script, mainland / Taiwan / Hong Kong, the role words they wrote) and writing for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import opencc

from rolebot.language.glossary import REGIONS, glossary

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"
MAINLAND = "cn"
# how `rolebot ask --json` names a region
REGION_NAMES = {MAINLAND: "mainland", "tw": "taiwan", "hk": "hong-kong"}
__all__ = ["REGIONS", "REGION_NAMES", "Reader", "SIMPLIFIED_READER", "detect_region", "detect_script", "reader_of"]

_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=2)
def _s2t(region: str) -> opencc.OpenCC:
    """Return the converter to a region's Traditional, made at its first use (its phrase table takes ~40 MB)."""
    # characters and regional variants only: phrase tables (s2twp) rewrite 的士兵 as 計程車兵
    return opencc.OpenCC("s2hk" if region == "hk" else "s2tw")


# Cantonese words no Taiwan or Mandarin question would use; 係 alone also ends 關係, so only after no 關/联
_CANTONESE = re.compile(r"[嘅咩唔冇佢啲喺嗰咗嘢哋噉嚟囉喎]|點解|點樣|邊個|邊度|(?<![關联聯])係")
_TITLE = re.compile(r"(《[^《》]*》)")  # a published title: shown as published
_SLOT = 0xF0000  # private-use code points stand for a local word while the rest is converted


@dataclass(frozen=True)
class Reader:
    """Who a reply is for: the script, the region (cn, tw, hk) and the mainland words written their region's way."""

    script: str = SIMPLIFIED
    region: str = ""  # "cn" | "tw" | "hk"; empty: cn for Simplified, tw for Traditional
    words: frozenset[str] = field(default=frozenset())  # glossary words in the region's form (营销 → 行銷)

    def __post_init__(self) -> None:
        """Fill in the region a script implies."""
        if not self.region:
            object.__setattr__(self, "region", MAINLAND if self.script == SIMPLIFIED else "tw")

    @property
    def traditional(self) -> bool:
        """Say whether replies go out in Traditional."""
        return self.script == TRADITIONAL

    @property
    def region_name(self) -> str:
        """Return the region as the JSON contract names it: mainland, taiwan or hong-kong."""
        return REGION_NAMES[MAINLAND if not self.traditional else self.region]

    def write(self, text: str) -> str:
        """Write our Simplified text for this reader: regional words, characters, marks and corrections.

        Titles in 《》 are left as published.
        """
        if not self.traditional or not text:
            return text
        return _written(self, text)

    def _convert(self, text: str) -> str:
        """Convert text that holds no title."""
        terms = glossary()
        slots: list[str] = []
        out = []
        for mainland, local in terms.localize(text, self.region, self.words):
            if mainland == local:
                out.append(mainland)
            else:
                out.append(chr(_SLOT + len(slots)))
                slots.append(local)
        converted = str(_s2t(self.region).convert("".join(out)))
        if slots:
            converted = "".join(slots[ord(c) - _SLOT] if ord(c) >= _SLOT else c for c in converted)
        return str(terms.correct(terms.mark(converted), self.region))

    def forced(self, script: str | None) -> Reader:
        """Return this reader as a group's setting wants: simplified, traditional (this region), tw or hk."""
        if script is None or script == self.script:
            return self
        if script == SIMPLIFIED:
            return Reader()
        if script in REGIONS:
            return Reader(TRADITIONAL, script, glossary().region_words(script))
        return Reader(TRADITIONAL, "tw")  # Traditional characters for a Simplified asker; no regional words


SIMPLIFIED_READER = Reader()  # the default: our Simplified text as it is


# the same answers, buttons and menus are shown again and again: a Taiwan answer card takes ~4 ms to write
@lru_cache(maxsize=4096)
def _written(reader: Reader, text: str) -> str:
    """Return a text written for a Traditional reader, titles in 《》 as published."""
    parts = _TITLE.split(text)
    return "".join(p if i % 2 else reader._convert(p) for i, p in enumerate(parts))


def detect_script(text: str) -> str:
    """Return 'traditional' when converting to Simplified changes the text."""
    changed = sum(1 for a, b in zip(text, _T2S.convert(text), strict=False) if a != b)
    return TRADITIONAL if changed else SIMPLIFIED


def detect_region(text: str) -> str:
    """Return 'hk' for Cantonese wording or mostly Hong Kong character forms (裏, 羣, 户), else 'tw'."""
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
    """Read from a question (or a reply of ours) who it is for.

    Plain Traditional reads as Taiwan's. The region's words are all on but for a role word the text
    writes the mainland way (營銷 outside 銷售額-like phrases): that reader gets 營銷 back.
    """
    text = _TITLE.sub("", text)  # a title of ours is not the reader's wording
    if detect_script(text) != TRADITIONAL:
        return Reader()
    region = detect_region(text)
    terms = glossary()
    words = set(terms.region_words(region))
    for w in terms.roles():
        if w.mainland in words and _writes_mainland(text, w.mainland, terms.kept(w, region)):
            words.discard(w.mainland)
    return Reader(TRADITIONAL, region, frozenset(words))


def _writes_mainland(text: str, mainland: str, keep: tuple[str, ...]) -> bool:
    """Say whether Traditional text uses a mainland word outside the phrases where it is kept anyway."""
    plain = str(_T2S.convert(text))
    for phrase in keep:
        plain = plain.replace(phrase, "")
    # 行銷 converts back to 行销 and 業務 to 业务: only the mainland spelling (營銷, 銷售) reads as 营销, 销售
    return mainland in plain
