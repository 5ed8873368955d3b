"""Checks of the stored search index."""

from __future__ import annotations

from collections import Counter

import numpy as np

from rolebot.store import postings
from rolebot.store.store import Store


def assert_index_counts_consistent(store: Store) -> None:
    """doc_freq, phrasing_count and the postings agree with a recount of the phrasings actually stored."""
    counts: Counter[str] = Counter()
    rows = store.db.execute("SELECT tokens FROM phrasings WHERE kind = 'faq'").fetchall()
    for (tokens,) in rows:
        counts.update(set(tokens.split()))
    assert store.phrasing_count() == len(rows)
    probe = sorted(counts) + ["从来没有出现过的词"]
    assert store.doc_freq(probe) == dict(counts)
    assert stored_postings(store) == recounted_postings(store)


def recounted_postings(store: Store) -> tuple[dict[str, dict[int, tuple[int, int]]], tuple[int, int]]:
    """Return {word: {phrasing id: (count, length)}} and (phrasings, words), recounted from the phrasings."""
    out: dict[str, dict[int, tuple[int, int]]] = {}
    docs = words = 0
    for pid, tokens in store.db.execute("SELECT id, tokens FROM phrasings"):
        split = tokens.split()
        docs, words = docs + 1, words + len(split)
        for word, n in Counter(split).items():
            out.setdefault(word, {})[pid] = (n, len(split))
    return out, (docs, words)


def stored_postings(store: Store) -> tuple[dict[str, dict[int, tuple[int, int]]], tuple[int, int]]:
    """Return the postings and totals as stored, in the shape of `recounted_postings`."""
    out: dict[str, dict[int, tuple[int, int]]] = {}
    for word, block, ids, tf, lengths in store.db.execute("SELECT term, block, ids, tf, lengths FROM postings"):
        id_list = np.frombuffer(ids, postings.ID).tolist()
        assert id_list == sorted(id_list) and all(i // postings.BLOCK == block for i in id_list)
        for pid, n, length in zip(id_list, np.frombuffer(tf, postings.TF), np.frombuffer(lengths, postings.LEN)):
            out.setdefault(word, {})[pid] = (int(n), int(length))
    docs, words = store.db.execute("SELECT docs, tokens FROM postings_totals").fetchone()
    return out, (docs, words)
