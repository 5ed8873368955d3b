"""The `rolebot` command line: the ask --json contract, stdin batches, run without a token, chat."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rolebot.conversation.service import Service
from rolebot.terminal.chat import run_chat

CONTRACT = {
    "answered",
    "topic",
    "entry_id",
    "score",
    "question",
    "answer",
    "sources",
    "follow_ups",
    "candidates",
    "script",
    "kind",
    "region",
    "point",  # the claim an answer leads with, or null
    "missing",  # for a question about our roles we have no material on: {aspect, words, roles}, or null
}


def check_contract(out: dict) -> None:
    """Assert the shape every `rolebot ask --json` object has, answered or not."""
    assert set(out) == CONTRACT
    assert isinstance(out["answered"], bool)
    assert isinstance(out["score"], int) and not isinstance(out["score"], bool) and 0 <= out["score"] <= 100
    assert out["script"] in ("simplified", "traditional")
    assert out["region"] in ("mainland", "taiwan", "hong-kong")
    assert out["kind"] in ("answer", "choice", "related", "decline")
    assert (out["kind"] == "answer") == out["answered"]
    for c in out["candidates"]:
        assert set(c) == {"topic", "score"}
        assert isinstance(c["topic"], str) and isinstance(c["score"], int) and 0 <= c["score"] <= 100
    scores = [c["score"] for c in out["candidates"]]
    assert scores == sorted(scores, reverse=True), "candidates best first"
    assert len({c["topic"] for c in out["candidates"]}) == len(out["candidates"])
    for f in out["follow_ups"]:
        assert set(f) == {"topic", "question"} and f["topic"] and f["question"]
        assert f["topic"] != out["topic"]
    if out["answered"]:
        assert isinstance(out["topic"], str) and out["topic"]
        assert isinstance(out["question"], str) and out["question"]
        assert isinstance(out["answer"], str) and out["answer"]
        assert out["sources"] and all(isinstance(s["title"], str) and s["title"] for s in out["sources"])
        assert set().union(*map(set, out["sources"])) <= {"title", "author", "site", "url"}
    else:
        assert out["topic"] is None and out["entry_id"] is None and out["answer"] is None
        assert out["sources"] == [] and out["follow_ups"] == []


def ask_json(cli, db: Path, question: str) -> dict:
    res = cli("ask", question, "--json", "--db", str(db))
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == 1, res.stdout
    out = json.loads(lines[0])
    check_contract(out)
    return out


def test_ask_json_answer(cli, db_path: Path) -> None:
    out = ask_json(cli, db_path, "营销和销售有什么区别")
    assert out["answered"] is True
    assert out["topic"] == "marketing-vs-sales" and out["entry_id"] == "marketing-vs-sales"
    assert out["question"] == "营销和销售有什么区别？"
    assert out["script"] == "simplified"
    assert out["score"] >= 62
    assert out["candidates"][0] == {"topic": "marketing-vs-sales", "score": out["score"]}
    assert any("营销、销售、市场和运营的区别是什么" in s["title"] for s in out["sources"])
    assert out["follow_ups"] and all(f["topic"] != "marketing-vs-sales" for f in out["follow_ups"])


def test_ask_json_decline(cli, db_path: Path) -> None:
    out = ask_json(cli, db_path, "红烧肉要炖多久才入味")
    assert out["answered"] is False and out["topic"] is None


@pytest.mark.parametrize(
    "question, topic",
    [
        pytest.param("營銷和銷售的區別", "marketing-vs-sales", id="traditional"),
        pytest.param("營運是做什麼的", "what-is-operations", id="taiwan-operations"),
    ],
)
def test_traditional_question_reports_traditional(cli, db_path: Path, question: str, topic: str) -> None:
    out = ask_json(cli, db_path, question)
    assert out["script"] == "traditional"
    assert out["answered"] is True and out["topic"] == topic


def test_ask_plain_text(cli, db_path: Path) -> None:
    res = cli("ask", "营销和销售有什么区别", "--db", str(db_path))
    assert res.exit_code == 0
    assert res.stdout.startswith("营销和销售有什么区别？")
    assert "来源：" in res.stdout and "[1] " in res.stdout


def test_ask_stdin_batch_keeps_order(cli, db_path: Path) -> None:
    questions = ["营销和销售有什么区别", "今天股市怎么样", "營運是做什麼的", "用户运营是做什么的"]
    res = cli("ask", "-", "--json", "--db", str(db_path), input="\n".join(questions) + "\n")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == len(questions)
    outs = [json.loads(line) for line in lines]
    for out in outs:
        check_contract(out)
    assert [o["topic"] for o in outs] == ["marketing-vs-sales", None, "what-is-operations", "user-operations"]
    assert [o["script"] for o in outs] == ["simplified", "simplified", "traditional", "simplified"]


def test_ask_records_unanswered(cli, db_path: Path) -> None:
    from rolebot.store.store import Store

    for question in ("今天股市怎么样？", "今天股市怎么样？", "营销和销售有什么区别"):
        assert cli("ask", question, "--json", "--log", "--db", str(db_path)).exit_code == 0
    s = Store(db_path)
    rows = s.unanswered()
    s.close()
    assert [(r["text"], r["count"], r["chat_type"]) for r in rows] == [("今天股市怎么样？", 2, "cli")]


def test_ask_without_log_leaves_the_review_empty(cli, db_path: Path) -> None:
    from rolebot.store.store import Store

    assert cli("ask", "今天股市怎么样？", "--db", str(db_path)).exit_code == 0
    assert cli("ask", "-", "--json", "--db", str(db_path), input="会计和出纳的区别\n红烧肉怎么做\n").exit_code == 0
    s = Store(db_path)
    rows, asked = s.unanswered(), s.daily(14)
    s.close()
    assert rows == [] and asked == []


# -- run ------------------------------------------------------------------------------------------


def test_run_without_token(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    res = cli("run", "--db", str(tmp_path / "r.db"))
    assert res.exit_code == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "rolebot chat" in lines[0] and "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "Traceback" not in res.output


def test_run_with_blank_token(cli, tmp_path: Path) -> None:
    res = cli("run", "--db", str(tmp_path / "r.db"), env={"TELEGRAM_BOT_TOKEN": "   "})
    assert res.exit_code == 2 and "rolebot chat" in res.stderr


def test_unopenable_db_is_one_line(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = cli("ask", "营销是什么", "--db", str(blocker / "sub" / "x.db"))
    assert res.exit_code == 1
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.output


def test_help_has_examples(cli) -> None:
    for command in ("ask", "chat", "import", "export", "run"):
        res = cli(command, "--help")
        assert res.exit_code == 0 and "Example:" in res.stdout, command


# -- chat -----------------------------------------------------------------------------------------


def scripted(lines: list[str]) -> tuple[Callable[[str], str], list[str]]:
    """Return a read function that plays `lines` then EOF, and the list that collects what is written."""
    feed = iter(lines)
    written: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read, written


def test_chat_ask_press_quit(service: Service) -> None:
    read, written = scripted(["营销和销售有什么区别", "1", "q", "never read"])
    run_chat(service, read=read, write=written.append)
    welcome, answer, pressed = written
    assert "[1] " in welcome  # the browse menu
    assert answer.startswith("营销和销售有什么区别？") and "来源：" in answer
    first_button = next(line for line in answer.splitlines() if line.strip().startswith("[1]"))
    follow_up_question = first_button.split("] ", 1)[1]
    assert pressed.startswith(follow_up_question), "button 1 shows the follow-up it named"
    assert "营销和销售有什么区别？" not in pressed.splitlines()[0]


def test_chat_keeps_traditional_for_buttons(service: Service) -> None:
    read, written = scripted(["營銷和銷售的區別", "1"])
    run_chat(service, read=read, write=written.append)
    _, answer, pressed, eof = written
    assert "來源：" in answer and "来源：" not in answer
    assert "來源：" in pressed
    assert eof == ""


def test_chat_commands_and_stale_numbers(service: Service) -> None:
    read, written = scripted(["", "/help", "99", "q"])
    run_chat(service, read=read, write=written.append)
    assert len(written) == 3  # welcome, help, the reply to "99"; the empty line is skipped
    assert "/topics" in written[1]
    assert "没有这个选项" in written[2]  # a mistyped button number, not a question


def test_chat_out_of_range_number_is_not_logged(store) -> None:
    svc = Service(store, salt="s")
    read, written = scripted(["77", "99"])
    run_chat(svc, read=read, write=written.append)
    assert store.unanswered() == [] and all("没有这个选项" in w for w in written[1:] if w)


def test_chat_feedback_button(store) -> None:
    svc = Service(store, salt="s")
    read, written = scripted(["营销和销售有什么区别"])
    run_chat(svc, read=read, write=written.append)
    answer = written[1]
    thumbs = next(line for line in answer.splitlines() if "👍" in line)
    number = thumbs.strip().split("]")[0].lstrip("[")
    read, written = scripted(["营销和销售有什么区别", number])
    run_chat(svc, read=read, write=written.append)
    assert written[2] == "谢谢反馈！"
    assert store.feedback_by_topic() == [{"topic": "marketing-vs-sales", "up": 1, "down": 0}]


def test_cli_chat(cli, db_path: Path) -> None:
    res = cli("chat", "--db", str(db_path), input="运营是干嘛的\nq\n")
    assert res.exit_code == 0, res.output
    assert "运营是什么？" in res.stdout and "来源：" in res.stdout


def test_unusable_database_is_one_clear_line(tmp_path: Path) -> None:
    """A corrupt or unwritable database path: one line, exit 1, no traceback."""
    from click.testing import CliRunner

    from rolebot.terminal.cli import main

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for db in (corrupt, blocker / "sub" / "x.db"):
        result = CliRunner().invoke(main, ["ask", "营销是什么", "--db", str(db)])
        assert result.exit_code == 1
        assert result.output.count("\n") == 1 and result.output.startswith("error: ")
        assert "Traceback" not in result.output
