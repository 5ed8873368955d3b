"""What users did: questions per day, unanswered questions, feedback votes, and the maintainers' audit trail."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import cast

from rolebot.store.db import Connection
from rolebot.store.schema import Choice, DailyRow, JsonObject, TopicVotes, UnansweredRow


class Activity:
    """Counts, votes and records of use, written so that counting never holds up an answer."""

    def __init__(self, conn: Connection) -> None:
        self.db = conn.db
        self.lock = conn.lock
        self.table = conn.table
        # question counts are buffered so that counting never holds up an answer
        self._pending: Counter[tuple[str, str]] = Counter()
        self._pending_lock = threading.Lock()
        self._flushed = time.monotonic()

    def record_unanswered(self, question: str, text: str, chat_type: str, candidates: list[Choice]) -> None:
        """Count one declined or unsure question."""
        now = time.time()
        with self.lock, self.db.conn:
            self.db.execute(
                "INSERT INTO unanswered (question, text, count, first_seen, last_seen, chat_type, candidates) "
                "VALUES (?, ?, 1, ?, ?, ?, ?) ON CONFLICT(question) DO UPDATE SET count = count + 1, "
                "last_seen = excluded.last_seen, text = excluded.text, candidates = excluded.candidates",
                [question, text, now, now, chat_type, json.dumps(candidates, ensure_ascii=False)],
            )

    def unanswered(self, since: float = 0.0) -> list[UnansweredRow]:
        """Return declined questions seen since a time, most asked first."""
        with self.lock:
            rows = list(
                self.db.query(
                    "SELECT * FROM unanswered WHERE last_seen >= ? ORDER BY count DESC, last_seen DESC", [since]
                )
            )
        for r in rows:
            r["candidates"] = json.loads(r["candidates"] or "[]")
        return cast(list[UnansweredRow], rows)

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

    def daily(self, days: int = 7) -> list[DailyRow]:
        """Return per-day, per-topic question counts for the last days."""
        self.flush()
        since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400))
        with self.lock:
            rows = list(self.db.query("SELECT day, topic, count FROM daily WHERE day > ? ORDER BY day", [since]))
        return cast(list[DailyRow], rows)

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
        with self.lock:
            rows = list(
                self.db.query(
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
