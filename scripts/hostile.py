"""Read hostile knowledge files (alias bomb, deep nesting, lone surrogates) and print what each costs.

Each file is read by load_records in a child process of its own, so that its peak RSS is its own:
prints the seconds taken, the peak RSS growth over the child's start (MB), the tracemalloc peak (MB)
and the one line the file is refused with.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, time, tracemalloc
from pathlib import Path
from rolebot.errors import ImportFormatError
from rolebot.kb.records import load_records
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
began = time.perf_counter()
try:
    load_records([Path(sys.argv[1])])
    said = "accepted"
except ImportFormatError as exc:
    said = " | ".join(str(p) for p in exc.problems)
took = time.perf_counter() - began
peak = tracemalloc.get_traced_memory()[1]
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start
print(f"{took:.3f} s  rss +{grew / 1024:.1f} MB  traced {peak / 2**20:.1f} MB  {said}")
"""

ANSWER = "这是一个足够长的回答句子。".encode()


def alias_bomb() -> bytes:
    """Return a ~430-byte YAML record whose aliases expand to 9**9 strings."""
    lines = ["- topic: x", "  question: 炸弹", "  answer: 这是一个回答句子。", '  tags: &a ["lol"' + ',"lol"' * 8 + "]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("  kind: [" + ",".join(["*h"] * 9) + "]")  # the refusal would print it: 9**9 reprs
    return ("\n".join(lines) + "\n").encode()


FILES = {
    "bomb.yaml": alias_bomb(),
    "deep.jsonl": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "deep.yaml": b"- " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "lone.jsonl": b'{"topic": "x", "question": "\\ud800", "answer": "' + ANSWER + b'"}\n',
    "lone.yaml": b'- topic: x\n  question: "\\ud800"\n  answer: ' + ANSWER + b"\n",
    "big-int.jsonl": b'{"topic": ' + b"9" * 5000 + b"}\n",
}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in FILES.items():
            path = Path(tmp) / name
            path.write_bytes(body)
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=False)
            shown = (out.stdout or out.stderr).strip().replace(tmp + "/", "")
            print(f"{name:14} {len(body):7} bytes  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
