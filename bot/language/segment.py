"""Cut normalised text into words with jieba and the domain dictionary."""

from __future__ import annotations

import logging
import re
import threading

import jieba

from rolebot.language.vocabulary import Vocabulary

_PUNCT = re.compile(r"^[\W_]+$")
_CLAUSE_END = re.compile(r"[,，。!！?？;；:：()（）\n]+")
_CJK = re.compile(r"^[\u3400-\u9fff]$")
_lock = threading.RLock()
_loaded: set[int] = set()
_deferred: dict[int, Vocabulary] = {}  # vocabularies whose words load at the first cut (prepare(now=False))
_glue: set[str] = set()  # stop words: single characters that never join an unknown word
_titles: set[str] = set()  # 总监, 经理 …: join the word before them into one job title
_not_field: set[str] = set()  # words that cannot be the field of a title: roles, stop words, role verbs
_general: dict[str, int] = {}  # jieba's own frequency of each word the domain dictionary re-weights
VERSION = "3"  # bump when cutting changes, so stored phrasings are cut again


def prepare(vocab: Vocabulary, now: bool = True) -> None:
    """Initialise jieba once and load the domain words (not thread-safe during cutting, so before any cut).

    With `now` off they load at the first cut instead: a question answered word for word (`rolebot ask`
    with an entry's own question) needs neither jieba's dictionary (~0.5 s, ~60 MB) nor the domain words.
    """
    with _lock:
        if id(vocab) in _loaded:
            return
        if not now:
            _deferred[id(vocab)] = vocab
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word, freq in vocab.words.items():
            _add_word(word, freq)
        for role in vocab.roles:
            # jieba keeps a role like 新媒体运营 whole only when its frequency beats its parts
            _add_word(role, max(vocab.words.get(role, 0), 100000))
        for canon in set(vocab.aliases.values()):
            for word in canon.split():
                if word not in vocab.words and word not in vocab.roles and len(word) > 1:
                    _add_word(word, 50000)
        _glue.update(w for w in vocab.stopwords | vocab.cue_words if len(w) == 1)
        _titles.update(vocab.titles)
        _not_field.update(vocab.roles, vocab.stopwords, vocab.cue_words, vocab.role_verbs, vocab.titles)
        _loaded.add(id(vocab))
        _deferred.pop(id(vocab), None)  # only now: a thread that sees none deferred may cut at once


def _add_word(word: str, freq: int) -> None:
    """Give jieba a domain word at the frequency that cuts it whole, remembering what jieba itself said of it."""
    _general.setdefault(word, int(jieba.dt.FREQ.get(word) or 0))
    jieba.add_word(word, freq)


def _ready() -> None:
    """Load the vocabularies left for the first cut, before anything is cut."""
    if not _deferred:
        return
    with _lock:
        for vocab in list(_deferred.values()):
            prepare(vocab)


def dictionary() -> tuple[dict[str, int], int]:
    """Return jieba's word frequencies, the domain words' included, and their total (loading them when deferred)."""
    _ready()
    jieba.dt.check_initialized()
    return jieba.dt.FREQ, int(jieba.dt.total)


def general_frequency(word: str) -> tuple[int, int]:
    """Return a word's frequency in general Chinese by jieba's own dictionary and the dictionary's total.

    The domain words' frequencies are set to cut them whole (项目经理 100000), not to say how common they are.
    """
    table, total = dictionary()
    return _general.get(word, table.get(word, 0)), total


def words(text: str) -> list[str]:
    """Return the words of a normalised text, without spaces and punctuation.

    Without its HMM, jieba cuts a word it does not know (a product or a name) into single
    characters; a run of two or more such characters is joined back into one word.
    """
    out: list[str] = []
    run: list[str] = []
    _ready()
    for w in jieba.lcut(text, HMM=False):
        if _CJK.match(w) and w not in _glue:
            run.append(w)
            continue
        out.append("".join(run)) if len(run) > 1 else out.extend(run)
        run = []
        if w.strip() and not _PUNCT.match(w):
            out.append(w)
    out.append("".join(run)) if len(run) > 1 else out.extend(run)
    return _titled(out)


def _titled(words: list[str]) -> list[str]:
    """Join a field and the title after it into one job title (技术 总监 → 技术总监), our roles left alone."""
    out: list[str] = []
    for w in words:
        if w in _titles and out and out[-1] not in _not_field and not out[-1].isascii():
            out[-1] += w
        else:
            out.append(w)
    return out


def content(tokens: list[str], vocab: Vocabulary) -> list[str]:
    """Drop stop words and intent cue words (intents are compared on their own), keeping order, no repeats."""
    seen: dict[str, None] = {}
    for t in tokens:
        if t not in vocab.stopwords and t not in vocab.cue_words:
            seen.setdefault(t, None)
    return list(seen)


def clauses(text: str) -> list[str]:
    """Return the words of each clause of a normalised text, joined; [] for a text of one clause.

    People wrap a question in context and chatter (想问一下，…？急死啦！); each clause is scored on its own
    too, so the part that asks is seen without the rest.
    """
    pieces = [p for p in _CLAUSE_END.split(text) if p.strip()]
    if len(pieces) < 2:
        return []  # one clause (a trailing ？ included): the whole question's words already say it all
    parts = [joined for p in pieces if (joined := "".join(words(p)))]
    return parts if len(parts) > 1 else []
