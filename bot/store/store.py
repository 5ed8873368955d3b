"""The SQLite store: one connection and the parts that use it (knowledge, index, activity, groups)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from rolebot.store.activity import Activity
from rolebot.store.db import Connection
from rolebot.store.groups import Groups
from rolebot.store.index import Candidate, Index
from rolebot.store.knowledge import Knowledge
from rolebot.store.migrations import MIGRATIONS
from rolebot.store.salt import move_salt_out, read_salt

__all__ = ["MIGRATIONS", "Candidate", "Store"]
log = logging.getLogger("rolebot")


class Store:
    """One SQLite database and its parts; safe to share between the event loop and worker threads."""

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        # MIGRATIONS is read here, at open time, so a test can append a probe migration to this module's list
        self.conn = Connection(path, MIGRATIONS, read_only=read_only)
        self.path, self.db, self.lock, self.read_only = self.conn.path, self.conn.db, self.conn.lock, read_only
        move_salt_out(self.conn)  # not a migration: the salt goes to a file, out of the database's history
        self.index = Index(self.conn)
        self.knowledge = Knowledge(self.conn, self.index)
        self.activity = Activity(self.conn)
        self.groups = Groups(self.conn)
        # the parts' methods, so that callers need not know which part holds what
        self.table = self.conn.table
        self.atomic = self.conn.atomic
        self.data_version = self.conn.data_version
        self.get_meta = self.conn.get_meta
        self.set_meta = self.conn.set_meta
        self.counts = self.knowledge.counts
        self.existing = self.knowledge.existing
        self.ids_by_origin = self.knowledge.ids_by_origin
        self.write = self.knowledge.write
        self.delete = self.knowledge.delete
        self.iter_records = self.knowledge.iter_records
        self.entry = self.knowledge.entry
        self.passage = self.knowledge.passage
        self.topic_entries = self.knowledge.topic_entries
        self.topic_passages = self.knowledge.topic_passages
        self.has_passages = self.knowledge.has_passages
        self.topic_question = self.knowledge.topic_question
        self.topics = self.knowledge.topics
        self.replace_phrasings = self.index.replace_phrasings
        self.search = self.index.search
        self.doc_freq = self.index.doc_freq
        self.phrasing_count = self.index.phrasing_count
        self.topic_phrasings = self.index.topic_phrasings
        self.shared_phrasings = self.index.shared_phrasings
        self.last_phrasing_id = self.index.last_phrasing_id
        self.exact_phrasings = self.index.exact_phrasings
        self.origin_phrasings = self.index.origin_phrasings
        self.knowledge_version = self.index.knowledge_version
        self.unkeyed_phrasings = self.index.unkeyed_phrasings
        self.set_exact_keys = self.index.set_exact_keys
        self.record_unanswered = self.activity.record_unanswered
        self.unanswered = self.activity.unanswered
        self.forget_unanswered = self.activity.forget_unanswered
        self.count_question = self.activity.count_question
        self.flush = self.activity.flush
        self.defer_activity = self.activity.defer
        self.take_pending = self.activity.take_pending
        self.restore_pending = self.activity.restore_pending
        self.daily = self.activity.daily
        self.record_feedback = self.activity.record_feedback
        self.feedback_by_topic = self.activity.feedback_by_topic
        self.audit = self.activity.audit
        self.group_settings = self.groups.group_settings
        self.save_group_settings = self.groups.save_group_settings
        self.move_group = self.groups.move_group

    def salt(self) -> str:
        """Return the salt of user hashes (kept in a file beside the database, made the first time)."""
        return read_salt(self.conn)

    def close(self, wait: float | None = None) -> None:
        """Write what is buffered (unless the database stays locked, `wait` seconds at most) and close the connection."""
        try:
            if wait is not None:  # a stop must not wait out the connection's 10 s for a lock held elsewhere
                self.conn.db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            self.activity.flush()
        except sqlite3.OperationalError as exc:
            log.warning("question counts not written at close: %s", exc)
        self.conn.close()
