"""Load test: the real bot (`rolebot run`) against the stand-in Bot API on loopback, with optional faults.

Prints answered / lost / doubled / out of order, throughput, reply latency p50/p99, the bot's memory, and
where the CPU went during the burst (the bot's event loop and its other threads, the stand-in, the rest of
the machine), which says what bounds the number.
Example: python scripts/loadtest.py --chats 300 --messages 10 --faults --restart
"""

from __future__ import annotations

import argparse
import collections
import html
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rolebot.kb.knowledge import open_store  # noqa: E402
from tests.helpers.fakeapi import FakeBotAPI  # noqa: E402

BOLD = re.compile(r"^<b>(.*?)</b>")


def start_bot(api: FakeBotAPI, db: Path, log: Path, profile: str | None = None) -> subprocess.Popen[bytes]:
    """Start `rolebot run` pointed at the stand-in (under cProfile when asked)."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_BASE_URL": api.base_url,
        "TELEGRAM_BASE_FILE_URL": api.base_file_url,
        "ROLEBOT_SEND_RATE": "0",
    }
    cmd = [str(Path(sys.executable).parent / "rolebot"), "run", "--db", str(db)]
    if profile:
        cmd = [sys.executable, "-m", "cProfile", "-o", profile, *cmd]
    return subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


@dataclass
class CpuMark:
    """CPU seconds used so far: by the bot's event loop and its other threads, by this process (the stand-in), by all."""

    wall: float
    bot_loop: float
    bot_threads: float
    standin: float
    machine: float

    @classmethod
    def take(cls, bot_pid: int) -> CpuMark:
        """Read the counters now (the bot's main thread, whose id is its pid, runs the event loop)."""
        loop = other = 0.0
        try:
            for t in psutil.Process(bot_pid).threads():
                if t.id == bot_pid:
                    loop += t.user_time + t.system_time
                else:
                    other += t.user_time + t.system_time
        except psutil.Error:
            pass
        own = psutil.Process().cpu_times()
        machine = psutil.cpu_times()
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        return cls(time.monotonic(), loop, other, own.user + own.system, busy)


def cpu_report(start: CpuMark, end: CpuMark, answers: int) -> str:
    """Say where the CPU went between two marks, and so what bounds the throughput."""
    wall = max(end.wall - start.wall, 1e-9)
    loop, threads = end.bot_loop - start.bot_loop, end.bot_threads - start.bot_threads
    standin, machine = end.standin - start.standin, end.machine - start.machine
    others = max(machine - loop - threads - standin, 0.0)
    cores = psutil.cpu_count() or 1

    def share(x: float) -> str:
        return f"{x:.1f} s ({x / wall:.0%} of a core)"

    bot = loop + threads
    if machine / wall > 0.9 * cores and others / wall > 0.25:
        bound = f"the machine's {cores} cores: other work used {others / wall:.1f} of them"
    elif bot / wall > 0.75:
        # one process runs Python on one core at a time: the event loop and the engine's threads share it
        bound = f"the bot's one core of Python (GIL): event loop {loop / wall:.0%}, threads {threads / wall:.0%}"
    elif standin / wall > 0.75:
        bound = "the stand-in Bot API (one core of Python in this process)"
    else:
        bound = "waiting (no process was CPU-bound: latency of the round trips)"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"cpu over the {wall:.1f} s burst: bot event loop {share(loop)}, bot other threads {share(threads)}, "
        f"stand-in + driver {share(standin)}, rest of the machine {others:.1f} s of {cores} cores; "
        f"load average {load}\nper answer: bot {(loop + threads) / max(answers, 1) * 1000:.2f} ms cpu "
        f"({loop / max(answers, 1) * 1000:.2f} on the event loop), stand-in {standin / max(answers, 1) * 1000:.2f} ms"
        f"\nbound by: {bound}"
    )


def restart(
    proc: subprocess.Popen[bytes], api: FakeBotAPI, db: Path, log: Path, how: str, total: int
) -> subprocess.Popen[bytes]:
    """Stop the bot the way asked (SIGTERM, SIGKILL, or SIGTERM then SIGKILL after 10 s) and start it again."""
    stopped_at = time.monotonic()
    before = len(api.calls_to("sendMessage"))
    proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGTERM)
    try:
        code = proc.wait(timeout=10 if how == "term-kill" else 60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        code = proc.wait()
    print(
        f"restart: bot exited {code} {time.monotonic() - stopped_at:.1f} s after {how}; "
        f"{before} of {total} answered before, {len(api.calls_to('sendMessage')) - before} while stopping"
    )
    return start_bot(api, db, log)


def pace_groups(api: FakeBotAPI, per_minute: int = 20) -> list[float]:
    """Answer 429 (as Telegram does) to a group's sendMessage beyond `per_minute` a minute; return the 429 times."""
    sent: dict[str, collections.deque[float]] = {}
    refused: list[float] = []
    lock = threading.Lock()

    def over(params: dict[str, object]) -> bool:
        chat = str(params.get("chat_id", ""))
        if not chat.startswith("-"):
            return False
        now = time.monotonic()
        with lock:
            window = sent.setdefault(chat, collections.deque())
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= per_minute:
                refused.append(now)
                return True
            window.append(now)
            return False

    api.fail("sendMessage", 429, retry_after=3, times=None, when=over)
    return refused


def _to_chat(chat: int, params: dict[str, object]) -> bool:
    """Say whether a Bot API call was sent to this chat."""
    return str(params.get("chat_id")) == str(chat)


def private_latencies(api: FakeBotAPI, questions: list[str], users: range, gap: float) -> list[float]:
    """Ask one question per user, `gap` seconds apart; return each answer's latency."""
    latencies: list[float] = []
    for n, user in enumerate(users):
        mark = api.mark()
        asked = time.monotonic()
        api.user_message(questions[n % len(questions)], user_id=user)
        try:
            api.wait_for_sync("sendMessage", predicate=partial(_to_chat, user), since=mark, timeout=30)
        except AssertionError:
            latencies.append(30.0)
            continue
        latencies.append(time.monotonic() - asked)
        time.sleep(gap)
    return latencies


def group_scenario(api: FakeBotAPI, db: Path, log: Path, questions: list[str], asks: int) -> int:
    """Private answers while one group sends `asks` /ask from as many members, paced by 429s over 20 a minute."""
    refused = pace_groups(api)
    proc = start_bot(api, db, log)
    api.wait_for_sync("getUpdates", timeout=30)
    private_latencies(api, questions, range(50_000, 50_005), 0.1)  # warm up
    calm = private_latencies(api, questions, range(50_100, 50_140), 0.2)
    group = -1_000_555
    for i in range(asks):
        q = questions[i % len(questions)]
        api.user_message(f"/ask {q}", user_id=60_000 + i, chat_id=group, chat_type="group", chat_title="Busy")
    time.sleep(0.5)
    busy = private_latencies(api, questions, range(50_200, 50_240), 0.2)
    group_sent = len(
        [
            r
            for r in api.log
            if r.method == "sendMessage" and r.error is None and str(r.params.get("chat_id")) == str(group)
        ]
    )
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    api.stop(check=False)
    p50 = statistics.median
    print(
        f"group: {asks} /ask from {asks} members in one group; {group_sent} group answers sent, {len(refused)} answered 429"
    )
    print(
        f"private latency calm p50={p50(calm) * 1000:.0f} ms max={max(calm) * 1000:.0f} ms; "
        f"with the busy group p50={p50(busy) * 1000:.0f} ms max={max(busy) * 1000:.0f} ms "
        f"(p50 ratio {p50(busy) / p50(calm):.2f}); exit code on SIGTERM={code}"
    )
    return 0 if p50(busy) <= 2 * p50(calm) else 1


def main() -> int:
    """Run one load test and print its numbers."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chats", type=int, default=300)
    ap.add_argument("--messages", type=int, default=10, help="per chat (≤ 20: the per-user flood limit)")
    ap.add_argument("--faults", action="store_true", help="inject 429, 5xx, slow answers and dropped connections")
    ap.add_argument("--restart", action="store_true", help="stop the bot half-way (see --stop) and start it again")
    ap.add_argument(
        "--stop",
        choices=["term", "kill", "term-kill"],
        default="term",
        help="how --restart stops the bot: SIGTERM, SIGKILL, or SIGTERM then SIGKILL after 10 s (docker stop)",
    )
    ap.add_argument(
        "--stop-after", type=int, default=0, help="restart once this many answers went out (after all are sent)"
    )
    ap.add_argument("--group-asks", type=int, default=0, help="instead: private latency while one group sends N /ask")
    ap.add_argument("--slow", type=float, default=0, help="the stand-in takes this long for every sendMessage")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--rate", type=float, default=0, help="inject at this many messages/s (0: all at once)")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the bot process here")
    args = ap.parse_args()

    db = Path(tempfile.mkdtemp()) / "load.db"
    from rolebot.conversation.service import Service

    service = Service(open_store(db))
    questions = [q for _, q, _ in service.store.topics()]
    # the reply's bold title is the matched entry's question, which may differ from the topic's first
    title = {q: service.ask(q, record=False).result.question or "?" for q in questions}
    service.store.close()
    rng = random.Random(7)
    api = FakeBotAPI(token="4242:LOADTEST")
    api.start()
    log = db.with_suffix(".log")
    if args.faults:
        api.fail("sendMessage", 429, retry_after=1, times=5)
        api.fail("sendMessage", 502, times=20)
        api.delay("sendMessage", 2.0, times=20)
        api.drop("sendMessage", times=10)
        api.fail("getUpdates", 502, times=3)
    if args.slow:
        api.delay("sendMessage", args.slow, times=None)
    if args.group_asks:
        return group_scenario(api, db, log, questions, args.group_asks)
    proc = start_bot(api, db, log, args.profile)
    api.wait_for_sync("getUpdates", timeout=30)
    expected: dict[int, list[str]] = {}
    sent_at: dict[tuple[int, str], list[float]] = {}  # per chat and question: when each was sent
    total = args.chats * args.messages
    t0 = time.monotonic()
    cpu_start = CpuMark.take(proc.pid)
    rss: list[int] = []
    restarted = False
    warm_rss = 0
    for i in range(args.messages):
        if i == max(1, args.messages // 4) and not warm_rss:
            try:
                warm_rss = psutil.Process(proc.pid).memory_info().rss
            except psutil.Error:
                pass
        for c in range(args.chats):
            if args.rate:
                time.sleep(1.0 / args.rate)
            chat = 10_000 + c
            q = rng.choice(questions)
            expected.setdefault(chat, []).append(title[q])
            sent_at.setdefault((chat, title[q]), []).append(time.monotonic())
            api.user_message(q, user_id=chat)
        if args.restart and not restarted and not args.stop_after and i >= args.messages // 2:
            time.sleep(0.5)
            proc = restart(proc, api, db, log, args.stop, total)
            restarted = True
        try:
            rss.append(psutil.Process(proc.pid).memory_info().rss)
        except psutil.Error:
            pass
    if args.restart and args.stop_after:  # in the middle of the backlog: some answered, most waiting
        while len(api.calls_to("sendMessage")) < args.stop_after and time.monotonic() - t0 < args.timeout:
            time.sleep(0.05)
        proc = restart(proc, api, db, log, args.stop, total)
    deadline = time.monotonic() + args.timeout
    by_progress: dict[int, int] = {}  # RSS when 10 %, 20 % … of the answers had gone out
    while time.monotonic() < deadline:
        done = len(api.calls_to("sendMessage"))
        if done >= total:
            break
        try:
            rss.append(psutil.Process(proc.pid).memory_info().rss)
            by_progress.setdefault(done * 10 // total * 10, rss[-1])
        except psutil.Error:
            pass
        time.sleep(0.2)
    cpu_end = CpuMark.take(proc.pid)
    time.sleep(1.0)  # let stragglers (doubles) arrive
    got: dict[int, list[str]] = {}
    latencies: list[float] = []
    for rec in api.log:
        if rec.method != "sendMessage" or rec.error is not None:
            continue
        chat = int(rec.params["chat_id"])
        m = BOLD.match(rec.params.get("text", ""))
        shown = html.unescape(m.group(1)) if m else "?"
        got.setdefault(chat, []).append(shown)
        if sent_at.get((chat, shown)):
            latencies.append(rec.at - sent_at[(chat, shown)].pop(0))
    # from the first question put to the stand-in to the last answer it received
    last = max((r.at for r in api.log if r.method == "sendMessage" and r.error is None), default=time.monotonic())
    elapsed = max(last - t0, 1e-9)
    lost = doubled = disorder = 0
    for chat, want in expected.items():
        have = got.get(chat, [])
        for q in set(want) | set(have):
            diff = want.count(q) - have.count(q)
            lost += max(diff, 0)
            doubled += max(-diff, 0)
        disorder += have != want and sorted(have) == sorted(want)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    api.stop(check=False)
    answered = sum(len(v) for v in got.values())
    lat = sorted(latencies) or [0.0]
    print(f"messages={total} answered={answered} lost={lost} doubled={doubled} chats_out_of_order={disorder}")
    print(
        f"throughput={answered / elapsed:.0f} answers/s over {elapsed:.1f}s  "
        f"latency p50={statistics.median(lat) * 1000:.0f} ms p99={lat[int(len(lat) * 0.99) - 1] * 1000:.0f} ms"
    )
    if rss:
        drift = f" drift after warm-up={(rss[-1] - warm_rss) / warm_rss:+.0%}" if warm_rss else ""
        print(
            f"bot rss: first={rss[0] / 2**20:.0f} MB at 25%={warm_rss / 2**20:.0f} MB "
            f"max={max(rss) / 2**20:.0f} MB last={rss[-1] / 2**20:.0f} MB{drift}"
        )
    if by_progress:
        steps = " ".join(f"{pct}%:{v / 2**20:.0f}" for pct, v in sorted(by_progress.items()))
        settled = by_progress.get(20) or by_progress[min(by_progress)]
        tail = [v for pct, v in by_progress.items() if pct >= 20] or [settled]
        print(
            f"bot rss (MB) by answers sent: {steps}; from 20% on: "
            f"{(min(tail) - settled) / settled:+.1%} .. {(max(tail) - settled) / settled:+.1%}"
        )
    if not args.restart:
        print(cpu_report(cpu_start, cpu_end, answered))
    print(f"faults injected={len(api.faulted)} exit code on SIGTERM={code} log={log}")
    return 0 if lost == 0 and doubled == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
