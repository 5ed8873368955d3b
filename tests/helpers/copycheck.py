"""Find text in knowledge files copied verbatim from the source articles."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import yaml

RUN = 24
_SKIP = re.compile(r"[\s，。、：；！？,.:;!?“”\"'‘’（）()《》「」【】\-—*#·•>\[\]]+")


def _flatten(text: str) -> str:
    """Drop whitespace and punctuation so reflowed copies are still caught."""
    return _SKIP.sub("", unicodedata.normalize("NFKC", text))


def seeds_dir() -> Path | None:
    """Locate shared/seeds beside the checkout, or where ROLEBOT_SEEDS points."""
    env = os.environ.get("ROLEBOT_SEEDS")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[2]  # the checkout: tests/helpers/ is two below it
    candidates += [root.parent / "shared" / "seeds", root / "shared" / "seeds"]
    return next((c for c in candidates if c.is_dir()), None)


def load_seed_text() -> str | None:
    """Return all seed articles flattened into one string, or None when absent."""
    folder = seeds_dir()
    if folder is None:
        return None
    return "\n".join(_flatten(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.txt")))


def copied_runs(text: str, seeds: str, run: int = RUN) -> list[str]:
    """Return maximal runs of `run`+ characters of `text` that occur in `seeds`."""
    flat = _flatten(text)
    found: list[str] = []
    i = 0
    while i + run <= len(flat):
        if flat[i : i + run] in seeds:
            j = i + run
            while j < len(flat) and flat[i : j + 1] in seeds:
                j += 1
            found.append(flat[i:j])
            i = j
        else:
            i += 1
    return found


def find_copied_runs(path: Path, seeds: str) -> list[tuple[str, str]]:
    """Check every answer and passage text in one knowledge file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: list[tuple[str, str]] = []
    for kind, field in (("entries", "answer"), ("passages", "text")):
        for rec in data.get(kind) or []:
            for run in copied_runs(str(rec.get(field, "")), seeds):
                out.append((str(rec.get("id")), run))
    return out
