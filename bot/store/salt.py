"""The salt of the feedback's user hashes: a 0600 file of its own beside the database, never inside it.

A copied or exported database then holds hashes that cannot be recomputed from Telegram user ids:
the salt stays with the installation, not with the data.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import tempfile
from pathlib import Path

from rolebot.errors import StoreError
from rolebot.store.db import Connection

log = logging.getLogger("rolebot")


def salt_path(db_path: Path) -> Path:
    """Return the salt file beside the database."""
    return db_path.with_name(db_path.name + ".salt")


def _write(path: Path, salt: str, replace: bool) -> None:
    """Write the salt whole into a 0600 file; without `replace`, FileExistsError when one is there already."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(salt + "\n")
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic and never overwrites: of two processes making one, the first one's stays
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def move_salt_out(conn: Connection) -> None:
    """Move a salt kept in the meta table (as before) into its file, leaving no trace of it in the database."""
    old = conn.get_meta("salt")
    if old is None or conn.read_only or str(conn.path) == ":memory:":
        return
    path = salt_path(conn.path)
    _write(path, old, replace=True)  # the meta salt made this database's hashes: it wins over any file there
    try:
        with conn.lock:
            # secure_delete zeroes the row's bytes, and the checkpoint puts the zeroed page into the main file
            # at once: otherwise a copy of the database file would still hold the salt
            conn.db.execute("PRAGMA secure_delete = ON")
            with conn.db.conn:
                conn.db.execute("DELETE FROM meta WHERE key = 'salt'")
            conn.db.execute("PRAGMA secure_delete = OFF")
            conn.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:  # a busy lock: the file holds it already, the next start deletes it
        log.warning("salt copied to %s but still in the database: %s", path.name, exc)
        return
    log.info("feedback salt moved out of the database into %s", path)


def read_salt(conn: Connection) -> str:
    """Return the salt of user hashes, making and keeping a random one the first time it is needed."""
    if str(conn.path) == ":memory:":
        return secrets.token_hex(16)  # the hashes die with the database
    path = salt_path(conn.path)
    for _ in range(2):
        with contextlib.suppress(FileNotFoundError):
            if salt := path.read_text(encoding="ascii").strip():
                return salt
        if conn.read_only:
            old = conn.get_meta("salt")  # a database from before the salt file, opened read-only
            if old:
                return old
            raise StoreError(f"{conn.path} is read-only and has no salt file {path.name}: votes cannot be counted")
        try:
            _write(path, secrets.token_hex(16), replace=False)
        except FileExistsError:
            continue  # another thread or process made it first: read theirs
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
    raise StoreError(f"{path} is empty: delete it (votes are then counted afresh)")
