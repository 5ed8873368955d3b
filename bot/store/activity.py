"""What users did: questions per day, unanswered questions, feedback votes, and the maintainers' audit trail."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from rolebot.store.db import Connection
from rolebot.store.schema import Choice, DailyRow, JsonObject, TopicVotes, UnansweredRow


@dataclass
class Unanswered:
    """Unanswered sightings of one question not yet written."""

    text: str
    chat_type: str
    candidates: str  # JSON
    first_seen: float
    last_seen: float
    count: int = 1


@dataclass
class PendingActivity:
    """Question counts and unanswered questions kept in memory until written."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    unanswered: dict[str, Unanswered] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(self.counts.values()) + sum(u.count for u in self.unanswered.values())

    def merge(self, other: PendingActivity) -> None:
        """Add another batch (one that could not be written) back into this one."""
        self.counts.update(other.counts)
        for question, old in other.unanswered.items():
            new = self.unanswered.get(question)
            if new is None:
                self.unanswered[question] = old
            else:  # the newer sighting keeps its text, the older its first_seen
                new.count += old.count
                new.first_seen = min(new.first_seen, old.first_seen)


# a Telegram bot token: the bot's id, a colon, 35 letters (a user pasting one should not find it in /review)
TOKEN_LIKE = re.compile(r"\d{5,}\s*[:：]\s*[A-Za-z0-9_-]{30,}")


def redact_tokens(text: str) -> str:
    """Replace anything shaped like a bot token with <token>."""
    return TOKEN_LIKE.sub("<token>", text)


def write_pending(conn: sqlite3.Connection, pending: PendingActivity) -> None:
    """Write a batch of counts and unanswered questions on a connection (inside the caller's transaction)."""
    conn.executemany(
        "INSERT INTO daily (day, topic, count) VALUES (?, ?, ?) "
        "ON CONFLICT(day, topic) DO UPDATE SET count = count + excluded.count",
        [(day, topic, n) for (day, topic), n in pending.counts.items()],
    )
    conn.executemany(
        "INSERT INTO unanswered (question, text, count, first_seen, last_seen, chat_type, candidates) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(question) DO UPDATE SET count = count + excluded.count, "
        "last_seen = excluded.last_seen, text = excluded.text, candidates = excluded.candidates",
        [
            (q, u.text, u.count, u.first_seen, u.last_seen, u.chat_type, u.candidates)
            for q, u in pending.unanswered.items()
        ],
    )


class Activity:
    """Counts, votes and records of use, written so that counting never holds up an answer."""

    def __init__(self, conn: Connection) -> None:
        self.db = conn.db
        self.lock = conn.lock
        self.read = conn.read
        self.table = conn.table
        # question counts are buffered so that counting never holds up an answer
        self._pending = PendingActivity()
        self._pending_lock = threading.Lock()
        self._flushed = time.monotonic()
        self._deferred = False  # True: only a writer (write_pending on its own connection) writes the buffer

    def defer(self) -> None:
        """Keep counts and unanswered questions in memory until taken with take_pending (the bot's writer does)."""
        self._deferred = True

    def take_pending(self) -> PendingActivity:
        """Return the buffered counts and unanswered questions, emptying the buffer."""
        with self._pending_lock:
            pending, self._pending = self._pending, PendingActivity()
            self._flushed = time.monotonic()
        return pending

    def restore_pending(self, pending: PendingActivity) -> None:
        """Put back a batch that could not be written, so that no count is lost."""
        with self._pending_lock:
            pending.merge(self._pending)
            self._pending = pending

    def record_unanswered(self, question: str, text: str, chat_type: str, candidates: list[Choice]) -> None:
        """Count one declined or unsure question (a bot token pasted into it is kept as <token>, never as typed)."""
        question, text = redact_tokens(question), redact_tokens(text)
        now = time.time()
        with self._pending_lock:
            seen = self._pending.unanswered.get(question)
            cands = json.dumps(candidates, ensure_ascii=False)
            if seen is None:
                self._pending.unanswered[question] = Unanswered(text, chat_type, cands, now, now)
            else:
                seen.count += 1
                seen.text, seen.candidates, seen.last_seen = text, cands, now
        if not self._deferred:
            self.flush()

    def unanswered(self, since: float = 0.0) -> list[UnansweredRow]:
        """Return declined questions seen since a time, most asked first (buffered ones included)."""
        if not self._deferred:
            self.flush()
        with self.read() as db:
            rows = list(db.query("SELECT * FROM unanswered WHERE last_seen >= ?", [since]))
        by_question = {r["question"]: r for r in rows}
        with self._pending_lock:
            for question, u in self._pending.unanswered.items():
                row = by_question.get(question)
                if row is not None:
                    row.update(count=row["count"] + u.count, last_seen=u.last_seen, text=u.text)
                    row["candidates"] = u.candidates
                elif u.last_seen >= since:
                    by_question[question] = {
                        "question": question,
                        "text": u.text,
                        "count": u.count,
                        "first_seen": u.first_seen,
                        "last_seen": u.last_seen,
                        "chat_type": u.chat_type,
                        "candidates": u.candidates,
                    }
        rows = sorted(by_question.values(), key=lambda r: (-r["count"], -r["last_seen"]))
        for r in rows:
            r["candidates"] = json.loads(r["candidates"] or "[]")
        return cast(list[UnansweredRow], rows)

    def forget_unanswered(self, question: str) -> None:
        """Drop a question from the unanswered list once it has been taught."""
        with self._pending_lock:
            self._pending.unanswered.pop(question, None)
        with self.lock, self.db.conn:
            self.db.execute("DELETE FROM unanswered WHERE question = ?", [question])

    def count_question(self, topic: str | None) -> None:
        """Count one question for today, under its topic ('' when not answered); written in batches."""
        day = time.strftime("%Y-%m-%d", time.gmtime())
        with self._pending_lock:
            self._pending.counts[(day, topic or "")] += 1
            due = len(self._pending) >= 200 or time.monotonic() - self._flushed > 5.0
        if due and not self._deferred:
            self.flush()

    def flush(self) -> None:
        """Write the buffered counts and unanswered questions on the store's connection (kept when it fails)."""
        pending = self.take_pending()
        if not len(pending):
            return
        try:
            with self.lock, self.db.conn:
                write_pending(self.db.conn, pending)
        except sqlite3.Error:
            self.restore_pending(pending)
            raise

    def daily(self, days: int = 7) -> list[DailyRow]:
        """Return per-day, per-topic question counts for the last days (buffered ones included)."""
        if not self._deferred:
            self.flush()
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400))
        with self.read() as db:
            rows = list(db.query("SELECT day, topic, count FROM daily WHERE day > ? ORDER BY day", [since]))
        totals: Counter[tuple[str, str]] = Counter({(r["day"], r["topic"]): r["count"] for r in rows})
        with self._pending_lock:
            totals.update({k: n for k, n in self._pending.counts.items() if k[0] > since})
        merged = [{"day": d, "topic": t, "count": n} for (d, t), n in sorted(totals.items())]
        return cast(list[DailyRow], merged)

    def record_feedback(self, topic: str, entry_id: str, vote: int, chat_type: str, user_hash: str) -> bool:
        """Store a 👍 (+1) or 👎 (-1); a user's later vote on the same entry replaces the earlier one."""
        with self.lock, self.db.conn:
            self.db.execute("DELETE FROM feedback WHERE entry_id = ? AND user_hash = ?", [entry_id, user_hash])
            self.db.execute(
                "INSERT INTO feedback (topic, entry_id, vote, chat_type, user_hash, ts) VALUES (?, ?, ?, ?, ?, ?)",
                [topic, entry_id, vote, chat_type, user_hash, time.time()],
            )
        return True

    def feedback_by_topic(self, since: float = 0.0) -> list[TopicVotes]:
        """Return up and down votes per topic."""
        with self.read() as db:
            rows = list(
                db.query(
                    "SELECT topic, SUM(vote > 0) AS up, SUM(vote < 0) AS down FROM feedback WHERE ts >= ? "
                    "GROUP BY topic ORDER BY down DESC, up DESC",
                    [since],
                )
            )
        return cast(list[TopicVotes], rows)

    def audit(self, actor: str, action: str, detail: JsonObject) -> None:
        """Record who changed what."""
        with self.lock:
            self.table("audit").insert(
                {"ts": time.time(), "actor": actor, "action": action, "detail": json.dumps(detail, ensure_ascii=False)}
            )
