"""Hostile knowledge files: each is refused as one `file:line: field: problem` line, and nothing is written."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from rolebot.errors import ImportFormatError
from rolebot.kb.knowledge import import_files
from rolebot.kb.records import load_records
from rolebot.store.store import Store
from tests.helpers.bot import USER, buttons, sends


def alias_bomb() -> bytes:
    """Return a ~430-byte YAML record whose aliases expand to 9**9 strings ("billion laughs")."""
    lines = ["- topic: x", "  question: 炸弹", "  answer: 这是一个回答句子。", '  tags: &a ["lol"' + ',"lol"' * 8 + "]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("  kind: [" + ",".join(["*h"] * 9) + "]")  # the refusal would print it: 9**9 reprs
    return ("\n".join(lines) + "\n").encode()


ANSWER = "这是一个足够长的回答句子。"
HOSTILE = [
    pytest.param("bomb.yaml", alias_bomb(), "bomb.yaml:5: (yaml): bad YAML: an alias (*a)", id="yaml-alias-bomb"),
    pytest.param("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "deep.jsonl:1: (json):", id="json-deep"),
    pytest.param(
        "deep50.jsonl",
        b'{"topic": "x", "question": "q", "answer": "'
        + ANSWER.encode()
        + b'", "tags": '
        + b"[" * 50
        + b"]" * 50
        + b"}",
        "deep50.jsonl:1: tags[0]",
        id="json-nested-50",
    ),
    pytest.param("deep.yaml", b"- " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "deep.yaml:1: (yaml):", id="yaml-deep"),
    pytest.param(
        "deep.yaml",
        b"- topic: x\n  tags:\n" + b"".join(b"  " * (i + 2) + b"- \n" for i in range(40)),
        "deep.yaml:",
        id="yaml-deep-block",
    ),
    pytest.param(
        "lone.jsonl",
        b'{"topic": "x", "question": "\\ud800\xe9\x97\xae", "answer": "' + ANSWER.encode() + b'"}\n',
        "lone.jsonl:1: question: holds \\ud800",
        id="json-lone-surrogate",
    ),
    pytest.param(
        "lone.yaml",
        b'- topic: x\n  question: q\n  answer: "\\udfff' + ANSWER.encode() + b'"\n',
        "lone.yaml:1: answer: holds \\udfff",
        id="yaml-lone-surrogate",
    ),
    pytest.param(
        "lone.jsonl",
        b'{"topic": "x", "question": "q", "answer": "' + ANSWER.encode() + b'", "sources": [{"title": "\\udc00"}]}\n',
        "lone.jsonl:1: sources[0].title: holds \\udc00",
        id="json-lone-surrogate-in-source",
    ),
    pytest.param(
        "big.jsonl", b'{"topic": ' + b"9" * 5000 + b"}\n", "big.jsonl:1: (json): bad JSON:", id="json-huge-int"
    ),
]


@pytest.mark.parametrize(("name", "body", "says"), HOSTILE)
def test_hostile_file_is_one_line_and_writes_nothing(
    cli: Any, db_path: Path, tmp_path: Path, name: str, body: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(body)
    before = cli.export(db_path)
    for args in (["--dry-run"], []):
        res = cli("import", *args, str(path), "--db", str(db_path))
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert res.exit_code == 1 and "Traceback" not in res.output + res.stderr, res.stderr
        assert len(errors) == 1 and says in errors[0], res.stderr
        assert "added" not in res.stdout
    assert cli.export(db_path) == before


def test_alias_bomb_is_refused_fast_and_small(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_bytes(alias_bomb())
    tracemalloc.start()
    began = time.perf_counter()
    with pytest.raises(ImportFormatError) as refused:
        load_records([path])
    took = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [p.field for p in refused.value.problems] == ["(yaml)"]
    # the numbers the issue asks for are < 1 s and < 50 MB; scripts/hostile.py prints them
    assert took < 1.0 and peak < 50 * 2**20, (took, peak)


def test_a_full_disk_is_one_line_and_nothing_stays(store: Store, tmp_path: Path) -> None:
    rows = [
        f'{{"topic": "t{i}", "question": "问题{i}的一个很长的说法", "answer": "{ANSWER * 20}"}}' for i in range(2000)
    ]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = store.counts()
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 5}")  # what a full disk looks like to SQLite
    with pytest.raises(ImportFormatError) as refused:
        import_files(store, [path])
    [problem] = refused.value.problems
    assert str(problem) == f"{store.path}:0: (database): database or disk is full; nothing was written"
    store.db.execute("PRAGMA max_page_count = 1073741823")
    assert store.counts() == before


async def test_hostile_documents_in_telegram_get_one_line_and_no_button(running: Any) -> None:
    api, app = running
    service = app.bot_data["rolebot"].service
    maintainer = USER + 1
    before = service.store.counts()
    files = [
        ("bomb.yaml", alias_bomb(), "bomb.yaml:5: (yaml):"),
        (
            "lone.jsonl",
            b'{"topic": "x", "question": "\\ud800", "answer": "' + ANSWER.encode() + b'"}\n',
            "lone.jsonl:1:",
        ),
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "deep.jsonl:1: (json):"),
    ]
    for name, body, says in files:
        mark = api.mark()
        api.document(name, body, user_id=maintainer)
        [msg] = await sends(api, since=mark)
        lines = msg["text"].splitlines()
        assert lines[0] == "文件有问题，没有导入：" and len(lines) == 2 and lines[1].startswith(says), msg["text"]
        assert not buttons(msg) and "added" not in msg["text"]
    assert service.store.counts() == before
