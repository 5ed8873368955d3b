"""A large import cuts its texts in a worker process: the same words as cutting in-process, and nothing lost if it dies."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from rolebot.kb import cutting, knowledge
from rolebot.kb.cutting import Cutter, tokens_for
from rolebot.kb.knowledge import import_files
from rolebot.language.vocabulary import vocabulary
from rolebot.store.store import Store
from tests.test_import import faq, write_jsonl

RECORDS = 12


class Watched(Cutter):
    """A Cutter that remembers whether it started a worker."""

    made: list[Watched] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.had_worker = self._pool is not None
        Watched.made.append(self)


class DeadPool:
    """An executor whose worker has died: every batch fails as a broken pool does."""

    def submit(self, *args: Any) -> Future[dict[str, str]]:
        job: Future[dict[str, str]] = Future()
        job.set_exception(BrokenProcessPool("the worker died"))
        return job

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def _records(tmp_path: Path) -> Path:
    rows = [faq(i, alternates=[f"第{i}条：仓储主管和采购主管差在哪", f"仓库主管每天做什么{i}"]) for i in range(RECORDS)]
    return write_jsonl(tmp_path / "many.jsonl", rows)


def _stored_words(store: Store) -> dict[str, tuple[str, ...]]:
    return {text: words for i in range(RECORDS) for text, words in store.topic_phrasings(f"imported-topic-{i}")}


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any import is large enough for a worker, on a machine with a second core."""
    Watched.made.clear()
    monkeypatch.setattr(knowledge, "PARALLEL_FROM", 1)
    monkeypatch.setattr(knowledge, "Cutter", Watched)
    monkeypatch.setattr(cutting.os, "cpu_count", lambda: 2)


@pytest.mark.usefixtures("parallel")
def test_a_worker_cuts_the_words_cutting_here_would(store: Store, tmp_path: Path) -> None:
    plan = import_files(store, [_records(tmp_path)])
    assert plan.counts["added"] == RECORDS
    assert [c.had_worker for c in Watched.made] == [True]
    vocab = vocabulary()
    stored = _stored_words(store)
    assert len(stored) == 3 * RECORDS
    assert stored == {text: tuple(tokens_for(text, vocab).split()) for text in stored}


@pytest.mark.usefixtures("parallel")
def test_a_worker_that_dies_loses_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cutting, "ProcessPoolExecutor", lambda *a, **k: DeadPool())
    with caplog.at_level(logging.WARNING, logger="rolebot.kb.cutting"):
        plan = import_files(store, [_records(tmp_path)])
    assert plan.counts["added"] == RECORDS
    vocab = vocabulary()
    stored = _stored_words(store)
    assert len(stored) == 3 * RECORDS
    assert stored == {text: tuple(tokens_for(text, vocab).split()) for text in stored}
    assert sum("cutting worker stopped" in r.getMessage() for r in caplog.records) == 1


def test_a_small_import_cuts_in_process(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Watched.made.clear()
    monkeypatch.setattr(knowledge, "Cutter", Watched)
    import_files(store, [_records(tmp_path)])
    assert [c.had_worker for c in Watched.made] == [False]  # a worker's start-up would cost more than it saves
