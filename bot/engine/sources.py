"""The shipped knowledge's phrasings held in memory with their own word statistics, apart from imported ones.

Word weights (BM25's and the scorer's IDF) counted over every phrasing would move with whatever is
imported: 100,000 entries about gym equipment make 需要 and 不 common and every shipped word rarer.
Counted per source, a shipped phrasing is scored against a question the same way whatever else the
database holds, and imported entries by the statistics of their own kind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from rolebot.store import postings
from rolebot.store.index import Candidate

SHIPPED = "shipped"


@dataclass(frozen=True)
class SourceIndex:
    """The phrasings of one origin: for BM25 over them alone, and their words' phrasing counts."""

    candidates: dict[int, Candidate]  # by phrasing id
    blocks: dict[str, list[postings.Block]]  # one postings block per word, ids ascending
    docs: int  # phrasings of entries and passages, as the postings count them
    tokens: int  # their words
    faq_docs: int  # FAQ phrasings, as the engine's word weights count them
    df: dict[str, int]  # FAQ phrasings using each word
    refs: frozenset[tuple[str, str]]  # (kind, ref) of its records

    def search(self, terms: list[str], limit: int, weights: list[float] | None = None) -> list[Candidate]:
        """Return its phrasings best matching any of the terms, by BM25 over its own statistics."""
        best = postings.rank_held(self.blocks, terms, limit, self.docs, self.tokens, weights)
        return [replace(self.candidates[pid], rank=-bm25) for pid, bm25 in best]


def held_source(rows: list[tuple[int, Candidate]]) -> SourceIndex:
    """Return the in-memory source of (id, phrasing) rows given in ascending id order."""
    held: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    df: Counter[str] = Counter()
    tokens = faq = 0
    for pid, cand in rows:
        words = cand.tokens
        tokens += len(words)
        for word, n in Counter(words).items():
            held[word].append((pid, min(n, 65535), len(words)))
        if cand.kind == "faq":
            faq += 1
            df.update(set(words))
    blocks: dict[str, list[postings.Block]] = {}
    for word, hits in held.items():
        a = np.array(hits, dtype=np.int64)
        blocks[word] = [(a[:, 0].astype(postings.ID), a[:, 1].astype(postings.TF), a[:, 2].astype(postings.LEN))]
    return SourceIndex(
        candidates=dict(rows),
        blocks=blocks,
        docs=len(rows),
        tokens=tokens,
        faq_docs=faq,
        df=dict(df),
        refs=frozenset((c.kind, c.ref) for _, c in rows),
    )
