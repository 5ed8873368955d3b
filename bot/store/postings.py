"""Word postings of the phrasings, kept in blocks of ids, and BM25 over them in numpy (FTS5's bm25() without its cost).

Each row of `postings` holds, for one word and one block of phrasing ids, the ids of the phrasings that use
the word, how often each uses it and each one's length in words (a phrasing's length never changes: a new
wording is a new row). `postings_totals` holds the number of phrasings and of their words. Both are
written in the same transaction as the phrasings, so opening a database builds nothing.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

BLOCK = 4096  # phrasing ids per postings row: a write rewrites rows of this size at most, never a word's whole list
K1, B = 1.2, 0.75  # the constants of SQLite FTS5's bm25(), whose ranking this reproduces
IDF_FLOOR = 1e-6  # FTS5's IDF for a word in half the phrasings or more (where the log turns negative)
ID, TF, LEN = np.dtype("<i8"), np.dtype("<u2"), np.dtype("<u4")
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Block = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]  # ids, counts, lengths of one postings row

SCHEMA = """
CREATE TABLE postings (term TEXT NOT NULL, block INTEGER NOT NULL, ids BLOB NOT NULL, tf BLOB NOT NULL,
    lengths BLOB NOT NULL, PRIMARY KEY (term, block));
CREATE TABLE postings_totals (docs INTEGER NOT NULL, tokens INTEGER NOT NULL);
INSERT INTO postings_totals VALUES (0, 0);
"""


def update(conn: sqlite3.Connection, added: dict[int, str], removed: dict[int, str]) -> None:
    """Record phrasings added and removed (id -> space-joined words) in the postings; call inside a transaction."""
    if not added and not removed:
        return
    drop: dict[tuple[int, str], list[int]] = defaultdict(list)
    put: dict[tuple[int, str], list[tuple[int, int, int]]] = defaultdict(list)
    words_delta = 0
    for pid, tokens in removed.items():
        words = tokens.split()
        words_delta -= len(words)
        for word in set(words):
            drop[(pid // BLOCK, word)].append(pid)
    for pid, tokens in added.items():
        words = tokens.split()
        words_delta += len(words)
        for word, n in Counter(words).items():
            put[(pid // BLOCK, word)].append((pid, min(n, 65535), len(words)))
    by_block: dict[int, list[str]] = defaultdict(list)
    for block, word in drop.keys() | put.keys():
        by_block[block].append(word)
    writes: list[tuple[str, int, bytes, bytes, bytes]] = []
    empty: list[tuple[str, int]] = []
    for block, words_here in sorted(by_block.items()):
        have: dict[str, tuple[bytes, bytes, bytes]] = {}
        for start in range(0, len(words_here), 500):
            chunk = words_here[start : start + 500]
            for word, ids_blob, tf_blob, lengths_blob in conn.execute(
                f"SELECT term, ids, tf, lengths FROM postings WHERE block = ? AND term IN ({','.join('?' * len(chunk))})",
                [block, *chunk],
            ):
                have[word] = (ids_blob, tf_blob, lengths_blob)
        for word in words_here:
            old = have.get(word)
            ids: IntArray = np.frombuffer(old[0], ID).astype(np.int64) if old else np.empty(0, np.int64)
            tf: IntArray = np.frombuffer(old[1], TF).astype(np.int64) if old else np.empty(0, np.int64)
            lengths: IntArray = np.frombuffer(old[2], LEN).astype(np.int64) if old else np.empty(0, np.int64)
            gone = drop.get((block, word))
            if gone:
                keep = ~np.isin(ids, gone)
                ids, tf, lengths = ids[keep], tf[keep], lengths[keep]
            more = put.get((block, word))
            if more:
                rows = np.array(more, dtype=np.int64)
                ids = np.concatenate([ids, rows[:, 0]])
                tf = np.concatenate([tf, rows[:, 1]])
                lengths = np.concatenate([lengths, rows[:, 2]])
                order = np.argsort(ids, kind="stable")
                ids, tf, lengths = ids[order], tf[order], lengths[order]
            if len(ids):
                blobs = (ids.astype(ID).tobytes(), tf.astype(TF).tobytes(), lengths.astype(LEN).tobytes())
                writes.append((word, block, *blobs))
            elif old is not None:
                empty.append((word, block))
    conn.executemany("INSERT OR REPLACE INTO postings (term, block, ids, tf, lengths) VALUES (?, ?, ?, ?, ?)", writes)
    conn.executemany("DELETE FROM postings WHERE term = ? AND block = ?", empty)
    conn.execute(
        "UPDATE postings_totals SET docs = docs + ?, tokens = tokens + ?", [len(added) - len(removed), words_delta]
    )


def score(
    conn: sqlite3.Connection, terms: list[str], limit: int, weights: list[float] | None = None
) -> list[tuple[int, float]]:
    """Return (phrasing id, BM25 score) of the best `limit` phrasings using any of the terms, best first.

    The score is FTS5's bm25() for an OR of the terms, computed the same way in the same order (so the
    same floating-point sums), each term's part times its weight (1 unless given); ties go to the lower id.
    """
    weight = _term_weights(terms, weights)
    if not weight or limit <= 0:
        return []
    docs, total = conn.execute("SELECT docs, tokens FROM postings_totals").fetchone()
    if not docs:
        return []
    words = list(weight)
    found: dict[str, list[Block]] = defaultdict(list)
    for word, ids, tf, lengths in conn.execute(
        f"SELECT term, ids, tf, lengths FROM postings WHERE term IN ({','.join('?' * len(words))}) ORDER BY term, block",
        words,
    ):
        found[word].append((np.frombuffer(ids, ID), np.frombuffer(tf, TF), np.frombuffer(lengths, LEN)))
    return rank(found, weight, docs, total, limit)


def _term_weights(terms: list[str], weights: list[float] | None) -> dict[str, float]:
    """Return each distinct term's weight (1 unless given), in the query's order."""
    weight: dict[str, float] = {}
    for i, t in enumerate(terms):
        if t and t not in weight:
            weight[t] = weights[i] if weights is not None else 1.0
    return weight


def rank_held(
    held: Mapping[str, list[Block]], terms: list[str], limit: int, docs: int, total: int, weights: list[float] | None
) -> list[tuple[int, float]]:
    """Return what `score` returns, over postings held in memory (blocks by word) with their own totals."""
    weight = _term_weights(terms, weights)
    if not weight or limit <= 0 or not docs:
        return []
    return rank(held, weight, docs, total, limit)


def rank(
    found: Mapping[str, list[Block]], weight: dict[str, float], docs: int, total: int, limit: int
) -> list[tuple[int, float]]:
    """Return the best `limit` (phrasing id, BM25 score) from the words' postings blocks, in ascending id order each."""
    avgdl = total / docs
    id_parts: list[IntArray] = []
    score_parts: list[FloatArray] = []
    for word in weight:  # in the query's order, as FTS5 sums its phrases
        blocks = found.get(word)
        if not blocks:
            continue
        ids = np.concatenate([b[0] for b in blocks])
        tf = np.concatenate([b[1] for b in blocks]).astype(np.float64)
        length = np.concatenate([b[2] for b in blocks]).astype(np.float64)
        hits = len(ids)
        idf = math.log((docs - hits + 0.5) / (hits + 0.5))
        if idf <= 0.0:
            idf = IDF_FLOOR
        id_parts.append(ids)
        part = idf * ((tf * (K1 + 1.0)) / (tf + K1 * (1 - B + B * length / avgdl)))
        score_parts.append(part if weight[word] == 1.0 else part * weight[word])
    if not id_parts:
        return []
    ids = np.concatenate(id_parts)
    unique, where = np.unique(ids, return_inverse=True)
    scores = np.bincount(where, weights=np.concatenate(score_parts))
    if len(unique) > limit:
        kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        pick = np.flatnonzero(scores >= kth)
    else:
        pick = np.arange(len(unique))
    order = pick[np.lexsort((unique[pick], -scores[pick]))][:limit]
    return [(int(i), float(s)) for i, s in zip(unique[order], scores[order], strict=True)]
