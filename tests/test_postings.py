"""Word postings and BM25 in numpy: the same ranking as SQLite FTS5's bm25(), kept up to date by every write."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rolebot.engine.engine import Engine
from rolebot.engine.retriever import SHORTLIST
from rolebot.kb.knowledge import import_files
from rolebot.language.understand import understand
from rolebot.store import postings
from rolebot.store.index import Phrasing
from rolebot.store.migrations import MIGRATIONS
from rolebot.store.store import Store
from tests.helpers.index import assert_index_counts_consistent, recounted_postings, stored_postings
from tests.helpers.shared import SHARED

DEV = SHARED / "eval"


def _fts5_reference(store: Store) -> sqlite3.Connection:
    """Return the store's connection with an FTS5 index over the phrasings, as the shortlist used before."""
    conn = store.db.conn
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS ref USING fts5(tokens, content='phrasings', content_rowid='id')")
    conn.execute("INSERT INTO ref(ref) VALUES ('rebuild')")
    return conn


def _questions(store: Store) -> list[str]:
    """Return every FAQ phrasing of the shipped knowledge, and the dev questions when they are beside the repo."""
    texts = [t for (t,) in store.db.execute("SELECT text FROM phrasings WHERE kind = 'faq'")]
    for name in ("dev.jsonl", "real-dev.jsonl"):
        if (DEV / name).exists():
            texts += [json.loads(line)["q"] for line in (DEV / name).read_text(encoding="utf-8").splitlines() if line]
    return texts


@pytest.mark.shared  # runs alone too, on the shipped phrasings; beside ../shared on the dev questions as well
def test_shortlist_ranks_as_fts5_bm25_did(store: Store, engine: Engine) -> None:
    conn = _fts5_reference(store)
    compared = 0
    for text in _questions(store):
        terms = engine.pipeline.retriever.search_terms(understand(text, engine.vocab))
        if not terms:
            continue
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        old = conn.execute("SELECT rowid, -rank FROM ref WHERE ref MATCH ? ORDER BY rank LIMIT ?", [match, SHORTLIST])
        want = old.fetchall()
        got = postings.score(conn, terms, SHORTLIST)
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-12), text
        # the same phrasings, in the same order but for phrasings of equal score (and which of those the cut keeps)
        last = want[-1][1] if want else 0.0
        assert {i for i, s in got if s > last + 1e-9} == {i for i, s in want if s > last + 1e-9}, text
        compared += 1
    assert compared > 1000


def test_postings_follow_imports_and_deletes(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    rows = [
        {"id": f"p-{i}", "topic": f"p-{i}", "question": f"杠铃{i}怎么保养 杠铃 杠铃", "answer": "擦干。"}
        for i in range(30)
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    import_files(store, [path])
    assert_index_counts_consistent(store)
    rows[0]["question"] = "哑铃怎么保养"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:10]), encoding="utf-8")
    import_files(store, [path])
    with store.atomic():
        store.delete("faq", ["p-1", "p-2"])
    assert_index_counts_consistent(store)
    assert store.search(["哑铃"], 5)[0].ref == "p-0"
    assert "p-1" not in {c.ref for c in store.search(["杠铃"], 100)}


def test_ids_spanning_blocks_are_stored_per_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "BLOCK", 64)
    store = Store(tmp_path / "blocks.db")
    with store.atomic():
        store.replace_phrasings("faq", [(f"b-{i}", [Phrasing(f"保养{i}", f"杠铃 保养 b{i}")]) for i in range(200)])
    assert store.db.execute("SELECT count(*) FROM postings WHERE term = '杠铃'").fetchone()[0] >= 3
    assert_index_counts_consistent(store)
    with store.atomic():
        store.replace_phrasings("faq", [(f"b-{i}", []) for i in range(0, 200, 2)])
    assert_index_counts_consistent(store)
    assert len(store.search(["杠铃"], 500)) == 100
    store.close()


def test_an_old_database_gets_its_postings_at_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    names = [name for name, _ in MIGRATIONS]
    old = MIGRATIONS[: names.index("m007_postings")]
    from rolebot.store.db import Connection

    conn = Connection(path, old)
    conn.db.table("phrasings").insert_all(
        [
            {"kind": "faq", "ref": "a", "text": "营销是什么", "tokens": "营销 是 什么"},
            {"kind": "faq", "ref": "b", "text": "销售", "tokens": "销售"},
        ]
    )
    conn.db.conn.commit()
    conn.close()
    store = Store(path)
    assert stored_postings(store) == recounted_postings(store)
    assert "phrasings_fts" not in store.db.table_names()  # FTS5 is gone: nothing ranks through it any more
    assert [c.ref for c in store.search(["销售", "营销"], 5)] == ["b", "a"]
    store.close()
