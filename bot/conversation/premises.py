"""Premises a yes/no question takes for granted that a point of the knowledge denies (knowledge/premises.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rolebot.config import knowledge_dir

PREMISES_FILE = "premises.yaml"
# a question asking to be confirmed: 吧/吗 at its end, or 是不是/对不对 anywhere
_YES_NO = re.compile(r"(吧|吗|么|嘛|对吧|是吧|对不对|是不是|没错吧)[?？!！。.~\s]*$|是不是|对不对|是否")


@dataclass(frozen=True)
class Premise:
    """A view the knowledge denies, the words that assert it, and the one sentence that corrects it."""

    id: str
    claim: str
    premise: str
    match: tuple[tuple[str, ...], ...]
    correction: str
    topic: str | None = None  # answers instead of the claim's topic


@lru_cache(maxsize=4)
def load_premises(folder: Path | None = None) -> tuple[Premise, ...]:
    """Read the premises of the shipped knowledge (none when the file is absent)."""
    path = (folder or knowledge_dir()) / PREMISES_FILE
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(
        Premise(
            str(p["id"]),
            str(p["claim"]),
            str(p["premise"]),
            tuple(tuple(str(w) for w in words) for words in p["match"]),
            str(p["correction"]),
            str(p["topic"]) if p.get("topic") else None,
        )
        for p in data.get("premises", [])
    )


def read_premise(normalized: str, premises: tuple[Premise, ...]) -> Premise | None:
    """Return the premise a yes/no question asserts, or None (the question normalised: canonical role words)."""
    squeezed = re.sub(r"\s+", "", normalized)
    if not _YES_NO.search(squeezed):
        return None
    asked = squeezed.replace("是不是", "是")
    return next((p for p in premises if any(all(w in asked for w in words) for words in p.match)), None)
