"""The SQLite knowledge store: schema migrations, records, the phrasing index and user data."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table

from rolebot.errors import StoreError

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


@dataclass(frozen=True)
class Candidate:
    """A phrasing found by the index, with what it belongs to."""

    kind: str  # "faq" | "passage"
    ref: str
    topic: str | None
    text: str
    tokens: tuple[str, ...]
    rank: float


FAQ_KEYS = ("topic", "question", "alternates", "answer", "sources", "related", "tags")
PASSAGE_KEYS = ("topic", "title", "text", "sources", "tags")
JSON_KEYS = {"alternates", "sources", "related", "tags"}


def _row_to_data(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: json.loads(row[k]) if k in JSON_KEYS else row[k] for k in keys}


def _data_to_row(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: json.dumps(data.get(k) or [], ensure_ascii=False) if k in JSON_KEYS else data.get(k) for k in keys}


class Store:
    """One SQLite database, safe to share between the event loop and worker threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
            self.db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        self.lock = threading.RLock()
        # question counts are buffered so that counting never holds up an answer
        self._pending: Counter[tuple[str, str]] = Counter()
        self._pending_lock = threading.Lock()
        self._flushed = time.monotonic()

    def _migrate(self) -> None:
        """Apply migrations not yet recorded."""
        done_table = self.db.table("_migrations")
        if not done_table.exists():
            done_table.create({"name": str, "applied_at": float}, pk="name")
        done = {r["name"] for r in self.db.table("_migrations").rows}
        for name, fn in MIGRATIONS:
            if name not in done:
                with self.db.conn:
                    fn(self.db)
                    self.table("_migrations").insert({"name": name, "applied_at": time.time()})

    def table(self, name: str) -> Table:
        """Return a table (typed for mypy)."""
        return self.db.table(name)

    def close(self) -> None:
        """Write what is buffered and close the connection."""
        self.flush()
        self.db.conn.close()

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """Return a stored value, or None."""
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value."""
        with self.lock:
            self.table("meta").upsert({"key": key, "value": value}, pk="key")

    # -- records --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Return how many entries, passages and phrasings are stored."""
        with self.lock:
            return {t: self.table(t).count for t in ("entries", "passages", "phrasings")}

    def existing(self, kind: str, ids: Iterable[str]) -> dict[str, tuple[dict[str, Any], str]]:
        """Return {id: (data, origin)} for the ids that exist."""
        table, keys = ("entries", FAQ_KEYS) if kind == "faq" else ("passages", PASSAGE_KEYS)
        out: dict[str, tuple[dict[str, Any], str]] = {}
        id_list = list(ids)
        with self.lock:
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self.db.query(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
                    out[row["id"]] = (_row_to_data(row, keys), row["origin"])
        return out

    def ids_by_origin(self, kind: str, origin: str) -> set[str]:
        """Return the ids of records of one origin."""
        table = "entries" if kind == "faq" else "passages"
        with self.lock:
            return {r[0] for r in self.db.execute(f"SELECT id FROM {table} WHERE origin = ?", [origin])}

    def write(
        self, kind: str, rows: list[tuple[str, dict[str, Any], str]], phrasings: list[tuple[str, list[tuple[str, str]]]]
    ) -> None:
        """Upsert (id, data, origin) rows and replace their phrasings; call inside `atomic()`."""
        table, keys = ("entries", FAQ_KEYS) if kind == "faq" else ("passages", PASSAGE_KEYS)
        now = time.time()
        self.table(table).upsert_all(
            (
                {"id": rid, **_data_to_row(data, keys), "origin": origin, "updated_at": now}
                for rid, data, origin in rows
            ),
            pk="id",
            batch_size=500,
        )
        self.replace_phrasings(kind, phrasings)

    def replace_phrasings(self, kind: str, phrasings: list[tuple[str, list[tuple[str, str]]]]) -> None:
        """Replace the (text, tokens) phrasings of each ref; call inside `atomic()`."""
        refs = [ref for ref, _ in phrasings]
        delta: Counter[str] = Counter()
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            where = f"kind = ? AND ref IN ({','.join('?' * len(chunk))})"
            if kind == "faq":
                for (tokens,) in self.db.execute(f"SELECT tokens FROM phrasings WHERE {where}", [kind, *chunk]):
                    delta.subtract(set(tokens.split()))
            self.db.execute(f"DELETE FROM phrasings WHERE {where}", [kind, *chunk])
        self.table("phrasings").insert_all(
            (
                {"kind": kind, "ref": ref, "text": text, "tokens": tokens}
                for ref, items in phrasings
                for text, tokens in items
            ),
            batch_size=1000,
        )
        if kind == "faq":
            for _, items in phrasings:
                for _, tokens in items:
                    delta.update(set(tokens.split()))
            self._count_terms(delta)

    def _count_terms(self, delta: Counter[str]) -> None:
        """Apply changes to the per-word phrasing counts."""
        self.db.conn.executemany(
            "INSERT INTO terms (term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
            [(t, n) for t, n in delta.items() if n],
        )
        self.db.execute("DELETE FROM terms WHERE df <= 0")

    def delete(self, kind: str, ids: Iterable[str]) -> None:
        """Delete records and their phrasings; call inside `atomic()`."""
        table = "entries" if kind == "faq" else "passages"
        delta: Counter[str] = Counter()
        for rid in ids:
            self.db.execute(f"DELETE FROM {table} WHERE id = ?", [rid])
            if kind == "faq":
                for (tokens,) in self.db.execute("SELECT tokens FROM phrasings WHERE kind = 'faq' AND ref = ?", [rid]):
                    delta.subtract(set(tokens.split()))
            self.db.execute("DELETE FROM phrasings WHERE kind = ? AND ref = ?", [kind, rid])
        if delta:
            self._count_terms(delta)

    def atomic(self) -> Any:
        """Return a context manager for one transaction (savepoints when nested)."""
        return _Atomic(self)

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """Yield every FAQ entry then every passage, as exported."""
        with self.lock:
            rows = list(self.db.query("SELECT * FROM entries ORDER BY id"))
            prows = list(self.db.query("SELECT * FROM passages ORDER BY id"))
        for row in rows:
            yield {"kind": "faq", "id": row["id"], **_row_to_data(row, FAQ_KEYS)}
        for row in prows:
            data = _row_to_data(row, PASSAGE_KEYS)
            yield {"kind": "passage", "id": row["id"], **data}

    def entry(self, entry_id: str) -> dict[str, Any] | None:
        """Return one FAQ entry with its id, or None."""
        with self.lock:
            rows = list(self.db.query("SELECT * FROM entries WHERE id = ?", [entry_id]))
        return {"id": rows[0]["id"], **_row_to_data(rows[0], FAQ_KEYS)} if rows else None

    def passage(self, passage_id: str) -> dict[str, Any] | None:
        """Return one passage with its id, or None."""
        with self.lock:
            rows = list(self.db.query("SELECT * FROM passages WHERE id = ?", [passage_id]))
        return {"id": rows[0]["id"], **_row_to_data(rows[0], PASSAGE_KEYS)} if rows else None

    def topic_entries(self, topic: str) -> list[dict[str, Any]]:
        """Return the FAQ entries of a topic, shipped first, then by id."""
        with self.lock:
            rows = list(
                self.db.query("SELECT * FROM entries WHERE topic = ? ORDER BY origin = 'shipped' DESC, id", [topic])
            )
        return [{"id": r["id"], **_row_to_data(r, FAQ_KEYS)} for r in rows]

    def topic_passages(self, topic: str) -> list[dict[str, Any]]:
        """Return the passages about a topic."""
        with self.lock:
            rows = list(self.db.query("SELECT * FROM passages WHERE topic = ? ORDER BY id", [topic]))
        return [{"id": r["id"], **_row_to_data(r, PASSAGE_KEYS)} for r in rows]

    def has_passages(self, topic: str) -> bool:
        """Say whether any passage is about a topic."""
        with self.lock:
            return self.db.execute("SELECT 1 FROM passages WHERE topic = ? LIMIT 1", [topic]).fetchone() is not None

    def topic_question(self, topic: str) -> str | None:
        """Return a topic's canonical question: its first entry's."""
        with self.lock:
            row = self.db.execute(
                "SELECT question FROM entries WHERE topic = ? ORDER BY rowid LIMIT 1", [topic]
            ).fetchone()
        return row[0] if row else None

    def topics(self) -> list[tuple[str, str, list[str]]]:
        """Return (topic, canonical question, tags) for every topic, in insertion order."""
        with self.lock:
            rows = self.db.execute(
                "SELECT topic, question, tags FROM entries GROUP BY topic HAVING rowid = MIN(rowid) ORDER BY MIN(rowid)"
            ).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    # -- index ----------------------------------------------------------------------------------
    def data_version(self) -> int:
        """Return SQLite's data_version: it changes when another connection commits."""
        with self.lock:
            return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def search(
        self, terms: list[str], limit: int, common: int = 5000, df: dict[str, int] | None = None
    ) -> list[Candidate]:
        """Return the phrasings best matching any of the terms, by BM25.

        FTS5 ranks every phrasing an OR matches, about 1 µs each: words in more than `common`
        phrasings (template words in a large knowledge base) are left out while rarer ones remain.
        """
        if not terms:
            return []
        df = self.doc_freq(terms) if df is None else df
        rare = [t for t in terms if df.get(t, 0) <= common]
        terms = rare or sorted(terms, key=lambda t: df.get(t, 0))[:2]
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = (
            "SELECT p.kind, p.ref, COALESCE(e.topic, pa.topic), p.text, p.tokens, f.rank "
            "FROM phrasings_fts f JOIN phrasings p ON p.id = f.rowid "
            "LEFT JOIN entries e ON p.kind = 'faq' AND e.id = p.ref "
            "LEFT JOIN passages pa ON p.kind = 'passage' AND pa.id = p.ref "
            "WHERE phrasings_fts MATCH ? ORDER BY f.rank LIMIT ?"
        )
        with self.lock:
            rows = self.db.execute(sql, [match, limit]).fetchall()
        return [Candidate(r[0], r[1], r[2], r[3], tuple(r[4].split()), r[5]) for r in rows]

    def doc_freq(self, terms: list[str]) -> dict[str, int]:
        """Return in how many FAQ phrasings each term occurs (absent: none)."""
        if not terms:
            return {}
        with self.lock:
            rows = self.db.execute(
                f"SELECT term, df FROM terms WHERE term IN ({','.join('?' * len(terms))})", terms
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def phrasing_count(self) -> int:
        """Return the number of indexed FAQ phrasings."""
        with self.lock:
            row = self.db.execute("SELECT count(*) FROM phrasings WHERE kind = 'faq'").fetchone()
        return int(row[0] or 0)

    # -- user data ------------------------------------------------------------------------------
    def record_unanswered(self, question: str, text: str, chat_type: str, candidates: list[dict[str, Any]]) -> None:
        """Count one declined or unsure question."""
        now = time.time()
        with self.lock, self.db.conn:
            self.db.execute(
                "INSERT INTO unanswered (question, text, count, first_seen, last_seen, chat_type, candidates) "
                "VALUES (?, ?, 1, ?, ?, ?, ?) ON CONFLICT(question) DO UPDATE SET count = count + 1, "
                "last_seen = excluded.last_seen, text = excluded.text, candidates = excluded.candidates",
                [question, text, now, now, chat_type, json.dumps(candidates, ensure_ascii=False)],
            )

    def unanswered(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Return declined questions seen since a time, most asked first."""
        with self.lock:
            rows = list(
                self.db.query(
                    "SELECT * FROM unanswered WHERE last_seen >= ? ORDER BY count DESC, last_seen DESC", [since]
                )
            )
        for r in rows:
            r["candidates"] = json.loads(r["candidates"] or "[]")
        return rows

    def forget_unanswered(self, question: str) -> None:
        """Drop a question from the unanswered list once it has been taught."""
        with self.lock, self.db.conn:
            self.db.execute("DELETE FROM unanswered WHERE question = ?", [question])

    def count_question(self, topic: str | None) -> None:
        """Count one question for today, under its topic ('' when not answered); written in batches."""
        day = time.strftime("%Y-%m-%d", time.gmtime())
        with self._pending_lock:
            self._pending[(day, topic or "")] += 1
            due = sum(self._pending.values()) >= 200 or time.monotonic() - self._flushed > 5.0
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the buffered question counts."""
        with self._pending_lock:
            pending, self._pending = self._pending, Counter()
            self._flushed = time.monotonic()
        if not pending:
            return
        with self.lock, self.db.conn:
            self.db.conn.executemany(
                "INSERT INTO daily (day, topic, count) VALUES (?, ?, ?) "
                "ON CONFLICT(day, topic) DO UPDATE SET count = count + excluded.count",
                [(day, topic, n) for (day, topic), n in pending.items()],
            )

    def daily(self, days: int = 7) -> list[dict[str, Any]]:
        """Return per-day, per-topic question counts for the last days."""
        self.flush()
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400))
        with self.lock:
            return list(self.db.query("SELECT day, topic, count FROM daily WHERE day > ? ORDER BY day", [since]))

    def record_feedback(self, topic: str, entry_id: str, vote: int, chat_type: str, user_hash: str) -> bool:
        """Store a 👍 (+1) or 👎 (-1); a user's later vote on the same entry replaces the earlier one."""
        with self.lock, self.db.conn:
            self.db.execute("DELETE FROM feedback WHERE entry_id = ? AND user_hash = ?", [entry_id, user_hash])
            self.db.execute(
                "INSERT INTO feedback (topic, entry_id, vote, chat_type, user_hash, ts) VALUES (?, ?, ?, ?, ?, ?)",
                [topic, entry_id, vote, chat_type, user_hash, time.time()],
            )
        return True

    def feedback_by_topic(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Return up and down votes per topic."""
        with self.lock:
            return list(
                self.db.query(
                    "SELECT topic, SUM(vote > 0) AS up, SUM(vote < 0) AS down FROM feedback WHERE ts >= ? "
                    "GROUP BY topic ORDER BY down DESC, up DESC",
                    [since],
                )
            )

    def group_settings(self, chat_id: int) -> dict[str, Any]:
        """Return a group's stored settings (empty when none)."""
        with self.lock:
            row = self.db.execute("SELECT settings FROM group_settings WHERE chat_id = ?", [chat_id]).fetchone()
        return json.loads(row[0]) if row else {}

    def save_group_settings(self, chat_id: int, settings: dict[str, Any]) -> None:
        """Store a group's settings."""
        with self.lock, self.db.conn:
            self.db.execute(
                "INSERT INTO group_settings (chat_id, settings, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                [chat_id, json.dumps(settings, ensure_ascii=False), time.time()],
            )

    def move_group(self, old_id: int, new_id: int) -> None:
        """Carry a group's settings over to its new (supergroup) id."""
        with self.lock, self.db.conn:
            self.db.execute("UPDATE OR REPLACE group_settings SET chat_id = ? WHERE chat_id = ?", [new_id, old_id])

    def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        """Record who changed what."""
        with self.lock:
            self.table("audit").insert(
                {"ts": time.time(), "actor": actor, "action": action, "detail": json.dumps(detail, ensure_ascii=False)}
            )


class _Atomic:
    """A transaction on the store, holding its lock for the duration."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cm: Any = None

    def __enter__(self) -> Store:
        self.store.lock.acquire()
        self._cm = self.store.db.atomic()
        self._cm.__enter__()
        return self.store

    def __exit__(self, *exc: Any) -> None:
        try:
            self._cm.__exit__(*exc)
        finally:
            self.store.lock.release()
