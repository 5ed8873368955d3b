"""The phrasing index: one row per way of asking, word postings scored by BM25, and per-word phrasing counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import sqlite_utils

from rolebot.store import postings
from rolebot.store.db import Connection


@dataclass(frozen=True)
class Candidate:
    """A phrasing found by the index, with what it belongs to."""

    kind: str  # "faq" | "passage"
    ref: str
    topic: str | None
    text: str
    tokens: tuple[str, ...]
    rank: float  # minus its BM25 score, as FTS5 reports rank: more negative is better


class Phrasing(NamedTuple):
    """One way of asking for a record, as the index stores it."""

    text: str
    tokens: str  # jieba words joined by spaces, for the postings
    key: str | None = None  # exact-lookup key, punctuation kept (FAQ phrasings; see language.normalize.exact_keys)
    bare: str | None = None  # the key without punctuation and spaces
    main: bool = False  # the entry's own question, which wins an exact lookup over another entry's alternate


class ExactHit(NamedTuple):
    """An FAQ phrasing whose stored key equals a question's."""

    ref: str
    text: str
    main: bool
    punctuated: bool  # the key with punctuation matched, not only the stripped one


class Index:
    """Phrasings of entries and passages, searched by BM25."""

    def __init__(self, conn: Connection) -> None:
        self.db = conn.db
        self.read = conn.read
        self.table = conn.table

    def replace_phrasings(self, kind: str, phrasings: list[tuple[str, list[Phrasing]]]) -> None:
        """Replace the phrasings of each ref; call inside `atomic()`."""
        self._changed()
        refs = [ref for ref, _ in phrasings]
        delta: Counter[str] = Counter()
        gone: dict[int, str] = {}
        # ids given here rather than by SQLite, so the postings can name them without reading the rows back; taken
        # before the old rows go, so that a transaction never gives an id twice (see `shared_phrasings`)
        next_id = _last_id(self.db) + 1
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            where = f"kind = ? AND ref IN ({','.join('?' * len(chunk))})"
            for pid, tokens in self.db.execute(f"SELECT id, tokens FROM phrasings WHERE {where}", [kind, *chunk]):
                gone[pid] = tokens
            self.db.execute(f"DELETE FROM phrasings WHERE {where}", [kind, *chunk])
        added: dict[int, str] = {}
        rows: list[tuple[object, ...]] = []
        for ref, items in phrasings:
            for p in items:
                added[next_id] = p.tokens
                rows.append((next_id, kind, ref, p.text, p.tokens, p.key, p.bare, p.main))
                next_id += 1
        self.db.conn.executemany(
            "INSERT INTO phrasings (id, kind, ref, text, tokens, key, bare, main) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        postings.update(self.db.conn, added, gone)
        if kind == "faq":
            for tokens in gone.values():
                delta.subtract(set(tokens.split()))
            for tokens in added.values():
                delta.update(set(tokens.split()))
            self._count_terms(delta)

    def drop(self, kind: str, refs: Iterable[str]) -> None:
        """Delete the phrasings of records; call inside `atomic()`."""
        self._changed()
        delta: Counter[str] = Counter()
        gone: dict[int, str] = {}
        for ref in refs:
            for pid, tokens in self.db.execute(
                "SELECT id, tokens FROM phrasings WHERE kind = ? AND ref = ?", [kind, ref]
            ):
                gone[pid] = tokens
                if kind == "faq":
                    delta.subtract(set(tokens.split()))
            self.db.execute("DELETE FROM phrasings WHERE kind = ? AND ref = ?", [kind, ref])
        postings.update(self.db.conn, {}, gone)
        if delta:
            self._count_terms(delta)

    def _changed(self) -> None:
        """Count a change of the knowledge: readers keep answers cached until this number moves."""
        # every write of entries or passages goes through the phrasings, so this is the one place to count it
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('knowledge_version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def knowledge_version(self) -> str:
        """Return the number that moves whenever entries or passages change."""
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'knowledge_version'").fetchone()
        return str(row[0]) if row else "0"

    def _count_terms(self, delta: Counter[str]) -> None:
        """Apply changes to the per-word phrasing counts."""
        self.db.conn.executemany(
            "INSERT INTO terms (term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
            [(t, n) for t, n in delta.items() if n],
        )
        self.db.execute("DELETE FROM terms WHERE df <= 0")

    def search(self, terms: list[str], limit: int, weights: list[float] | None = None) -> list[Candidate]:
        """Return the phrasings best matching any of the terms, by BM25 (FTS5's formula, each term's part weighted)."""
        with self.read(snapshot=True) as db:
            best = postings.score(db.conn, terms, limit, weights)
            if not best:
                return []
            rows = db.execute(
                "SELECT p.id, p.kind, p.ref, COALESCE(e.topic, pa.topic), p.text, p.tokens FROM phrasings p "
                "LEFT JOIN entries e ON p.kind = 'faq' AND e.id = p.ref "
                "LEFT JOIN passages pa ON p.kind = 'passage' AND pa.id = p.ref "
                f"WHERE p.id IN ({','.join('?' * len(best))})",
                [pid for pid, _ in best],
            ).fetchall()
        by_id = {r[0]: r for r in rows}
        return [
            Candidate(r[1], r[2], r[3], r[4], tuple(r[5].split()), -bm25)
            for pid, bm25 in best
            if (r := by_id.get(pid)) is not None
        ]

    def origin_phrasings(self, origin: str) -> list[tuple[int, Candidate]]:
        """Return (id, phrasing) of every phrasing of the entries and passages of one origin, by id."""
        # CROSS JOIN keeps SQLite from scanning every phrasing: the records of one origin first, then their rows
        with self.read() as db:
            rows = db.execute(
                "SELECT p.id, p.kind, p.ref, e.topic, p.text, p.tokens FROM entries e CROSS JOIN phrasings p "
                "ON p.ref = e.id AND p.kind = 'faq' WHERE e.origin = ? UNION ALL "
                "SELECT p.id, p.kind, p.ref, pa.topic, p.text, p.tokens FROM passages pa CROSS JOIN phrasings p "
                "ON p.ref = pa.id AND p.kind = 'passage' WHERE pa.origin = ? ORDER BY 1",
                [origin, origin],
            ).fetchall()
        return [(int(r[0]), Candidate(r[1], r[2], r[3], r[4], tuple(r[5].split()), 0.0)) for r in rows]

    def exact_phrasings(self, key: str, bare: str) -> list[ExactHit]:
        """Return the FAQ phrasings stored under either exact-lookup key of a question."""
        with self.read() as db:
            rows = db.execute(
                "SELECT ref, text, main, key = ? FROM phrasings WHERE kind = 'faq' AND (key = ? OR bare = ?)",
                [key, key, bare],
            ).fetchall()
        return [ExactHit(str(r[0]), str(r[1]), bool(r[2]), bool(r[3])) for r in rows]

    def unkeyed_phrasings(self) -> list[tuple[int, str, bool]]:
        """Return (id, text, is the entry's own question) of FAQ phrasings stored without exact-lookup keys."""
        with self.read() as db:
            rows = db.execute(
                "SELECT p.id, p.text, p.text = e.question FROM phrasings p JOIN entries e ON e.id = p.ref "
                "WHERE p.key IS NULL AND p.kind = 'faq'"
            ).fetchall()
        return [(int(r[0]), str(r[1]), bool(r[2])) for r in rows]

    def set_exact_keys(self, rows: list[tuple[int, str, str, bool]]) -> None:
        """Store (id, key, bare, main) for phrasings; call inside `atomic()`."""
        self.db.conn.executemany(
            "UPDATE phrasings SET key = ?, bare = ?, main = ? WHERE id = ?", [(k, b, m, i) for i, k, b, m in rows]
        )

    def doc_freq(self, terms: list[str]) -> dict[str, int]:
        """Return in how many FAQ phrasings each term occurs (absent: none)."""
        if not terms:
            return {}
        with self.read() as db:
            rows = db.execute(
                f"SELECT term, df FROM terms WHERE term IN ({','.join('?' * len(terms))})", terms
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def last_phrasing_id(self) -> int:
        """Return the highest phrasing id: every phrasing written after this has a higher one."""
        with self.read() as db:
            return _last_id(db)

    def shared_phrasings(self, after: int, limit: int = 20) -> list[tuple[str, list[str]]]:
        """Return (a wording, entry ids) for FAQ phrasings written since id `after` that several entries share up to
        punctuation."""
        # one GROUP BY over the stored exact-lookup keys (indexed), whatever the size of the import
        with self.read() as db:
            rows = db.execute(
                """
                WITH mine AS (SELECT DISTINCT bare FROM phrasings WHERE kind = 'faq' AND bare != '' AND id > ?)
                SELECT min(p.text), group_concat(DISTINCT p.ref) FROM phrasings p JOIN mine USING (bare)
                WHERE p.kind = 'faq' GROUP BY p.bare HAVING count(DISTINCT p.ref) > 1 LIMIT ?
                """,
                [after, limit],
            ).fetchall()
        return [(str(text), sorted(str(ids).split(","))) for text, ids in rows]

    def topic_phrasings(self, topic: str) -> list[tuple[str, tuple[str, ...]]]:
        """Return (text, words) of every FAQ phrasing of a topic: its canonical question first."""
        with self.read() as db:
            rows = db.execute(
                "SELECT p.text, p.tokens FROM phrasings p JOIN entries e ON p.kind = 'faq' AND e.id = p.ref "
                "WHERE e.topic = ? ORDER BY e.origin = 'shipped' DESC, e.rowid, p.id",
                [topic],
            ).fetchall()
        return [(str(text), tuple(str(tokens).split())) for text, tokens in rows]

    def phrasing_count(self) -> int:
        """Return the number of indexed FAQ phrasings."""
        # every phrasing as the postings count them, less the passages' few: counting the FAQ rows themselves
        # reads the whole table (0.2 s at 100k entries, at every start)
        with self.read(snapshot=True) as db:
            docs = db.execute("SELECT docs FROM postings_totals").fetchone()
            passages = db.execute(
                "SELECT count(*) FROM passages pa CROSS JOIN phrasings p ON p.ref = pa.id AND p.kind = 'passage'"
            ).fetchone()
        return max(0, int(docs[0] if docs else 0) - int(passages[0] or 0))


def _last_id(db: sqlite_utils.Database) -> int:
    """Return the highest phrasing id in a database."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM phrasings").fetchone()[0])
