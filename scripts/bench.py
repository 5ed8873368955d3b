"""Benchmark the engine on a large FAQ: our knowledge plus N unrelated synthetic entries.

Steps (one run):
 1. generate N synthetic FAQ entries (fixed seed) that reuse our question templates
    (…和…有什么区别, …有什么不同, …是什么, …怎么选, 如何挑选…, …的优缺点) over made-up terms:
    random 2–4 character combinations from a pool of characters that occur in none of our role
    words, aliases, jieba words, intent cues, stop words, templates or shipped questions (no two
    entries' own terms use the same set of characters);
 2. create a temp DB with the shipped knowledge, then time `rolebot import` of the JSONL (subprocess);
 3. cold start: `rolebot ask "营销和销售有什么区别" --json` on that DB, median of 3 subprocess runs;
 4. batch: `rolebot ask - --json` with --sample synthetic questions (each entry's own question) plus
    the dev questions piped in, timed as one subprocess (nothing subtracted: its cold start is in it);
    peak RSS of that subprocess from os.wait4 (its own ru_maxrss, not the import's);
    "found" = share of sampled synthetic entries answered with their own topic;
 5. in process, eval.py's metric on the dev file for the small (shipped-only) DB and the noisy DB,
    for ours and the baselines (brute-force rapidfuzz WRatio, bm25s over jieba tokens), and the
    baselines' speed and found share on the first --baseline-sample synthetic questions;
 6. --profile K: cProfile, in process, of what the batch does per line (Service.ask, which also
    renders the reply and records declined questions, + to_json) over K batch questions.

The last lines printed are the summary table with the targets. --json also writes the results as
JSON to stdout before the table (the table then goes to stderr).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

import eval as evalmod  # noqa: E402  (scripts/eval.py)
from rolebot.kb.knowledge import open_store, shipped_paths  # noqa: E402
from rolebot.kb.records import load_records  # noqa: E402
from rolebot.language.vocabulary import vocabulary  # noqa: E402

SEED = 20240611
COLD_QUESTION = "营销和销售有什么区别"
# Candidate characters (plants, animals, minerals, objects); the ones our domain uses are removed below.
RAW_POOL = (
    "桦楠檀榉柏松杉柳桐枫梅桃李杏梨橙柚橘枣栗苔蕨藻菌莲荷菊兰竹芦苇蒲鹭鹤鹰雁鸥燕雀鸽鹊鸦"
    "鲤鲫鳗鲸鲨虾蟹蚌螺琥珀翡翠玛瑙珊瑚琉璃铜铁锡铅锌镍钨钛岩礁峰岭溪涧泉潭湖泊霜雪霞雾虹雷"
    "砂砾瓦砖陶瓷丝绸缎棉麻茶酒醋酱盐糖灯烛炉鼎壶杯碗盘钟鼓琴瑟笛箫弓箭矛盾剑戟舟船帆桨轮轴辕"
    "羊牛马鹿兔狐狼熊虎豹龟蛇蛙蝶蜂蚁蝉舵锚缆旗鞍镫笠蓑斧凿锤钳锯刨砚墨笺卷琵琶箜篌"
)
ROLE_CHARS = "营销售市场运用户内容活动产品经理推广分渠道策划总监部门"
TEMPLATE_CHARS = "和跟与同或比及有什么区别是怎么选如何挑选的优缺点不同意思介绍一下应该注意要好"

# (question template, alternate templates); {a} is the entry's own term, {b} another entry's term.
TEMPLATES: list[tuple[str, list[str]]] = [
    ("{a}和{b}有什么区别", ["{a}和{b}有什么不同", "{b}和{a}有什么区别", "{a}跟{b}的区别"]),
    ("{a}和{b}有什么不同", ["{a}和{b}有什么区别", "{b}跟{a}有什么不同", "{a}与{b}的不同"]),
    ("{a}是什么", ["什么是{a}", "{a}是什么意思", "介绍一下{a}"]),
    ("{a}怎么选", ["如何挑选{a}", "{a}应该怎么挑"]),
    ("如何挑选{a}", ["{a}怎么选", "挑选{a}要注意什么"]),
    ("{a}的优缺点", ["{a}有什么优缺点", "{a}好不好"]),
]
ANSWERS = [
    "常见于{a}相关的场景，本条为合成测试数据。",
    "{a}有多种规格，按用途挑选即可（合成数据）。",
    "一句话：{a}各有长短，看需求取舍（合成数据）。",
]


def char_pool() -> str:
    """Return the characters synthetic terms are made of: RAW_POOL minus every character our domain uses."""
    v = vocabulary()
    excl = set(ROLE_CHARS) | set(TEMPLATE_CHARS)
    for words in (v.roles, v.aliases, v.aliases.values(), v.words, v.cue_words, v.stopwords, v.role_verbs):
        excl |= set("".join(words))
    for rec in load_records(shipped_paths()):
        if rec.kind == "faq":
            excl |= set("".join([rec.data["question"], *rec.data["alternates"]]))
    return "".join(dict.fromkeys(c for c in RAW_POOL if c not in excl))


def generate(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """Return n synthetic FAQ records; each has a unique term, so its own question identifies it."""
    rng = random.Random(seed)
    pool = char_pool()
    # jieba cuts these made-up terms into single characters, so terms with the same characters in
    # another order or repeated (竹翡 / 翡竹 / 竹竹翡) would be one bag of words to any word-based
    # index: keep one term per set of characters.
    terms: dict[str, str] = {}
    while len(terms) < n:
        term = "".join(rng.choice(pool) for _ in range(rng.randint(2, 4)))
        terms.setdefault("".join(sorted(set(term))), term)
    own = list(terms.values())
    rows = []
    for i, a in enumerate(own):
        b = own[rng.randrange(n)] if n > 1 else a
        while b == a and n > 1:
            b = own[rng.randrange(n)]
        q_tpl, alt_tpls = TEMPLATES[rng.randrange(len(TEMPLATES))]
        alts = rng.sample(alt_tpls, rng.randint(1, 2))
        rows.append(
            {
                "id": f"syn-{i:06d}",
                "topic": f"syn-{i:06d}",
                "question": q_tpl.format(a=a, b=b),
                "alternates": [t.format(a=a, b=b) for t in alts],
                "answer": rng.choice(ANSWERS).format(a=a),
                "sources": [{"title": f"合成基准数据 第{i // 1000 + 1}卷", "site": "rolebot bench"}],
                "tags": ["合成"],
            }
        )
    return rows


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    """Write records one JSON object per line."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def rolebot_cmd() -> list[str]:
    """Return the command that runs `rolebot` from this venv."""
    exe = Path(sys.executable).parent / "rolebot"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("rolebot")
    if not found:
        raise SystemExit("rolebot command not found: install the package (pip install -e .)")
    return [found]


def run_timed(cmd: list[str], stdin: bytes | None = None) -> dict[str, Any]:
    """Run a subprocess; return wall seconds, its own peak RSS (os.wait4), stdout, stderr, exit code."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out: dict[str, bytes] = {}

    def pump(name: str, stream: Any) -> None:
        out[name] = stream.read()

    threads = [threading.Thread(target=pump, args=(k, s)) for k, s in (("out", proc.stdout), ("err", proc.stderr))]
    if stdin is not None:

        def feed() -> None:
            try:
                proc.stdin.write(stdin)  # type: ignore[union-attr]
            finally:
                proc.stdin.close()  # type: ignore[union-attr]

        threads.append(threading.Thread(target=feed))
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join()
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stdout": out.get("out", b""),
        "stderr": out.get("err", b""),
        "rc": proc.returncode,
    }


def check(res: dict[str, Any], what: str) -> None:
    """Stop with the subprocess's stderr when it failed."""
    if res["rc"] != 0:
        sys.stderr.write(res["stderr"].decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"{what} failed with exit code {res['rc']}")


def timed_import(jsonl: Path, db: Path) -> dict[str, Any]:
    """Time `rolebot import FILE --db DB` as a subprocess."""
    res = run_timed([*rolebot_cmd(), "import", str(jsonl), "--db", str(db)])
    check(res, "rolebot import")
    res["summary"] = res["stdout"].decode("utf-8", "replace").strip().splitlines()[-1:]
    return res


def cold_start(db: Path, runs: int = 3) -> list[float]:
    """Return the wall seconds of `rolebot ask "营销和销售有什么区别" --json` runs."""
    times = []
    for _ in range(runs):
        res = run_timed([*rolebot_cmd(), "ask", COLD_QUESTION, "--json", "--db", str(db)])
        check(res, "rolebot ask")
        times.append(res["seconds"])
    return times


def batch(db: Path, questions: list[str]) -> dict[str, Any]:
    """Pipe the questions to `rolebot ask - --json`; return timing, peak RSS and the parsed answers."""
    data = "".join(q.replace("\n", " ") + "\n" for q in questions).encode("utf-8")
    res = run_timed([*rolebot_cmd(), "ask", "-", "--json", "--db", str(db)], stdin=data)
    check(res, "rolebot ask -")
    answers = [json.loads(line) for line in res["stdout"].decode("utf-8").splitlines() if line.strip()]
    if len(answers) != len(questions):
        raise SystemExit(f"batch returned {len(answers)} answers for {len(questions)} questions")
    res["answers"] = answers
    return res


def profile(store: Any, questions: list[str], top: int = 25) -> str:
    """Return cProfile's hot spots of what `rolebot ask - --json` does per line: Service.ask + JSON."""
    from rolebot.conversation.service import Service

    service = Service(store)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for q in questions:
        json.dumps(service.ask(q, chat_type="cli").result.to_json(), ensure_ascii=False)
    prof.disable()
    wall = time.perf_counter() - t0
    buf = io.StringIO()
    buf.write(
        f"profile: Service.ask + to_json (the `rolebot ask -` loop) over {len(questions)} questions, "
        f"{1000 * wall / len(questions):.2f} ms/q under cProfile\n"
    )
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="synthetic entries (default %(default)s)")
    ap.add_argument("--sample", type=int, default=2000, help="synthetic questions in the batch (default %(default)s)")
    ap.add_argument(
        "--baseline-sample",
        type=int,
        default=100,
        help="synthetic questions the baselines are timed and scored on (default %(default)s)",
    )
    ap.add_argument("--file", type=Path, default=evalmod.DEFAULT_FILE, help="dev JSONL (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--no-baselines", action="store_true", help="skip bm25s and rapidfuzz")
    ap.add_argument("--profile", type=int, default=0, metavar="K", help="cProfile the ask loop on K batch questions")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the JSONL and DBs here (default: temp, removed)")
    ap.add_argument("--json", action="store_true", help="print JSON results on stdout (table to stderr)")
    args = ap.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rolebot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    def log(msg: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    t_all = time.perf_counter()
    load0 = list(os.getloadavg())
    dev = evalmod.read_questions(args.file)

    log(f"generating {args.n} synthetic entries")
    rows = generate(args.n, args.seed)
    jsonl = work / f"synthetic-{args.n}.jsonl"
    write_jsonl(rows, jsonl)

    small_db, noisy_db = work / "small.db", work / "noisy.db"
    for path in (small_db, noisy_db):
        if path.exists():
            path.unlink()
    open_store(noisy_db).close()  # the shipped knowledge, before the timed import
    log(f"importing {jsonl.name} (timed subprocess)")
    imp = timed_import(jsonl, noisy_db)
    log(f"import: {imp['seconds']:.1f} s, {imp['summary']}")

    log("cold start x3")
    colds = cold_start(noisy_db)
    cold = statistics.median(colds)

    rng = random.Random(args.seed + 1)
    sample = rng.sample(rows, min(args.sample, len(rows)))
    questions = [r["question"] for r in sample] + [r["q"] for r in dev]
    log(f"batch of {len(questions)} questions (timed subprocess)")
    bat = batch(noisy_db, questions)
    ms_batch = 1000 * bat["seconds"] / len(questions)
    syn_answers = bat["answers"][: len(sample)]
    found = sum(a["answered"] and a["topic"] == r["topic"] for a, r in zip(syn_answers, sample, strict=False)) / max(
        len(sample), 1
    )
    found_top3 = sum(
        r["topic"] in [a["topic"], *(c["topic"] for c in a["candidates"][:3])]
        for a, r in zip(syn_answers, sample, strict=False)
    ) / max(len(sample), 1)
    log(f"batch: {bat['seconds']:.1f} s, {ms_batch:.2f} ms/q, peak {bat['peak_rss_mb']:.0f} MB, found {found:.3f}")

    names = evalmod.SYSTEMS if not args.no_baselines else ("ours",)
    log("dev eval on the small DB")
    small_store = open_store(small_db)
    small = evalmod.evaluate(small_store, dev, names)
    small_store.close()

    log("dev eval on the noisy DB (building baselines over every phrasing)")
    store = open_store(noisy_db)
    t0 = time.perf_counter()
    systems = evalmod.build_systems(store, names)
    build_s = time.perf_counter() - t0
    noisy = evalmod.evaluate(store, dev, systems=systems)
    syn_rows = [{"q": r["question"], "topic": r["topic"]} for r in sample[: args.baseline_sample]]
    log(f"scoring all systems on {len(syn_rows)} synthetic questions in process")
    syn = [evalmod.score_system(s, syn_rows) for s in systems] if syn_rows else []

    prof_text = ""
    if args.profile:
        k = min(args.profile, len(questions))
        log(f"profiling the ask loop on {k} batch questions (the dev ones first)")
        prof_text = profile(store, questions[len(sample) :] + questions[: max(0, k - len(dev))])
    store.close()

    def per_q(results: list[Any], name: str) -> float | None:
        """In-process ms per question of one system in one set of results."""
        r = next((r for r in results if r.system == name), None)
        return 1000 * r.seconds / r.n if r and r.n else None

    ms_dev = {name: per_q(noisy, name) for name in names}
    ms_syn = {name: per_q(syn, name) for name in names}
    n_syn_b, n_dev_b = len(sample), len(dev)

    def mix(name: str) -> float:
        """In-process ms/q weighted to the batch's mix of synthetic and dev questions."""
        d, y = ms_dev[name], ms_syn[name]
        if y is None:
            return d  # type: ignore[return-value]
        return (d * n_dev_b + y * n_syn_b) / (n_dev_b + n_syn_b)  # type: ignore[operator]

    ms = {name: mix(name) for name in names}
    dev_small = {r.system: r.as_dict() for r in small}
    dev_noisy = {r.system: r.as_dict() for r in noisy}
    syn_found = {r.system: r.as_dict()["top1"] for r in syn}
    drop = 100 * (dev_small["ours"]["top1"] - dev_noisy["ours"]["top1"])

    targets: list[tuple[str, str, str, bool | None]] = []

    def add(metric: str, value: str, target: str = "", ok: bool | None = None) -> None:
        targets.append((metric, value, target, ok))

    add("import: seconds (subprocess)", f"{imp['seconds']:.1f}", "")
    add("import: rows/s", f"{args.n / imp['seconds']:.0f}", "")
    add("import: peak RSS MB", f"{imp['peak_rss_mb']:.0f}", "")
    add(f"ours ms/q, batch of {len(questions)} (subprocess)", f"{ms_batch:.2f}", "<= 2", ms_batch <= 2)

    def split(name: str) -> str:
        return f"{_fmt(ms_dev[name], '.2f')} | {_fmt(ms_syn[name], '.2f')} | {ms[name]:.2f}"

    add("in process ms/q: dev | synthetic | batch mix", "", "")
    add("  ours", split("ours"), "")
    if not args.no_baselines:
        add("  rapidfuzz WRatio (brute force)", split("fuzz"), "")
        add("  bm25s", split("bm25"), "")
        add(
            "speed-up vs rapidfuzz (its mix ms/q / our batch ms/q)",
            f"{ms['fuzz'] / ms_batch:.1f}x",
            ">= 10x",
            ms["fuzz"] / ms_batch >= 10,
        )
        add(
            "speed-up vs bm25s (its mix ms/q / our batch ms/q)",
            f"{ms['bm25'] / ms_batch:.2f}x",
            "> 1x",
            ms["bm25"] / ms_batch > 1,
        )
        add(
            "  same, both in process: vs rapidfuzz | vs bm25s",
            f"{ms['fuzz'] / ms['ours']:.1f}x | {ms['bm25'] / ms['ours']:.2f}x",
            "",
        )
    add("cold start s (median of 3)", f"{cold:.2f}  [{', '.join(f'{c:.2f}' for c in colds)}]", "<= 2", cold <= 2)
    add("peak RSS MB (batch subprocess)", f"{bat['peak_rss_mb']:.0f}", "<= 400", bat["peak_rss_mb"] <= 400)
    add(
        "dev top1 % small DB -> noisy DB",
        f"{100 * dev_small['ours']['top1']:.1f} -> {100 * dev_noisy['ours']['top1']:.1f}",
        "drop <= 1 pt",
        drop <= 1.0,
    )
    add("dev conf_wrong % noisy DB", f"{100 * dev_noisy['ours']['confidently_wrong']:.1f}", "")
    add(
        f"found by own question ({len(sample)} sampled)",
        f"{100 * found:.1f} % (top-3 {100 * found_top3:.1f} %)",
        ">= 99 %",
        found >= 0.99,
    )
    for name in ("bm25", "fuzz"):
        if name in syn_found:
            add(f"{name} found ({len(syn_rows)} sampled)", f"{100 * syn_found[name]:.1f} %", "")

    result = {
        "n": args.n,
        "sample": len(sample),
        "batch_questions": len(questions),
        "load_avg_start_end": [load0, list(os.getloadavg())],
        "import": {
            "seconds": round(imp["seconds"], 2),
            "rows_per_s": round(args.n / imp["seconds"], 1),
            "peak_rss_mb": round(imp["peak_rss_mb"], 1),
        },
        "cold_start_s": [round(c, 3) for c in colds],
        "cold_start_median_s": round(cold, 3),
        "batch": {
            "seconds": round(bat["seconds"], 2),
            "ms_per_question": round(ms_batch, 3),
            "peak_rss_mb": round(bat["peak_rss_mb"], 1),
        },
        "ms_per_question_in_process": {
            name: {"dev": ms_dev[name], "synthetic": ms_syn[name], "batch_mix": ms[name]} for name in names
        },
        "found": round(found, 4),
        "found_top3": round(found_top3, 4),
        "baseline_found": syn_found,
        "dev_small": dev_small,
        "dev_noisy": dev_noisy,
        "baseline_build_s": round(build_s, 1),
        "targets": [{"metric": m, "value": v, "target": t, "ok": ok} for m, v, t, ok in targets],
        "total_s": round(time.perf_counter() - t_all, 1),
    }
    for d in (dev_small, dev_noisy):
        for v in d.values():
            v.pop("misses", None)

    out = sys.stdout
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2), flush=True)
        out = sys.stderr
    if prof_text:
        print(prof_text, file=out)
    print(evalmod.format_table(small, "dev on the small DB (shipped knowledge only)"), file=out)
    print(file=out)
    print(
        evalmod.format_table(
            noisy, f"dev on the noisy DB (+{args.n} synthetic entries); baselines built in {build_s:.1f} s"
        ),
        file=out,
    )
    print(file=out)
    width = max(len(m) for m, *_ in targets)
    load1 = os.getloadavg()
    print(
        f"bench: {args.n} synthetic entries + shipped knowledge, total {result['total_s']:.0f} s; "
        f"load avg {load0[0]:.1f} at start, {load1[0]:.1f} at end on {os.cpu_count()} CPUs",
        file=out,
    )
    print(f"{'metric':<{width}}  {'value':<26} {'target':<14} ok", file=out)
    for metric, value, target, ok in targets:
        mark = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{metric:<{width}}  {value:<26} {target:<14} {mark}".rstrip(), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
