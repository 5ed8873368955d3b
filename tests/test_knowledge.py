"""The shipped knowledge, reviewed like code: coverage, sources, links, our own words, no eval leaks."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from rolebot.kb.records import Record, load_records
from rolebot.language import segment
from rolebot.language.normalize import clean
from rolebot.language.understand import understand
from rolebot.language.vocabulary import vocabulary
from tests.helpers.copycheck import copied_runs, find_copied_runs, load_seed_text
from tests.helpers.shared import SHARED, needs_shared

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
TOPICS_YAML = SHARED / "spec" / "topics.yaml"
SOURCES_YAML = SHARED / "spec" / "sources.yaml"
DEV = SHARED / "eval" / "dev.jsonl"
EVAL_FILES = sorted((SHARED / "eval").glob("*.jsonl"))

OUT_OF_SCOPE = KNOWLEDGE / "out_of_scope.yaml"
OVERLAPS = KNOWLEDGE / "overlaps.yaml"
# the record files: everything but the vocabulary, the out-of-scope bank, the regional glossary, the converter's
# corrections, the overlaps, the claim inventory (tests/test_claims.py checks it) and the premises (test_dialogue.py)
NOT_RECORDS = (
    "vocabulary.yaml",
    OUT_OF_SCOPE.name,
    "glossary.yaml",
    "corrections.yaml",
    OVERLAPS.name,
    "claims.yaml",
    "premises.yaml",
)
FILES = sorted(p for p in KNOWLEDGE.glob("*.yaml") if p.name not in NOT_RECORDS)


def _yaml(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


TOPICS = {t["id"]: t for t in _yaml(TOPICS_YAML)}
SOURCE_TITLES = {s["title"] for s in _yaml(SOURCES_YAML)}
needs_spec = needs_shared(TOPICS, "spec/topics.yaml")
needs_sources = needs_shared(SOURCE_TITLES, "spec/sources.yaml")


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return load_records(FILES)


def faqs(records: list[Record]) -> list[Record]:
    return [r for r in records if r.kind == "faq"]


def test_knowledge_files_exist() -> None:
    names = {p.stem for p in FILES}
    assert {"definitions", "comparisons", "operations", "theory", "careers", "passages"} <= names


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in FILES])
def test_each_file_loads_through_the_validator(path: Path) -> None:
    recs = load_records([path])
    assert recs, f"{path.name} holds no records"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert len(recs) == len(raw.get("entries") or []) + len(raw.get("passages") or [])


def test_ids_unique_across_files(records: list[Record]) -> None:
    # load_records over all files at once raises on duplicates; check explicitly for a clear message
    counts = Counter((r.kind, r.id) for r in records)
    assert [k for k, n in counts.items() if n > 1] == []


def test_vocabulary_loads() -> None:
    v = vocabulary()
    assert {"营销", "销售", "市场", "运营"} <= set(v.roles)
    assert all(parent is None or parent in v.roles for parent in v.roles.values())
    assert all(role in v.words or role in v.roles for role in v.roles)


@needs_spec
def test_every_entry_has_a_known_topic(records: list[Record]) -> None:
    unknown = sorted({r.id for r in faqs(records) if r.data["topic"] not in TOPICS})
    assert unknown == []


@needs_spec
@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_topic_has_six_phrasings(records: list[Record], topic: str) -> None:
    phrasings = [
        p for r in faqs(records) if r.data["topic"] == topic for p in (r.data["question"], *r.data["alternates"])
    ]
    assert len(set(phrasings)) >= 6, f"{topic}: {len(set(phrasings))} phrasings"


@needs_sources
def test_every_record_cites_a_known_source(records: list[Record]) -> None:
    bad = [r.id for r in records if not r.data["sources"]]
    assert bad == [], "records without sources"
    unknown = sorted(
        {(r.id, s["title"]) for r in records for s in r.data["sources"] if s["title"] not in SOURCE_TITLES}
    )
    assert unknown == [], "source titles not in shared/spec/sources.yaml"


def test_enough_passages(records: list[Record]) -> None:
    passages = [r for r in records if r.kind == "passage"]
    assert len(passages) >= 25
    assert all(len(p.data["text"]) >= 40 for p in passages)


@needs_spec
def test_passage_topics_are_known(records: list[Record]) -> None:
    bad = [r.id for r in records if r.kind == "passage" and r.data["topic"] and r.data["topic"] not in TOPICS]
    assert bad == []


@needs_spec
def test_related_are_valid_and_never_self(records: list[Record]) -> None:
    problems = []
    for r in faqs(records):
        for rel in r.data["related"]:
            if rel not in TOPICS:
                problems.append((r.id, rel, "unknown topic"))
            if rel == r.data["topic"]:
                problems.append((r.id, rel, "its own topic"))
        if len(set(r.data["related"])) != len(r.data["related"]):
            problems.append((r.id, "", "listed twice"))
    assert problems == []


@needs_spec
def test_browse_menu_lists_known_topics() -> None:
    browse = vocabulary().browse
    listed = [t for ts in browse.values() for t in ts]
    assert sorted(set(listed) - set(TOPICS)) == []
    assert set(TOPICS) <= set(listed), "every topic reachable from /topics"


def test_answers_fit_in_a_message(records: list[Record]) -> None:
    for r in faqs(records):
        assert len(r.data["answer"]) < 3000, r.id
        assert r.data["answer"].strip() == r.data["answer"]


def test_no_phrasing_reads_like_another_topics(records: list[Record]) -> None:
    """Two topics must not share a phrasing that reads the same (same words and intents after normalising)."""
    vocab = vocabulary()
    segment.prepare(vocab)
    seen: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    where: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for r in faqs(records):
        for text in (r.data["question"], *r.data["alternates"]):
            q = understand(text, vocab)
            key = (" ".join(sorted(q.content)), tuple(sorted(q.intents)))
            seen[key].add(r.data["topic"])
            where[key].append(f"{r.id}: {text}")
    clashes = {k: where[k] for k, topics in seen.items() if len(topics) > 1}
    assert clashes == {}


# -- our own words ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds() -> str:
    text = load_seed_text()
    if text is None:
        pytest.skip("shared/seeds is absent")
    return text


@pytest.mark.shared
def test_copycheck_finds_a_planted_copy(seeds: str) -> None:
    planted = seeds[1000:1040]
    assert copied_runs("开头" + planted + "结尾", seeds)
    assert copied_runs("营销和销售的区别在于目标不同", seeds) == []


@pytest.mark.shared
@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in sorted(KNOWLEDGE.glob("*.yaml"))])
def test_no_long_runs_copied_from_sources(seeds: str, path: Path) -> None:
    assert find_copied_runs(path, seeds) == []


@pytest.mark.shared
def test_no_copied_runs_in_questions_and_titles(seeds: str, records: list[Record]) -> None:
    texts = [
        (r.id, t)
        for r in records
        for t in ([r.data["question"], *r.data["alternates"]] if r.kind == "faq" else [r.data["title"]])
    ]
    assert [(i, run) for i, t in texts for run in copied_runs(t, seeds)] == []


# -- no evaluation leaks ------------------------------------------------------------------------------


def _key(text: str) -> str:
    """Compare questions without case, width, spaces or punctuation."""
    return re.sub(r"[\W_]+", "", clean(text))


def _dev_questions() -> set[str]:
    """The dev questions, as keys; read only here and never printed."""
    out = set()
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.add(_key(row.get("q") or row.get("question") or ""))
    return out - {""}


@needs_shared(DEV.exists(), "eval/dev.jsonl")
def test_no_alternate_is_a_dev_question(records: list[Record]) -> None:
    dev = _dev_questions() | _eval_questions()  # dev.jsonl and every other eval set (real-dev.jsonl …)
    assert dev, "dev.jsonl has questions"
    # the canonical questions come from topics.yaml and may coincide; alternates are ours
    leaked = Counter(r.id for r in faqs(records) for alt in r.data["alternates"] if _key(alt) in dev)
    # entry ids and counts only: the dev questions themselves must not end up in a log
    assert not leaked, f"{sum(leaked.values())} alternates copy dev questions, in entries {sorted(leaked)}"


# -- the out-of-scope bank (negatives for training, never loaded as answers) ---------------------------

OUT_OF_SCOPE_KINDS = {
    "other-job",
    "salary",
    "interview",
    "resume",
    "certificate",
    "tools",
    "company",
    "theory-detail",
    "how-to",
    "life",
    "word-sense",
    "near-role",
}


def _bank() -> list[dict[str, str]]:
    data = yaml.safe_load(OUT_OF_SCOPE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("questions"), list)
    return data["questions"]


def test_out_of_scope_bank_is_well_formed() -> None:
    bank = _bank()
    assert len(bank) >= 250
    bad = [i for i, item in enumerate(bank) if set(item) != {"q", "kind"} or not str(item["q"]).strip()]
    assert bad == [], "items need exactly q and kind"
    assert sorted({item["kind"] for item in bank} - OUT_OF_SCOPE_KINDS) == []
    counts = Counter(item["kind"] for item in bank)
    assert all(counts[k] >= 10 for k in OUT_OF_SCOPE_KINDS), counts
    dupes = [k for k, n in Counter(_key(item["q"]) for item in bank).items() if n > 1]
    assert dupes == []


def test_overlaps_name_known_topics_and_never_a_topic_itself(records: list[Record]) -> None:
    covers = yaml.safe_load(OVERLAPS.read_text(encoding="utf-8"))["covers"]
    named = [t for broad, narrow in covers.items() for t in (broad, *narrow)]
    # the topics the shipped entries answer: with shared/spec beside the checkout, the tests above make them
    # exactly the spec's topics, so this needs no ../shared
    known = {r.data["topic"] for r in faqs(records)}
    assert sorted(set(named) - known) == []
    assert [b for b, narrow in covers.items() if b in narrow] == []
    assert all(len(set(narrow)) == len(narrow) for narrow in covers.values())


def test_overlaps_are_not_loaded_as_knowledge() -> None:
    from rolebot.kb.knowledge import shipped_paths

    assert OVERLAPS not in shipped_paths(KNOWLEDGE)


def test_out_of_scope_bank_is_not_loaded_as_knowledge() -> None:
    from rolebot.kb.knowledge import shipped_paths

    assert OUT_OF_SCOPE not in shipped_paths(KNOWLEDGE)
    assert all(p.name != OUT_OF_SCOPE.name for p in shipped_paths())


def test_out_of_scope_bank_never_repeats_a_phrasing(records: list[Record]) -> None:
    phrasings = {_key(t) for r in faqs(records) for t in (r.data["question"], *r.data["alternates"])}
    clash = [item["q"] for item in _bank() if _key(item["q"]) in phrasings]
    assert clash == [], "out-of-scope questions that are phrasings of an FAQ entry"


def _eval_questions() -> set[str]:
    """Every question of shared/eval/*.jsonl, as keys; read only here and never printed."""
    out = set()
    for path in EVAL_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.add(_key(row.get("q") or row.get("question") or ""))
    return out - {""}


@needs_shared(EVAL_FILES, "eval")
def test_out_of_scope_bank_holds_no_eval_question() -> None:
    held = _eval_questions()
    assert held, "shared/eval has questions"
    leaked = sum(_key(item["q"]) in held for item in _bank())
    # a count only: the evaluation questions must not end up in a log
    assert leaked == 0, f"{leaked} out-of-scope questions copy evaluation questions"
