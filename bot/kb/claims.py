"""The seeds' claims (knowledge/claims.yaml), read as points an answer of their topic can lead with."""

from __future__ import annotations

from pathlib import Path

import yaml

from rolebot.store.schema import Point

CLAIMS_FILE = "claims.yaml"


def read_claims(path: Path) -> list[Point]:
    """Return the claims of a claims file (none when it is absent)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Point(
            id=str(c["id"]),
            topic=str(c["topic"]),
            roles=tuple(str(r) for r in c.get("roles") or ()),
            aspect=str(c["aspect"]),
            text=str(c["text"]).strip(),
            source=str(c["source"]),
            asks=tuple(str(a) for a in c.get("asks") or ()),
        )
        for c in data.get("claims") or []
    ]
