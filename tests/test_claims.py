"""The claim inventory (knowledge/claims.yaml): well formed, linked to the knowledge, in our own words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rolebot.kb.records import load_records
from rolebot.language.vocabulary import vocabulary
from tests.helpers.copycheck import copied_runs, is_term_run, load_seed_text

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SHARED = ROOT.parent / "shared"
CLAIMS = yaml.safe_load((KNOWLEDGE / "claims.yaml").read_text(encoding="utf-8"))
RECORD_FILES = [
    KNOWLEDGE / f"{n}.yaml" for n in ("definitions", "comparisons", "operations", "theory", "careers", "passages")
]


def _spec(name: str) -> list[dict]:
    path = SHARED / "spec" / name
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


def test_ids_unique_and_fields_complete() -> None:
    ids = [c["id"] for c in CLAIMS["claims"]]
    assert len(ids) == len(set(ids))
    fields = {"id", "seed", "source", "roles", "aspect", "text", "entry", "passage", "topic", "asks"}
    assert [c["id"] for c in CLAIMS["claims"] if set(c) != fields] == []
    assert [c["id"] for c in CLAIMS["claims"] if not 2 <= len(c["asks"]) <= 3] == []


def test_aspects_and_roles_are_known() -> None:
    aspects = set(CLAIMS["aspects"])
    roles = set(vocabulary().roles)
    assert [c["id"] for c in CLAIMS["claims"] if c["aspect"] not in aspects] == []
    assert [(c["id"], r) for c in CLAIMS["claims"] for r in c["roles"] if r not in roles] == []


def test_entries_and_passages_exist() -> None:
    records = {r.id: r for r in load_records(RECORD_FILES)}
    bad = [c["id"] for c in CLAIMS["claims"] if c["entry"] != "none" and records.get(c["entry"], None) is None]
    assert bad == []
    assert [c["id"] for c in CLAIMS["claims"] if c["passage"] not in records] == []


@pytest.mark.skipif(not _spec("sources.yaml"), reason="shared/spec is absent")
def test_sources_and_topics_match_the_spec() -> None:
    titles = {s["file"]: s["title"] for s in _spec("sources.yaml")}
    topics = {t["id"] for t in _spec("topics.yaml")}
    assert [c["id"] for c in CLAIMS["claims"] if titles.get(c["seed"]) != c["source"]] == []
    assert [c["id"] for c in CLAIMS["claims"] if c["topic"] not in topics] == []


def test_claims_are_not_copied_in_long_runs() -> None:
    seeds = load_seed_text()
    if seeds is None:
        pytest.skip("shared/seeds is absent")
    texts = [(c["id"], t) for c in CLAIMS["claims"] for t in [c["text"], *c["asks"]]]
    # stricter than the 24 of test_knowledge: a claim is one sentence, so a copied half-sentence shows
    runs = [(i, run) for i, t in texts for run in copied_runs(t, seeds, 8) if not is_term_run(run)]
    assert runs == []
