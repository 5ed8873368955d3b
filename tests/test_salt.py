"""The feedback salt: a 0600 file beside the database, so a copied database cannot be matched to user ids."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from rolebot.conversation.service import Service
from rolebot.store.salt import salt_path
from rolebot.store.store import Store
from tests.helpers.db import copy_db

USER = 4242


def _votes(db: Path) -> list[tuple[str, int]]:
    store = Store(db)
    try:
        return [(r["user_hash"], r["vote"]) for r in store.db["feedback"].rows]
    finally:
        store.close()


def _vote(db: Path, vote: int) -> str:
    service = Service.open(db)
    try:
        entry_id = service.ask("营销和销售有什么区别", record=False).result.entry_id
        assert entry_id and service.feedback(entry_id, vote, USER)
        return service.user_hash(USER)
    finally:
        service.close()


def test_the_salt_lives_in_a_0600_file_not_in_the_database(tmp_path: Path, shipped_db: Path) -> None:
    db = copy_db(shipped_db, tmp_path / "bot.db")
    first = _vote(db, 1)
    assert stat.S_IMODE(salt_path(db).stat().st_mode) == 0o600
    salt = salt_path(db).read_text().strip()
    assert first == hashlib.sha256(f"{salt}:{USER}".encode()).hexdigest()[:16]
    store = Store(db)
    assert store.get_meta("salt") is None
    store.close()
    assert salt.encode() not in db.read_bytes()
    assert _vote(db, -1) == first  # the same after a restart: the second vote replaces the first
    assert _votes(db) == [(first, -1)]


def test_a_copy_without_its_salt_file_hashes_anew(tmp_path: Path, shipped_db: Path) -> None:
    db = copy_db(shipped_db, tmp_path / "bot.db")
    first = _vote(db, 1)
    elsewhere = tmp_path / "copy"
    elsewhere.mkdir()
    assert _vote(copy_db(db, elsewhere / "bot.db"), 1) != first


def test_a_salt_in_meta_moves_to_its_file_and_keeps_the_hashes(tmp_path: Path, shipped_db: Path) -> None:
    db = copy_db(shipped_db, tmp_path / "old.db")
    old_salt = "0123456789abcdef" * 2  # as a version before the salt file kept it, in meta beside the hashes
    old_hash = hashlib.sha256(f"{old_salt}:{USER}".encode()).hexdigest()[:16]
    store = Store(db)
    store.set_meta("salt", old_salt)
    entry_id = store.db.execute("SELECT id FROM entries LIMIT 1").fetchone()[0]
    store.record_feedback("t", entry_id, 1, "private", old_hash)
    store.conn.close()  # closed as the old version would: no salt moved out
    assert old_salt.encode() in db.read_bytes()

    service = Service.open(db)
    assert service.store.get_meta("salt") is None
    assert salt_path(db).read_text().strip() == old_salt
    assert stat.S_IMODE(salt_path(db).stat().st_mode) == 0o600
    assert service.user_hash(USER) == old_hash
    assert old_salt.encode() not in db.read_bytes()  # zeroed and checkpointed at once, not only deleted
    service.close()
    assert old_salt.encode() not in db.read_bytes()
    assert _vote(db, -1) == old_hash
