"""Time `rolebot import` of N synthetic FAQ rows (bench.py's generator) into a fresh database.

The fresh database is created first with the shipped knowledge (as any database is on first open),
untimed; then `rolebot import FILE --db DB` runs as a timed subprocess (its start-up included).
Prints rows/s and seconds, and the peak RSS of the import process; the last lines are the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))
sys.path.insert(0, str(SCRIPTS))

from bench import SEED, generate, timed_import, write_jsonl  # noqa: E402
from rolebot.kb.knowledge import open_store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000, help="rows to import (default %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the JSONL and DB here (default: temp, removed)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rolebot-bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        rows = generate(args.n, args.seed)
        jsonl = work / f"synthetic-{args.n}.jsonl"
        write_jsonl(rows, jsonl)
        gen_s = time.perf_counter() - t0
        db = work / "import.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        open_store(db).close()  # fresh DB with the shipped knowledge, untimed
        res = timed_import(jsonl, db)
        store = open_store(db)
        counts = store.counts()
        store.close()
        size_mb = sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists()) / 2**20
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)

    out = {
        "rows": args.n,
        "seconds": round(res["seconds"], 2),
        "rows_per_s": round(args.n / res["seconds"], 1),
        "peak_rss_mb": round(res["peak_rss_mb"], 1),
        "largest_rss_mb": round(res["largest_rss_mb"], 1),  # the importer or its cutting worker
        "db_mb": round(size_mb, 1),
        "counts": counts,
        "generate_s": round(gen_s, 2),
        "summary": res["summary"],
        "load_avg": list(os.getloadavg()),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(
        f"bench_import: {args.n} synthetic rows (generated in {gen_s:.1f} s) -> {out['summary'][0] if out['summary'] else ''}"
    )
    print(
        f"db after import: {counts['entries']} entries, {counts['phrasings']} phrasings, {size_mb:.0f} MB; "
        f"load avg {out['load_avg'][0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'rows':>8} {'seconds':>8} {'rows/s':>8} {'peak RSS MB':>11} {'largest process MB':>18}")
    print(
        f"{args.n:>8} {res['seconds']:>8.1f} {out['rows_per_s']:>8.0f} {res['peak_rss_mb']:>11.0f} "
        f"{res['largest_rss_mb']:>18.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
