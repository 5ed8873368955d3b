"""Database copies for tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_db(src_path: Path, dest: Path) -> Path:
    """Copy a database with SQLite's backup API (safe with WAL)."""
    src = sqlite3.connect(src_path)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return dest


def damage_pages(path: Path) -> None:
    """Overwrite part of a page in the middle of a database file, as a failing disk would."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size, pages = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count"))
    finally:
        conn.close()
    with path.open("r+b") as f:
        f.seek(page_size * (pages // 2) + 100)
        f.write(b"\xde\xad\xbe\xef" * 200)
