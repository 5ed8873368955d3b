"""Knowledge-base operations: import, export, and keeping the shipped knowledge fresh."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rolebot.config import knowledge_dir
from rolebot.errors import ImportFormatError, Problem
from rolebot.kb.records import FaqRecord, PassageRecord, Progress, Record, load_records
from rolebot.language import segment
from rolebot.language.normalize import exact_keys, normalize
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.index import Phrasing
from rolebot.store.schema import RecordData, faq_fields, passage_fields
from rolebot.store.store import Store
from rolebot.store.worker import is_busy

SHIPPED_FILES = ("definitions", "comparisons", "operations", "theory", "careers", "passages")


@dataclass
class ImportPlan:
    """What an import would change."""

    added: list[Record] = field(default_factory=list)
    updated: list[Record] = field(default_factory=list)
    unchanged: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    previous: dict[tuple[str, str], RecordData] = field(default_factory=dict)  # stored data of updated records

    def summary(self) -> str:
        """Return one line: how many would be added, updated, left unchanged."""
        return f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged"

    def describe(self, limit: int = 50) -> list[str]:
        """Return one line per added or changed record: its topic and question, and what changes."""
        lines = [f"add {_label(r)}" for r in self.added[:limit]]
        for rec in self.updated[:limit]:
            # compared field by field, whatever the kind
            old: Mapping[str, object] = self.previous.get((rec.kind, rec.id), {})
            new: Mapping[str, object] = rec.data
            changed = [k for k in sorted(set(new) | set(old)) if new.get(k) != old.get(k)]
            lines.append(f"update {_label(rec)}: {', '.join(_change(k, old.get(k), new.get(k)) for k in changed)}")
        hidden = max(0, len(self.added) - limit) + max(0, len(self.updated) - limit)
        return lines + ([f"… and {hidden} more"] if hidden else [])


def _label(rec: Record) -> str:
    """Name a record the way a maintainer knows it: topic and question (or passage title)."""
    data = rec.data
    if rec.kind == "faq":
        return f"[{data.get('topic')}] {data.get('question')}"
    return f"[passage {rec.id}] {data.get('title') or str(data.get('text', ''))[:30]}"


def _change(key: str, old: object, new: object) -> str:
    """Say briefly how one field changes."""
    if isinstance(old, list) and isinstance(new, list):
        plus, minus = [x for x in new if x not in old], [x for x in old if x not in new]
        parts = [f"+{len(plus)}" if plus else "", f"-{len(minus)}" if minus else ""]
        return f"{key} {' '.join(p for p in parts if p) or 'reordered'}"
    if isinstance(old, str) and isinstance(new, str):
        return f"{key} ({len(old)} → {len(new)} chars)"
    return key


def tokens_for(text: str, vocab: Vocabulary) -> str:
    """Return the space-joined words of a text, as the index stores them."""
    return " ".join(segment.words(normalize(text, vocab).text))


def phrasings_of(rec: Record, vocab: Vocabulary) -> list[Phrasing]:
    """Return every way a record can be found: words for the index, and for an entry, exact-lookup keys."""
    if rec.kind != "faq":
        return [
            Phrasing(text, tokens_for(text, vocab))
            for text in [f"{rec.data['title'] or ''} {rec.data['text']}".strip()]
        ]
    question = rec.data["question"]
    out: dict[str, Phrasing] = {}
    for t in [question, *rec.data["alternates"]]:
        if t not in out:
            out[t] = Phrasing(t, tokens_for(t, vocab), *exact_keys(t), main=t == question)
    return list(out.values())


def fill_exact_keys(store: Store) -> int:
    """Give exact-lookup keys to FAQ phrasings stored before keys existed (migration 6); return how many."""
    rows = store.unkeyed_phrasings()
    if rows:
        with store.atomic():
            store.set_exact_keys([(pid, *exact_keys(text), main) for pid, text, main in rows])
    return len(rows)


def plan_import(store: Store, records: list[Record]) -> ImportPlan:
    """Compare records with what is stored."""
    plan = ImportPlan()
    for kind in ("faq", "passage"):
        batch = [r for r in records if r.kind == kind]
        have = store.existing(kind, (r.id for r in batch))
        for rec in batch:
            if rec.id not in have:
                plan.added.append(rec)
            elif have[rec.id][0] != rec.data:
                plan.updated.append(rec)
                plan.previous[(kind, rec.id)] = have[rec.id][0]
            else:
                plan.unchanged.append(rec)
    return plan


def write_records(
    store: Store, records: list[Record], origin: str, vocab: Vocabulary | None = None, progress: Progress | None = None
) -> None:
    """Upsert records and their phrasings in one transaction."""
    vocab = vocab or vocabulary()
    segment.prepare(vocab)
    done = 0
    with store.atomic():
        for kind in ("faq", "passage"):
            batch = [r for r in records if r.kind == kind]
            for start in range(0, len(batch), 2000):
                chunk = batch[start : start + 2000]
                store.write(
                    kind, [(r.id, r.data, origin) for r in chunk], [(r.id, phrasings_of(r, vocab)) for r in chunk]
                )
                done += len(chunk)
                if progress is not None:
                    progress("indexing", done, len(records))


# the confident topic and score a question gets today, or None: lets an import warn about overlaps
# without the knowledge layer depending on the engine
Answerer = Callable[[str], tuple[str, int] | None]


def import_files(
    store: Store,
    paths: list[Path],
    dry_run: bool = False,
    actor: str | None = None,
    answerer: Answerer | None = None,
    progress: Progress | None = None,
    allow_unknown_related: bool = False,
) -> ImportPlan:
    """Validate files, then (unless dry_run) write the changes atomically; raise ImportFormatError on any problem."""
    records = load_records(paths, progress=progress)
    plan = plan_import(store, records)
    errors, plan.warnings = check_records(store, plan.added + plan.updated, records, allow_unknown_related)
    if errors:
        raise ImportFormatError(errors)
    if answerer:
        plan.warnings += overlap_warnings(plan.added, answerer)
    changed = plan.added + plan.updated
    try:
        with store.atomic():
            # a dry run writes too, inside a transaction it then rolls back: the shared-phrasing check is
            # one GROUP BY over what the database would hold, at any import size
            write_records(store, changed, "imported", progress=progress)
            plan.warnings += shared_phrasing_warnings(store, changed)
            if dry_run:
                raise _RollBack
            if actor:
                store.audit(
                    actor,
                    "import",
                    {"files": [p.name for p in paths], "added": len(plan.added), "updated": len(plan.updated)},
                )
    except _RollBack:
        pass
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise  # the bot's writer waits for the lock and tries again
        # a full disk, a read-only or damaged database: the transaction rolled back, nothing stays
        raise ImportFormatError([Problem(str(store.path), 0, "(database)", f"{exc}; nothing was written")]) from None
    return plan


class _RollBack(Exception):
    """Raised inside a dry run's transaction so that nothing it wrote stays."""


def shared_phrasing_warnings(store: Store, changed: list[Record], limit: int = 20) -> list[str]:
    """Warn about wordings (up to punctuation) that several entries share: only one of them can win."""
    where = {r.id: r for r in changed if r.kind == "faq"}
    out = []
    for text, ids in store.shared_phrasings(list(where), limit):
        rec = where.get(next((i for i in ids if i in where), ""))
        place = f"{rec.file}:{rec.line}: " if rec else ""
        named = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        out.append(f"{place}alternates: {text!r} is a phrasing of several entries: {named}")
    return out


SHORTEST_ANSWER = 6  # characters; fewer is not yet a sentence a user can act on


def check_records(
    store: Store, changed: list[Record], batch: list[Record], allow_unknown_related: bool
) -> tuple[list[Problem], list[str]]:
    """Check links and completeness: unknown related topics are errors (or warnings if allowed)."""
    known = {topic for topic, _, _ in store.topics()} | {str(r.data.get("topic")) for r in batch if r.kind == "faq"}
    errors: list[Problem] = []
    warnings: list[str] = []
    for rec in changed:
        where = (rec.file, rec.line)
        if not rec.data.get("sources"):
            warnings.append(f"{rec.file}:{rec.line}: sources: none given; answers should cite where they come from")
        if rec.kind != "faq":
            continue
        answer = str(rec.data.get("answer", ""))
        if len(answer.strip()) < SHORTEST_ANSWER:
            warnings.append(
                f"{rec.file}:{rec.line}: answer: only {len(answer.strip())} characters, less than a sentence"
            )
        for topic in rec.data.get("related", []):
            if topic in known:
                continue
            problem = Problem(
                *where,
                "related",
                f"topic {topic!r} exists nowhere (not stored, not in this import; --allow-unknown-related)",
            )
            if allow_unknown_related:
                warnings.append(str(problem))
            else:
                errors.append(problem)
    return errors, warnings


def overlap_warnings(added: list[Record], answerer: Answerer, limit: int = 20) -> list[str]:
    """Warn when a new question is already answered confidently by another topic."""
    faqs = [r for r in added if isinstance(r, FaqRecord)]
    if not faqs or len(faqs) > 2000:
        return []
    out: list[str] = []
    for rec in faqs:
        found = answerer(rec.data["question"])
        if found is not None and found[0] != rec.data["topic"]:
            out.append(
                f"{rec.file}:{rec.line}: question {rec.data['question']!r} is already answered by "
                f"topic {found[0]} ({found[1]})"
            )
            if len(out) >= limit:
                break
    return out


def add_phrasing(store: Store, topic: str, text: str, actor: str, vocab: Vocabulary | None = None) -> bool:
    """Add a way of asking to a topic's main entry (it then counts as imported), with an audit record."""
    entries = store.topic_entries(topic)
    if not entries:
        return False
    entry = entries[0]
    if text in entry["alternates"] or text == entry["question"]:
        return True
    data = faq_fields(entry)
    data["alternates"] = [*data["alternates"], text]
    with store.atomic():
        write_records(store, [FaqRecord("faq", entry["id"], data)], "imported", vocab)
        store.audit(actor, "add-phrasing", {"entry_id": entry["id"], "topic": topic, "text": text})
    return True


def export_records(store: Store) -> Iterable[str]:
    """Yield one JSON line per stored record."""
    for rec in store.iter_records():
        yield json.dumps(rec, ensure_ascii=False)


def shipped_paths(folder: Path | None = None) -> list[Path]:
    """Return the shipped knowledge files that exist."""
    folder = folder or knowledge_dir()
    return [p for name in SHIPPED_FILES if (p := folder / f"{name}.yaml").exists()]


def shipped_fingerprint(folder: Path | None = None) -> str:
    """Hash the shipped knowledge and vocabulary, so a change is noticed at start."""
    folder = folder or knowledge_dir()
    digest = hashlib.sha256()
    for path in [*shipped_paths(folder), folder / "vocabulary.yaml"]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def training_fingerprint(folder: Path | None = None) -> str:
    """Hash what the learned scorer is trained from: the shipped knowledge, the vocabulary, the out-of-scope bank."""
    folder = folder or knowledge_dir()
    bank = folder / "out_of_scope.yaml"
    digest = hashlib.sha256(shipped_fingerprint(folder).encode() + segment.VERSION.encode())
    digest.update(bank.read_bytes() if bank.exists() else b"")
    return digest.hexdigest()[:16]


def refresh_shipped(store: Store, folder: Path | None = None, force: bool = False) -> bool:
    """Load the shipped knowledge when it changed; imported entries and user data stay as they are."""
    fingerprint = shipped_fingerprint(folder)
    if not force and store.get_meta("shipped_fingerprint") == fingerprint:
        return False
    records = load_records(shipped_paths(folder))
    vocab = vocabulary(folder) if folder else vocabulary()
    with store.atomic():
        keep: list[Record] = []
        for kind in ("faq", "passage"):
            batch = [r for r in records if r.kind == kind]
            have = store.existing(kind, (r.id for r in batch))
            # a maintainer's import of a shipped id overrides it; refresh leaves that alone
            keep += [r for r in batch if have.get(r.id, ({}, "shipped"))[1] == "shipped"]
            stale = store.ids_by_origin(kind, "shipped") - {r.id for r in batch}
            store.delete(kind, stale)
        vocab_hash = _vocab_hash(folder)
        if store.get_meta("vocab_fingerprint") != vocab_hash:
            _reindex_all(store, vocab)  # a vocabulary change re-segments every phrasing
        write_records(store, keep, "shipped", vocab)
        store.set_meta("shipped_fingerprint", fingerprint)
        store.set_meta("vocab_fingerprint", vocab_hash)
    return True


def _vocab_hash(folder: Path | None) -> str:
    """Hash what decides how phrasings are cut: the vocabulary and the segmenter's version."""
    path = (folder or knowledge_dir()) / "vocabulary.yaml"
    data = path.read_bytes() if path.exists() else b""
    return hashlib.sha256(segment.VERSION.encode() + b"\0" + data).hexdigest()


def _reindex_all(store: Store, vocab: Vocabulary) -> None:
    """Re-segment every stored record (after the vocabulary changed)."""
    segment.prepare(vocab)
    recs: list[Record] = []
    for row in store.iter_records():
        if row["kind"] == "faq":
            recs.append(FaqRecord("faq", row["id"], faq_fields(row)))
        else:
            recs.append(PassageRecord("passage", row["id"], passage_fields(row)))
    for kind in ("faq", "passage"):
        store.replace_phrasings(kind, [(r.id, phrasings_of(r, vocab)) for r in recs if r.kind == kind])


def open_store(path: Path, read_only: bool = False) -> Store:
    """Open (creating if needed) a database and bring the shipped knowledge up to date; read-only: as it is."""
    store = Store(path, read_only=read_only)
    if not read_only:  # a read-only database is served as it is; the next writable open refreshes it
        fill_exact_keys(store)
        refresh_shipped(store)
    return store
