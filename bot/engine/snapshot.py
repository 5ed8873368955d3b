"""One version of the knowledge as the engine reads it: sources, word statistics, entries and topic profiles.

A snapshot never changes what it says: the engine makes a new one when the store's knowledge version
moves, and training makes one per fold with that fold's phrasings hidden. What it reads from the store
is kept, bounded, so memory stays what the shipped knowledge needs however many entries are imported.
"""

from __future__ import annotations

from rolebot.engine.cache import Recent
from rolebot.engine.features import CharSpace, TopicProfile, build_profile
from rolebot.engine.sources import SHIPPED, SourceIndex, held_source
from rolebot.language.normalize import exact_keys
from rolebot.language.vocabulary import Vocabulary
from rolebot.store.index import Candidate, ExactHit
from rolebot.store.schema import FaqRow
from rolebot.store.store import Store

KEPT_TERMS = 50_000  # phrasing counts of words
KEPT_ENTRIES = 2_048
KEPT_TOPICS = 1_024  # topic profiles, canonical questions, whether a topic has passages


def sole_owner(hits: list[ExactHit]) -> str | None:
    """Return the entry that owns a wording: its own question beats another's alternate; a tie is no owner."""
    if not hits:
        return None
    rank: dict[str, bool] = {}
    for h in hits:
        rank[h.ref] = rank.get(h.ref, False) or h.main
    top = max(rank.values())
    owners = [ref for ref, main in rank.items() if main == top]
    # true duplicates (two entries asked the same way): scoring and the choice between them decide
    return owners[0] if len(owners) == 1 else None


class Snapshot:
    """The knowledge of one store at one version, with some phrasings hidden (a training fold's) or none."""

    def __init__(
        self,
        store: Store,
        vocab: Vocabulary,
        space: CharSpace,
        hidden: frozenset[str] = frozenset(),
        version: str | None = None,
    ) -> None:
        self.store = store
        self.vocab = vocab
        self.space = space  # the ranker's character n-gram space, for topic centroids
        self.hidden = hidden  # phrasings (by text) this snapshot does not know
        self.version = store.knowledge_version() if version is None else version
        self.docs = max(store.phrasing_count(), 1)
        self._source: SourceIndex | None = None  # the shipped phrasings, read at the first question that is scored
        self._df: Recent[str, int] = Recent(KEPT_TERMS)
        self._entries: Recent[str, FaqRow] = Recent(KEPT_ENTRIES)
        self._questions: Recent[str, str] = Recent(KEPT_TOPICS)
        self._has_more: Recent[str, bool] = Recent(KEPT_TOPICS)
        self._profiles: Recent[str, TopicProfile] = Recent(KEPT_TOPICS)
        self._phrasings: Recent[str, list[tuple[str, tuple[str, ...]]]] = Recent(KEPT_TOPICS)
        self._parent: Snapshot | None = None  # the snapshot a fold hides phrasings of

    def without(self, hidden: frozenset[str]) -> Snapshot:
        """Return the same knowledge with these phrasings hidden (word statistics unchanged), for a training fold."""
        fold = Snapshot(self.store, self.vocab, self.space, hidden, self.version)
        fold._source = self.shipped()  # read once for every fold: hiding phrasings leaves the statistics as they are
        # counts, entries and questions do not depend on what is hidden: shared with this snapshot
        fold._df, fold._entries, fold._questions = self._df, self._entries, self._questions
        fold._has_more, fold._phrasings = self._has_more, self._phrasings  # every phrasing; hidden ones are skipped
        fold._parent = self
        return fold

    def shipped(self) -> SourceIndex:
        """Return the shipped phrasings held in memory with their own statistics (read once)."""
        source = self._source
        if source is None:
            source = self._source = held_source(self.store.origin_phrasings(SHIPPED))
        return source

    def is_shipped(self, cand: Candidate) -> bool:
        """Say whether a phrasing is of the shipped knowledge."""
        return (cand.kind, cand.ref) in self.shipped().refs

    def doc_freq(self, terms: set[str]) -> dict[str, int]:
        """Return per-word phrasing counts over every source."""
        out: dict[str, int] = {}
        missing: list[str] = []
        for t in terms:
            n = self._df.get(t)
            if n is None:
                missing.append(t)
            elif n:
                out[t] = n
        if missing:
            found = self.store.doc_freq(sorted(missing))
            for t in missing:
                n = self._df.put(t, found.get(t, 0))
                if n:
                    out[t] = n
        return out

    def unseen(self, word: str) -> bool:
        """Say whether no phrasing of any source uses a word."""
        return not self.doc_freq({word})

    def entry(self, entry_id: str) -> FaqRow | None:
        """Return a stored entry."""
        hit = self._entries.get(entry_id)
        if hit is None and (hit := self.store.entry(entry_id)) is not None:
            self._entries.put(entry_id, hit)
        return hit

    def topic_question(self, topic: str) -> str | None:
        """Return a topic's canonical question, or None for an unknown topic."""
        hit = self._questions.get(topic)
        if hit is None and (hit := self.store.topic_question(topic)) is not None:
            self._questions.put(topic, hit)
        return hit

    def has_passages(self, topic: str) -> bool:
        """Say whether a topic has passages to show under 📖 更多."""
        more = self._has_more.get(topic)
        if more is None:
            more = self._has_more.put(topic, self.store.has_passages(topic))
        return more

    def phrasings(self, topic: str) -> list[tuple[str, tuple[str, ...]]]:
        """Return a topic's (text, words) phrasings, canonical first, hidden ones included."""
        hit = self._phrasings.get(topic)
        if hit is None:
            hit = self._phrasings.put(topic, self.store.topic_phrasings(topic))
        return hit

    def profile(self, topic: str) -> TopicProfile:
        """Return what a topic's knowledge says, without the hidden phrasings."""
        hit = self._profiles.get(topic)
        if hit is None:
            every = self.phrasings(topic)
            if self._parent is not None and not any(t in self.hidden for t, _ in every):
                return self._parent.profile(topic)  # nothing of this topic is hidden: the whole knowledge's profile
            phrasings = [(t, w) for t, w in every if t not in self.hidden]
            answers = [e["answer"] for e in self.store.topic_entries(topic)]
            hit = self._profiles.put(topic, build_profile(topic, phrasings, answers, self.space, self.vocab))
        return hit

    def exact_entry(self, text: str) -> str | None:
        """Return the one entry asked for word for word (up to width, case, script, then punctuation), or None."""
        key, bare = exact_keys(text)
        if not bare:
            return None
        hits = [h for h in self.store.exact_phrasings(key, bare) if h.text not in self.hidden]
        # punctuation kept first: 杠铃怎么保养 and 杠铃怎么保养？ may be two entries' questions
        stage = [h for h in hits if h.punctuated] or hits
        return sole_owner(stage)
