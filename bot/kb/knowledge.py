"""Knowledge-base operations: import, export, and keeping the shipped knowledge fresh."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rolebot.config import knowledge_dir
from rolebot.errors import MAX_PROBLEMS, ImportFormatError, Problem
from rolebot.kb.claims import CLAIMS_FILE, read_claims
from rolebot.kb.cutting import PARALLEL_FROM, Cutter, Job, tokens_for
from rolebot.kb.records import FaqRecord, PassageRecord, Progress, Record, iter_records, load_records
from rolebot.language import segment
from rolebot.language.normalize import exact_keys
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.index import Phrasing
from rolebot.store.schema import Point, RecordData, faq_fields, passage_fields
from rolebot.store.store import Store
from rolebot.store.worker import is_busy

SHIPPED_FILES = ("definitions", "comparisons", "operations", "theory", "careers", "passages")


CHUNK = 2000  # records compared and written at a time: all an import holds of its files at once
SHOWN = 50  # added and updated records an import plan keeps to show; the others are only counted
OVERLAP_LIMIT = 2000  # new questions put to the engine for overlap warnings; for more it would take minutes


@dataclass
class ImportPlan:
    """What an import would change: how many records, the first few of each change to show, and warnings."""

    added: list[Record] = field(default_factory=list)  # the first SHOWN added records (counts has how many)
    updated: list[Record] = field(default_factory=list)  # the first SHOWN updated records
    unchanged: list[Record] = field(default_factory=list)  # the first SHOWN records already stored as they are
    warnings: list[str] = field(default_factory=list)
    previous: dict[tuple[str, str], RecordData] = field(default_factory=dict)  # stored data of updated records
    counts: Counter[str] = field(default_factory=Counter)  # "added", "updated", "unchanged": how many

    def note(self, change: str, rec: Record, previous: RecordData | None = None) -> None:
        """Count a record as "added", "updated" or "unchanged", keeping it to show while there are few."""
        self.counts[change] += 1
        shown: list[Record] = getattr(self, change)
        if len(shown) < SHOWN:
            shown.append(rec)
            if previous is not None:
                self.previous[(rec.kind, rec.id)] = previous

    def summary(self) -> str:
        """Return one line: how many would be added, updated, left unchanged."""
        counts = self.counts
        return f"{counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged"

    def describe(self, limit: int = 50) -> list[str]:
        """Return one line per added or changed record: its topic and question, and what changes."""
        added, updated = self.added[:limit], self.updated[:limit]
        lines = [f"add {_label(r)}" for r in added]
        for rec in updated:
            # compared field by field, whatever the kind
            old: Mapping[str, object] = self.previous.get((rec.kind, rec.id), {})
            new: Mapping[str, object] = rec.data
            changed = [k for k in sorted(set(new) | set(old)) if new.get(k) != old.get(k)]
            lines.append(f"update {_label(rec)}: {', '.join(_change(k, old.get(k), new.get(k)) for k in changed)}")
        hidden = self.counts["added"] - len(added) + self.counts["updated"] - len(updated)
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


def texts_of(rec: Record) -> list[str]:
    """Return the texts a record is found by: an entry's question and alternates, a passage's title and text."""
    if rec.kind != "faq":
        return [f"{rec.data['title'] or ''} {rec.data['text']}".strip()]
    return list(dict.fromkeys([rec.data["question"], *rec.data["alternates"]]))


def phrasings_of(rec: Record, vocab: Vocabulary, tokens: Mapping[str, str] | None = None) -> list[Phrasing]:
    """Return every way a record can be found: words for the index, and for an entry, exact-lookup keys.

    `tokens` holds the texts' words when they were cut already (by a Cutter)."""
    texts = texts_of(rec)
    words = [tokens[t] if tokens is not None else tokens_for(t, vocab) for t in texts]
    if rec.kind != "faq":
        return [Phrasing(t, w) for t, w in zip(texts, words, strict=True)]
    question = rec.data["question"]
    return [Phrasing(t, w, *exact_keys(t), main=t == question) for t, w in zip(texts, words, strict=True)]


def fill_exact_keys(store: Store) -> int:
    """Give exact-lookup keys to FAQ phrasings stored before keys existed (migration 6); return how many."""
    rows = store.unkeyed_phrasings()
    if rows:
        with store.atomic():
            store.set_exact_keys([(pid, *exact_keys(text), main) for pid, text, main in rows])
    return len(rows)


def compare(store: Store, records: list[Record]) -> Iterator[tuple[Record, str, RecordData | None]]:
    """Yield each record with "added", "updated" (and its stored data) or "unchanged", in the records' order."""
    have = {kind: store.existing(kind, (r.id for r in records if r.kind == kind)) for kind in ("faq", "passage")}
    for rec in records:
        old = have[rec.kind].get(rec.id)
        if old is None:
            yield rec, "added", None
        elif old[0] != rec.data:
            yield rec, "updated", old[0]
        else:
            yield rec, "unchanged", None


def _write_chunk(
    store: Store, records: list[Record], origin: str, vocab: Vocabulary, tokens: Mapping[str, str] | None = None
) -> None:
    """Upsert a few records and their phrasings, entries first; call inside `atomic()`."""
    for kind in ("faq", "passage"):
        batch = [r for r in records if r.kind == kind]
        if batch:
            phrasings = [(r.id, phrasings_of(r, vocab, tokens)) for r in batch]
            store.write(kind, [(r.id, r.data, origin) for r in batch], phrasings)


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
            for chunk in _chunks(iter(batch)):
                _write_chunk(store, chunk, origin, vocab)
                done += len(chunk)
                if progress is not None:
                    progress("indexing", done, len(records))


def _chunks(records: Iterator[Record], size: int | None = None) -> Iterator[list[Record]]:
    """Cut a stream of records into lists of `size` (CHUNK unless given)."""
    while chunk := list(itertools.islice(records, size or CHUNK)):
        yield chunk


class Places:
    """Where an import met each record (file and line) and whether it changes it, one int per id.

    The cross-record checks (duplicate ids, where a shared phrasing comes from) need this much of every
    record, and no more: an import of any size holds it, never the records.
    """

    def __init__(self) -> None:
        self.files: list[str] = []
        self.file_no: dict[str, int] = {}
        self.at: dict[str, dict[str, int]] = {"faq": {}, "passage": {}}

    def add(self, rec: Record) -> str | None:
        """Remember where a record is; return where one of the same kind and id was met before, if one was."""
        ids = self.at[rec.kind]
        if rec.id in ids:
            return self.place(rec.kind, rec.id)
        no = self.file_no.setdefault(rec.file, len(self.files))
        if no == len(self.files):
            self.files.append(rec.file)
        ids[rec.id] = (rec.line << 20 | no) << 1  # the lowest bit: the import changes it (see `mark`)
        return None

    def is_at(self, rec: Record) -> bool:
        """Say whether a record is where it was met (the file has not changed since)."""
        packed = self.at[rec.kind].get(rec.id)
        return packed is not None and self._where(packed) == (rec.file, rec.line)

    def mark(self, rec: Record) -> None:
        """Note that the import writes a record."""
        self.at[rec.kind][rec.id] |= 1

    def place(self, kind: str, rid: str, changed_only: bool = False) -> str | None:
        """Return "file:line" of a record met (and, if asked, written), or None."""
        packed = self.at[kind].get(rid)
        if packed is None or (changed_only and not packed & 1):
            return None
        file, line = self._where(packed)
        return f"{file}:{line}"

    def _where(self, packed: int) -> tuple[str, int]:
        return self.files[packed >> 1 & 0xFFFFF], packed >> 21


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
    """Validate files, then (unless dry_run) write the changes atomically; raise ImportFormatError on any problem.

    The files are read twice, a chunk of records at a time, so that an import holds no more of them at any
    size: first every record is checked and compared (a problem and nothing is written), then the changes
    are written and their links checked, all in one transaction.
    """
    plan, places, new_questions = check_files(store, paths, progress, allow_unknown_related)
    if answerer and new_questions:
        plan.warnings += overlap_warnings(new_questions, answerer)
    vocab = vocabulary()
    segment.prepare(vocab)
    cutter = Cutter(vocab, parallel=plan.counts["added"] + plan.counts["updated"] >= PARALLEL_FROM)
    try:
        with store.atomic():
            # a dry run writes too, inside a transaction it then rolls back: the shared-phrasing and link checks
            # look at what the database would hold, at any import size
            last = store.last_phrasing_id()
            plan.counts = _write_files(store, paths, places, cutter, progress, plan.counts)
            plan.warnings += shared_phrasing_warnings(store, last, places)
            if dry_run:
                raise _RollBack
            if actor:
                detail = {"files": [p.name for p in paths], "added": plan.counts["added"]}
                store.audit(actor, "import", {**detail, "updated": plan.counts["updated"]})
    except _RollBack:
        pass
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise  # the bot's writer waits for the lock and tries again
        # a full disk, a read-only or damaged database: the transaction rolled back, nothing stays
        raise ImportFormatError([Problem(str(store.path), 0, "(database)", f"{exc}; nothing was written")]) from None
    finally:
        cutter.close()
    return plan


def check_files(
    store: Store, paths: list[Path], progress: Progress | None = None, allow_unknown_related: bool = False
) -> tuple[ImportPlan, Places, list[Record]]:
    """Check every record of the files and compare it with the store, keeping where each is but not the records.

    Return the plan, the places and the new entries while there are at most OVERLAP_LIMIT (else none); raise
    ImportFormatError listing every problem, each record's together (its related topics that exist nowhere too,
    unless allowed: then they are warnings).
    """
    problems: list[Problem] = []
    plan, places = ImportPlan(), Places()
    new_questions: list[Record] | None = []
    links: list[tuple[str, int, str]] = []  # the related topics of the chunk's records, valid or not
    stored: set[str] = set()
    absent: dict[str, list[tuple[str, int]]] = {}  # topics not stored, and where they are named (up to a cap)
    imported: set[str] = set()  # the topics this import's valid FAQ records write

    def note_links() -> None:
        named = sum(len(at) for at in absent.values())
        for file, line, topic in links:
            if topic in stored or (topic not in absent and _stored(store, topic, stored)):
                continue
            places_of = absent.setdefault(topic, [])
            if named < MAX_PROBLEMS:  # the rest would not be shown: keep memory flat however many there are
                places_of.append((file, line))
                named += 1
        links.clear()

    for chunk in _chunks(iter_records(paths, problems, progress, links)):
        note_links()
        fresh: list[Record] = []
        for rec in chunk:
            if rec.kind == "faq":
                imported.add(rec.data["topic"])
            if (first := places.add(rec)) is None:
                fresh.append(rec)
            else:
                problems.append(Problem(rec.file, rec.line, "id", f"duplicate id {rec.id!r} (first at {first})"))
        for rec, change, previous in compare(store, fresh):
            plan.note(change, rec, previous)
            if change == "unchanged":
                continue
            plan.warnings += record_warnings(rec)
            if change == "added" and rec.kind == "faq" and new_questions is not None:
                new_questions.append(rec)
                if len(new_questions) > OVERLAP_LIMIT:
                    new_questions = None
    note_links()  # the invalid records' after the last valid one
    unknown = [_unknown_link(f, n, t) for t, at in absent.items() if t not in imported for f, n in at]
    if unknown and allow_unknown_related:
        plan.warnings += [str(p) for p in unknown]
    elif unknown:
        problems += unknown
    if problems:
        # a record's problems together, in the files' order (a problem's file is a path given, in that order)
        order = {str(p): i for i, p in enumerate(paths)}
        problems.sort(key=lambda p: (order.get(p.file, len(order)), p.file, p.line))
        raise ImportFormatError(problems)
    return plan, places, new_questions or []


def _unknown_link(file: str, line: int, topic: str) -> Problem:
    """Return the problem of a related topic that exists nowhere."""
    return Problem(
        file,
        line,
        "related",
        f"topic {topic!r} exists nowhere (not stored, not in this import; --allow-unknown-related)",
    )


def _write_files(
    store: Store, paths: list[Path], places: Places, cutter: Cutter, progress: Progress | None, checked: Counter[str]
) -> Counter[str]:
    """Read the checked files again and write what changed, a chunk at a time; call inside `atomic()`.

    Each chunk's texts are cut (by the cutter's worker, when it has one) while the chunk before is written.
    Return how many records were added, updated and left unchanged (their links were checked with them).
    """
    counts: Counter[str] = Counter()
    problems: list[Problem] = []
    total = checked["added"] + checked["updated"]
    written = 0

    def write(changed: list[Record], job: Job) -> None:
        nonlocal written
        _write_chunk(store, changed, "imported", cutter.vocab, cutter.result(job))
        written += len(changed)
        if progress is not None:
            progress("indexing", min(written, total), total)

    pending: tuple[list[Record], Job] | None = None
    for chunk in _chunks(iter_records(paths, problems)):
        changed: list[Record] = []
        for rec, change, _ in compare(store, chunk):
            if not places.is_at(rec):
                problems.append(Problem(rec.file, rec.line, "(file)", "changed while it was imported; try again"))
                continue
            counts[change] += 1
            if change != "unchanged":
                changed.append(rec)
                places.mark(rec)
        if problems:
            raise ImportFormatError(problems)  # what the files hold now was not checked as a whole
        job = cutter.submit(t for rec in changed for t in texts_of(rec))
        if pending is not None:
            write(*pending)
        pending = (changed, job)
    if pending is not None:
        write(*pending)
    if problems:  # bad records after the last good one
        raise ImportFormatError(problems)
    return counts


def _stored(store: Store, topic: str, found: set[str]) -> bool:
    """Say whether a topic has an entry in the store, remembering those that do."""
    if topic in found:
        return True
    if store.topic_question(topic) is None:
        return False
    found.add(topic)
    return True


class _RollBack(Exception):
    """Raised inside a dry run's transaction so that nothing it wrote stays."""


def shared_phrasing_warnings(store: Store, after: int, places: Places, limit: int = 20) -> list[str]:
    """Warn about wordings (up to punctuation) that several entries share, among the phrasings written since id
    `after`: only one of the entries can win."""
    out = []
    for text, ids in store.shared_phrasings(after, limit):
        place = next((p for i in ids if (p := places.place("faq", i, changed_only=True))), None)
        named = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        out.append(f"{place + ': ' if place else ''}alternates: {text!r} is a phrasing of several entries: {named}")
    return out


SHORTEST_ANSWER = 6  # characters; fewer is not yet a sentence a user can act on


def record_warnings(rec: Record) -> list[str]:
    """Warn about what a record lacks: sources, an answer of a sentence."""
    out = []
    if not rec.data.get("sources"):
        out.append(f"{rec.file}:{rec.line}: sources: none given; answers should cite where they come from")
    if rec.kind == "faq":
        answer = rec.data["answer"].strip()
        if len(answer) < SHORTEST_ANSWER:
            out.append(f"{rec.file}:{rec.line}: answer: only {len(answer)} characters, less than a sentence")
    return out


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


def shipped_records(folder: Path | None = None) -> list[Record]:
    """Return the shipped records: the entries and passages of the knowledge files."""
    return load_records(shipped_paths(folder or knowledge_dir()))


def shipped_points(folder: Path | None = None) -> list[Point]:
    """Return the claims of the source articles the shipped answers can lead with (knowledge/claims.yaml)."""
    return read_claims((folder or knowledge_dir()) / CLAIMS_FILE)


def shipped_fingerprint(folder: Path | None = None) -> str:
    """Hash the shipped knowledge and vocabulary, so a change is noticed at start."""
    folder = folder or knowledge_dir()
    digest = hashlib.sha256()
    for path in [*shipped_paths(folder), folder / "vocabulary.yaml"]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def training_fingerprint(folder: Path | None = None) -> str:
    """Hash what the learned scorer is trained from: the shipped knowledge, the vocabulary, the out-of-scope bank
    which topics cover which and the claims (its thresholds, and the line a point leads an answer at, are chosen
    with them)."""
    folder = folder or knowledge_dir()
    digest = hashlib.sha256(shipped_fingerprint(folder).encode() + segment.VERSION.encode())
    for extra in (folder / "out_of_scope.yaml", folder / "overlaps.yaml", folder / CLAIMS_FILE):
        digest.update(extra.read_bytes() if extra.exists() else b"")
    return digest.hexdigest()[:16]


def refresh_shipped(store: Store, folder: Path | None = None, force: bool = False) -> bool:
    """Load the shipped knowledge when it changed; imported entries and user data stay as they are."""
    fingerprint = shipped_fingerprint(folder)
    if not force and store.get_meta("shipped_fingerprint") == fingerprint:
        return False
    records = shipped_records(folder)
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
