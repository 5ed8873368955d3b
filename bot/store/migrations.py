"""The schema's history: numbered migrations, each applied once and recorded (never edited once shipped)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import sqlite_utils

from rolebot.store import postings

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register a schema migration; they run in definition order, each once."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_knowledge(db: sqlite_utils.Database) -> None:
    """Create FAQ entries, passages, their phrasing index and a key/value table."""
    db.table("entries").create(
        {
            "id": str,
            "topic": str,
            "question": str,
            "alternates": str,
            "answer": str,
            "sources": str,
            "related": str,
            "tags": str,
            "origin": str,
            "updated_at": float,
        },
        pk="id",
    )
    db.table("entries").create_index(["topic"])
    db.table("passages").create(
        {
            "id": str,
            "topic": str,
            "title": str,
            "text": str,
            "sources": str,
            "tags": str,
            "origin": str,
            "updated_at": float,
        },
        pk="id",
    )
    # One row per way of asking (question, alternates) or per passage, segmented for FTS5:
    # unicode61 sees a run of Chinese as one token, so we index jieba words joined by spaces.
    db.table("phrasings").create({"id": int, "kind": str, "ref": str, "text": str, "tokens": str}, pk="id")
    db.table("phrasings").create_index(["ref"])
    db.table("phrasings").enable_fts(["tokens"], fts_version="FTS5", create_triggers=True)
    db.execute("CREATE VIRTUAL TABLE phrasings_vocab USING fts5vocab(phrasings_fts, 'row')")
    db.table("meta").create({"key": str, "value": str}, pk="key")


@migration
def m002_activity(db: sqlite_utils.Database) -> None:
    """Create tables for what users did: feedback, unanswered questions, group settings, audit."""
    db.table("feedback").create(
        {"id": int, "topic": str, "entry_id": str, "vote": int, "chat_type": str, "user_hash": str, "ts": float},
        pk="id",
    )
    db.table("unanswered").create(
        {
            "question": str,
            "text": str,
            "count": int,
            "first_seen": float,
            "last_seen": float,
            "chat_type": str,
            "candidates": str,
        },
        pk="question",
    )
    db.table("group_settings").create({"chat_id": int, "settings": str, "updated_at": float}, pk="chat_id")
    db.table("audit").create({"id": int, "ts": float, "actor": str, "action": str, "detail": str}, pk="id")


@migration
def m003_terms(db: sqlite_utils.Database) -> None:
    """Count, per word, the FAQ phrasings that use it (passages are long and would drown the counts)."""
    db.table("terms").create({"term": str, "df": int}, pk="term")
    counts: Counter[str] = Counter()
    for (tokens,) in db.execute("SELECT tokens FROM phrasings WHERE kind = 'faq'"):
        counts.update(set(tokens.split()))
    db.table("terms").insert_all(({"term": t, "df": n} for t, n in counts.items()), batch_size=1000)


@migration
def m004_daily(db: sqlite_utils.Database) -> None:
    """Count questions per day and topic ('' = not answered), for /stats."""
    db.table("daily").create({"day": str, "topic": str, "count": int}, pk=("day", "topic"))


@migration
def m005_drop_fts_vocab(db: sqlite_utils.Database) -> None:
    """Drop the fts5vocab view of migration 1: word counts now come from the terms table."""
    db.execute("DROP TABLE IF EXISTS phrasings_vocab")


@migration
def m006_exact_keys(db: sqlite_utils.Database) -> None:
    """Add exact-lookup keys to FAQ phrasings (punctuation kept, and stripped) and mark an entry's own question.

    The keys come from the language layer's normaliser, which the store may not import: rows stored before
    this migration get them when the store is opened for use (kb.knowledge.fill_exact_keys); NULL means not yet.
    """
    phrasings = db.table("phrasings")
    phrasings.add_column("key", str)
    phrasings.add_column("bare", str)
    phrasings.add_column("main", int, not_null_default=0)
    db.execute("CREATE INDEX idx_phrasings_key ON phrasings (key)")
    db.execute("CREATE INDEX idx_phrasings_bare ON phrasings (bare)")


@migration
def m007_postings(db: sqlite_utils.Database) -> None:
    """Replace FTS5 by word postings scored in numpy: FTS5 ranked every matching phrasing, ~1 µs each."""
    for statement in postings.SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    postings.update(db.conn, {pid: tokens for pid, tokens in db.execute("SELECT id, tokens FROM phrasings")}, {})
    db.table("phrasings").disable_fts()
