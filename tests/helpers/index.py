"""Checks of the stored search index."""

from __future__ import annotations

from rolebot.store.store import Store


def assert_index_counts_consistent(store: Store) -> None:
    """doc_freq and phrasing_count agree with a recount of the FAQ phrasings actually stored."""
    from collections import Counter

    counts: Counter[str] = Counter()
    rows = store.db.execute("SELECT tokens FROM phrasings WHERE kind = 'faq'").fetchall()
    for (tokens,) in rows:
        counts.update(set(tokens.split()))
    assert store.phrasing_count() == len(rows)
    probe = sorted(counts) + ["从来没有出现过的词"]
    assert store.doc_freq(probe) == dict(counts)
