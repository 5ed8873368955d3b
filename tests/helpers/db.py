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
