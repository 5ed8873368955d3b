"""The command line at its edges: closed pipes, a full disk, binary or endless stdin lines."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from rolebot.terminal.cli import MAX_LINE, stdin_questions

ROLEBOT = [sys.executable, "-m", "rolebot"]


def test_export_into_head_is_quiet(db_path: Path) -> None:
    proc = subprocess.run(
        f"{' '.join(ROLEBOT)} export --db {db_path} | head -n 1", shell=True, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("{")
    assert proc.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_export_to_a_full_disk_is_one_line(db_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*ROLEBOT, "export", "--db", str(db_path)], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: cannot write the output: No space left on device")
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_binary_stdin_is_one_line(db_path: Path) -> None:
    proc = subprocess.run(
        [*ROLEBOT, "ask", "-", "--db", str(db_path)],
        input=b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00" * 100,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode() == "error: line 1 of stdin is not UTF-8 text: give questions as text\n"


def test_an_overlong_line_is_skipped_quickly_and_in_little_memory() -> None:
    huge = b"x" * 10_000_000 + b"\n" + "营销是什么".encode() + b"\n" + "运".encode() * (MAX_LINE + 1)
    tracemalloc.start()
    started = time.perf_counter()
    questions = list(stdin_questions(io.BytesIO(huge)))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert questions == ["营销是什么"]
    assert elapsed < 0.5, elapsed
    assert peak < 1_000_000, peak


def test_overlong_lines_are_warned_and_the_rest_answered(cli, db_path: Path) -> None:
    res = cli(
        "ask", "-", "--json", "--db", str(db_path), input="营" * (MAX_LINE + 1) + "\n营销是什么\n" + "销" * MAX_LINE
    )
    assert res.exit_code == 0, res.output
    assert len(res.stdout.splitlines()) == 2
    assert res.stderr == "warning: line 1: 2,001 characters, over the 2,000 limit; skipped\n"
