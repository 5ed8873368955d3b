"""Index words of the texts an import writes, cut beside it in a worker process when a core is spare."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from rolebot.language import segment
from rolebot.language.normalize import normalize
from rolebot.language.vocabulary import Vocabulary, vocabulary

log = logging.getLogger(__name__)

# Records to write before a worker pays off: it starts a fresh interpreter and loads jieba (~1.5 s), and
# cutting is about half of what writing a record costs.
PARALLEL_FROM = 5000


def tokens_for(text: str, vocab: Vocabulary) -> str:
    """Return the space-joined words of a text, as the index stores them."""
    return " ".join(segment.words(normalize(text, vocab).text))


def _start() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        # a pool's worker waits on a queue it holds both ends of: killed hard (kill -9), the importer leaves it
        # waiting for ever unless it watches the importer itself
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    segment.prepare(vocabulary())


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _cut(texts: list[str]) -> dict[str, str]:
    vocab = vocabulary()
    return {t: tokens_for(t, vocab) for t in texts}


class Cutter:
    """Cuts batches of texts: in one worker process when asked to and the machine has a second core, else here.

    A worker that dies takes nothing with it: its batches are cut here instead.
    """

    def __init__(self, vocab: Vocabulary, parallel: bool) -> None:
        self.vocab = vocab
        self._pool: ProcessPoolExecutor | None = None
        if parallel and (os.cpu_count() or 1) > 1:
            # spawn, not fork: the bot's process has threads, and a forked copy of their locks can hang
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=_start)

    def submit(self, texts: Iterable[str]) -> Future[dict[str, str]]:
        """Start cutting texts; the future's result maps each to its index words."""
        batch = list(dict.fromkeys(texts))
        if self._pool is not None:
            try:
                return self._pool.submit(_cut, batch)
            except (BrokenProcessPool, RuntimeError, OSError) as exc:
                self._lost(exc)
        done: Future[dict[str, str]] = Future()
        done.set_result({t: tokens_for(t, self.vocab) for t in batch})
        return done

    def result(self, job: Future[dict[str, str]], texts: Iterable[str]) -> dict[str, str]:
        """Return a submitted batch's words, cutting it here when the worker could not."""
        try:
            return job.result()
        except (BrokenProcessPool, OSError) as exc:
            self._lost(exc)
            return {t: tokens_for(t, self.vocab) for t in dict.fromkeys(texts)}

    def close(self) -> None:
        """Stop the worker (batches not collected are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _lost(self, exc: BaseException) -> None:
        if self._pool is not None:
            log.warning("import: the cutting worker stopped (%s); cutting in this process", type(exc).__name__)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
