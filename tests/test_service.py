"""The conversation service reads each message once: one normalisation shared by small talk, follow-ups and the engine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rolebot.conversation import context, service, smalltalk
from rolebot.conversation.service import Service
from rolebot.engine import pipeline
from rolebot.language import normalize, understand
from rolebot.store.store import Store

READERS = (service, smalltalk, context, understand, pipeline)  # every module on the path that may normalise


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count every normalisation of a message, whichever module asks for it."""
    seen: list[str] = []
    real: Callable[..., normalize.Normalized] = normalize.normalize

    def counting(text: str, vocab: object) -> normalize.Normalized:
        seen.append(text)
        return real(text, vocab)

    for module in READERS:
        monkeypatch.setattr(module, "normalize", counting)
    return seen


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("营销和销售到底差在哪里呀", "answer", id="scored"),
        pytest.param("营销和销售有什么区别", "answer", id="exact"),
        pytest.param("谢谢你", "smalltalk", id="small-talk"),
        pytest.param("天气怎么样", "decline", id="declined"),
    ],
)
def test_a_question_is_normalised_once(shared_store: Store, calls: list[str], text: str, kind: str) -> None:
    svc = Service(shared_store, salt="test-salt")  # its own engine: nothing answered from an earlier test's cache
    answer = svc.ask(text, record=False)
    assert answer.result.kind == kind
    assert calls == [text]


def test_a_follow_up_normalises_the_swapped_question_too(shared_store: Store, calls: list[str]) -> None:
    svc = Service(shared_store, salt="test-salt")
    assert svc.ask("营销和销售有什么区别", record=False, context="chat").result.answered
    calls.clear()
    follow = svc.ask("那運營呢", record=False, context="chat")
    assert follow.result.answered and follow.result.script == "traditional"
    assert calls[0] == "那運營呢" and len(calls) == 2  # the message, then the previous question with 运营 in it


def test_a_lazy_service_loads_jieba_only_for_a_question_that_needs_cutting(db_path: Path) -> None:
    probe = (
        "import jieba; from pathlib import Path; from rolebot.conversation.service import Service; "
        "from rolebot.kb.knowledge import open_store; from rolebot.language import segment; "
        f"s = Service(open_store(Path({str(db_path)!r})), lazy=True); "
        "exact = s.ask('营销和销售有什么区别', record=False).result; before = jieba.dt.initialized; "
        "scored = s.ask('营销和销售到底差在哪呀', record=False).result; "
        "print(exact.topic, before, scored.topic, jieba.dt.initialized, segment.words('新媒体运营怎么做'))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    # the domain words are in jieba's dictionary by the first cut: 新媒体运营 stays whole
    assert out.strip() == "marketing-vs-sales False marketing-vs-sales True ['新媒体运营', '怎么', '做']"
