"""Stored knowledge: FAQ entries and passages, written with their phrasings, read back as records."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

from rolebot.store.db import Connection
from rolebot.store.index import Index, Phrasing
from rolebot.store.schema import (
    FAQ_KEYS,
    PASSAGE_KEYS,
    Export,
    FaqRow,
    PassageRow,
    RecordData,
    columns,
    faq_data,
    faq_row,
    passage_data,
    passage_row,
)


class Knowledge:
    """The entries and passages tables, kept in step with the phrasing index."""

    def __init__(self, conn: Connection, index: Index) -> None:
        self.db = conn.db
        self.read = conn.read
        self.table = conn.table
        self.index = index

    def counts(self) -> dict[str, int]:
        """Return how many entries, passages and phrasings are stored."""
        with self.read(snapshot=True) as db:
            return {t: db.table(t).count for t in ("entries", "passages", "phrasings")}

    def existing(self, kind: str, ids: Iterable[str]) -> dict[str, tuple[RecordData, str]]:
        """Return {id: (data, origin)} for the ids that exist."""
        table, read = ("entries", faq_data) if kind == "faq" else ("passages", passage_data)
        out: dict[str, tuple[RecordData, str]] = {}
        id_list = list(ids)
        with self.read(snapshot=True) as db:
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in db.query(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
                    out[row["id"]] = (read(row), row["origin"])
        return out

    def ids_by_origin(self, kind: str, origin: str) -> set[str]:
        """Return the ids of records of one origin."""
        table = "entries" if kind == "faq" else "passages"
        with self.read() as db:
            return {r[0] for r in db.execute(f"SELECT id FROM {table} WHERE origin = ?", [origin])}

    def write(
        self, kind: str, rows: list[tuple[str, RecordData, str]], phrasings: list[tuple[str, list[Phrasing]]]
    ) -> None:
        """Upsert (id, data, origin) rows and replace their phrasings; call inside `atomic()`."""
        table, keys = ("entries", FAQ_KEYS) if kind == "faq" else ("passages", PASSAGE_KEYS)
        now = time.time()
        names = ["id", *keys, "origin", "updated_at"]
        # sqlite-utils' upsert_all, written out: the same statement, without building it row by row
        self.db.conn.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in names[1:])}",
            ([rid, *columns(data, keys).values(), origin, now] for rid, data, origin in rows),
        )
        self.index.replace_phrasings(kind, phrasings)

    def delete(self, kind: str, ids: Iterable[str]) -> None:
        """Delete records and their phrasings; call inside `atomic()`."""
        table = "entries" if kind == "faq" else "passages"
        id_list = list(ids)
        for rid in id_list:
            self.db.execute(f"DELETE FROM {table} WHERE id = ?", [rid])
        self.index.drop(kind, id_list)

    def iter_records(self) -> Iterator[Export]:
        """Yield every FAQ entry then every passage, as exported."""
        with self.read(snapshot=True) as db:
            rows = list(db.query("SELECT * FROM entries ORDER BY id"))
            prows = list(db.query("SELECT * FROM passages ORDER BY id"))
        for row in rows:
            yield {"kind": "faq", "id": row["id"], **faq_data(row)}
        for row in prows:
            yield {"kind": "passage", "id": row["id"], **passage_data(row)}

    def entry(self, entry_id: str) -> FaqRow | None:
        """Return one FAQ entry with its id, or None."""
        with self.read() as db:
            rows = list(db.query("SELECT * FROM entries WHERE id = ?", [entry_id]))
        return faq_row(rows[0]) if rows else None

    def passage(self, passage_id: str) -> PassageRow | None:
        """Return one passage with its id, or None."""
        with self.read() as db:
            rows = list(db.query("SELECT * FROM passages WHERE id = ?", [passage_id]))
        return passage_row(rows[0]) if rows else None

    def topic_entries(self, topic: str) -> list[FaqRow]:
        """Return the FAQ entries of a topic, shipped first, then by id."""
        with self.read() as db:
            rows = list(db.query("SELECT * FROM entries WHERE topic = ? ORDER BY origin = 'shipped' DESC, id", [topic]))
        return [faq_row(r) for r in rows]

    def topic_passages(self, topic: str) -> list[PassageRow]:
        """Return the passages about a topic."""
        with self.read() as db:
            rows = list(db.query("SELECT * FROM passages WHERE topic = ? ORDER BY id", [topic]))
        return [passage_row(r) for r in rows]

    def has_passages(self, topic: str) -> bool:
        """Say whether any passage is about a topic."""
        with self.read() as db:
            return db.execute("SELECT 1 FROM passages WHERE topic = ? LIMIT 1", [topic]).fetchone() is not None

    def topic_question(self, topic: str) -> str | None:
        """Return a topic's canonical question: its first entry's."""
        with self.read() as db:
            row = db.execute("SELECT question FROM entries WHERE topic = ? ORDER BY rowid LIMIT 1", [topic]).fetchone()
        return row[0] if row else None

    def topics(self) -> list[tuple[str, str, list[str]]]:
        """Return (topic, canonical question, tags) for every topic, in insertion order."""
        with self.read() as db:
            rows = db.execute(
                "SELECT topic, question, tags FROM entries GROUP BY topic HAVING rowid = MIN(rowid) ORDER BY MIN(rowid)"
            ).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]
