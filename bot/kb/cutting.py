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


def _cut(texts: list[str], vocab: Vocabulary | None = None) -> dict[str, str]:
    vocab = vocab or vocabulary()
    return {t: tokens_for(t, vocab) for t in texts}


class Job:
    """A batch of texts being cut, and the texts, to cut again here if the worker cannot."""

    def __init__(self, texts: list[str], future: Future[dict[str, str]] | None) -> None:
        self.texts = texts
        self.future = future


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

    def submit(self, texts: Iterable[str]) -> Job:
        """Start cutting texts (in the worker, if there is one; else when the result is asked for)."""
        batch = list(dict.fromkeys(texts))
        future = None
        if self._pool is not None:
            try:
                future = self._pool.submit(_cut, batch)
            except (BrokenProcessPool, RuntimeError, OSError) as exc:
                self._lost(exc)
        return Job(batch, future)

    def result(self, job: Job) -> dict[str, str]:
        """Return a batch's texts mapped to their index words."""
        if job.future is not None:
            try:
                return job.future.result()
            except (BrokenProcessPool, OSError) as exc:
                self._lost(exc)
        return _cut(job.texts, self.vocab)

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
