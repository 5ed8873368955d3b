"""The depth and near sets (tests/data/): well formed, answered by a claim, and kept out of the knowledge."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from rolebot.language.normalize import clean
from rolebot.language.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DATA = ROOT / "tests" / "data"
CLAIMS = {c["id"]: c for c in yaml.safe_load((KNOWLEDGE / "claims.yaml").read_text(encoding="utf-8"))["claims"]}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _key(text: str) -> str:
    """Compare questions without case, width, spaces or punctuation."""
    return re.sub(r"[\W_]+", "", clean(text))


def _knowledge_questions() -> set[str]:
    """Every question the knowledge holds: canonical questions, alternates, claims' asks, out-of-scope items."""
    out: set[str] = set()
    for name in ("definitions", "comparisons", "operations", "theory", "careers"):
        for e in yaml.safe_load((KNOWLEDGE / f"{name}.yaml").read_text(encoding="utf-8"))["entries"]:
            out |= {_key(q) for q in [e["question"], *e["alternates"]]}
    out |= {_key(a) for c in CLAIMS.values() for a in c["asks"]}
    oos = yaml.safe_load((KNOWLEDGE / "out_of_scope.yaml").read_text(encoding="utf-8"))["questions"]
    return out | {_key(q["q"]) for q in oos}


def test_depth_rows_name_a_claim_whose_text_holds_every_keyword() -> None:
    rows = _rows("depth.jsonl")
    assert len(rows) >= 60
    assert [r["q"] for r in rows if set(r) != {"q", "claim", "topic", "keywords", "seed"}] == []
    assert [r["q"] for r in rows if r["claim"] not in CLAIMS] == []
    assert [r["q"] for r in rows if not 2 <= len(r["keywords"]) <= 4] == []
    assert [(r["claim"], k) for r in rows for k in r["keywords"] if k not in CLAIMS[r["claim"]]["text"]] == []
    assert [
        r["q"] for r in rows if (CLAIMS[r["claim"]]["topic"], CLAIMS[r["claim"]]["seed"]) != (r["topic"], r["seed"])
    ] == []


def test_near_rows_expect_related_and_name_known_roles() -> None:
    rows = _rows("near.jsonl")
    assert len(rows) >= 25
    roles = set(vocabulary().roles)
    assert [r["q"] for r in rows if r["expect"] != "related" or not r["missing"]] == []
    assert [(r["q"], x) for r in rows for x in r["roles"] if x not in roles] == []


def test_no_question_of_the_sets_is_in_the_knowledge() -> None:
    known = _knowledge_questions()
    questions = [r["q"] for r in _rows("depth.jsonl") + _rows("near.jsonl")]
    assert [q for q in questions if _key(q) in known] == []
    assert len({_key(q) for q in questions}) == len(questions)
