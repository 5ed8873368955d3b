"""The seeds' claims (knowledge/claims.yaml) as answers: each claim an entry of its topic, asked by its phrasings.

A claim is one specific point of a source article (a verdict, a metaphor, advice, a detail of how departments
are set up …) with the roles it is about and the aspect it answers. As an entry of its topic it competes in the
shortlist like any phrasing: a question asked the way a claim is asked gets that claim first, then the topic's
one-line summary for context, instead of the topic's general answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from rolebot.kb.records import FaqRecord, Record
from rolebot.store.schema import FaqData, Source

CLAIMS_FILE = "claims.yaml"


@dataclass(frozen=True)
class Claim:
    """One askable point of a source article."""

    id: str
    topic: str
    roles: tuple[str, ...]
    aspect: str
    text: str
    source: str  # the article's title, as published
    asks: tuple[str, ...]


def read_claims(path: Path) -> list[Claim]:
    """Return the claims of a claims file (none when it is absent)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Claim(
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


def summary_line(answer: str) -> str:
    """Return the first line of an answer, without its "一句话：" lead."""
    first = answer.strip().splitlines()[0] if answer.strip() else ""
    return first.removeprefix("一句话：").strip()


def claim_records(claims: list[Claim], entries: list[Record]) -> list[FaqRecord]:
    """Return an entry per claim whose topic has an entry: the claim, then its topic's summary, with the source."""
    main: dict[str, FaqData] = {}
    sources: dict[str, Source] = {}
    for rec in entries:
        if isinstance(rec, FaqRecord):
            main.setdefault(rec.data["topic"], rec.data)  # a topic's first entry is its main one
            for s in rec.data["sources"]:
                sources.setdefault(s["title"], s)
    out: list[FaqRecord] = []
    for claim in claims:
        topic = main.get(claim.topic)
        if topic is None or not claim.asks:
            continue
        context = summary_line(topic["answer"])
        answer = claim.text + (f"\n\n{context}" if context and context not in claim.text else "")
        data: FaqData = {
            "topic": claim.topic,
            "question": claim.asks[0],
            "alternates": list(claim.asks[1:]),
            "answer": answer,
            "sources": [sources.get(claim.source, {"title": claim.source})],
            "related": [t for t in topic["related"] if t != claim.topic],
            "tags": ["claim", claim.aspect],
        }
        out.append(FaqRecord("faq", claim.id, data, CLAIMS_FILE))
    return out
