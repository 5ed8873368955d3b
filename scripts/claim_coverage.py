"""Report how far the engine answers the seeds' claims: the claim inventory, the depth set and the near set.

    python scripts/claim_coverage.py                 # summary, depth and near tables
    python scripts/claim_coverage.py --claims        # also one line per claim: where it lives, what its asks get
    python scripts/claim_coverage.py --via cli       # ask through `rolebot ask - --json` instead of in-process
    python scripts/claim_coverage.py --json out.json # every row, for comparing two runs

Claims: knowledge/claims.yaml (issue 27, point 1). A claim is *held* when an FAQ entry's answer states it
(`entry`); else only its passage digests it. With --claims each claim's `asks` are put to the engine and the
entry (or outcome) they get is shown beside the entry that holds the claim.

Depth set (tests/data/depth.jsonl, kept out of training): a question is *answered with its claim* when the
outcome is `answer` and the reply holds every keyword (compared in Simplified). Also shown: answered at all,
the expected topic, and the ceiling the current entries allow (all keywords in the holding entry's answer).

Near set (tests/data/near.jsonl): the outcome must be `related`, and the reply should name what is missing
(any of `missing`); the second needs the reply text, which only --via service reads.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DATA = ROOT / "tests" / "data"
ENTRY_FILES = ("definitions", "comparisons", "operations", "theory", "careers")


@dataclass
class Reply:
    """What the engine gave one question: the `--json` fields we read, and the rendered text if known."""

    kind: str
    topic: str | None
    entry_id: str | None
    answer: str
    text: str | None  # the whole rendered reply (None through the CLI, whose --json carries no reply text)


def _simplified() -> Any:
    """Return a function that turns a reply into Simplified, Taiwan words (行銷, 業務, 營運) included."""
    try:
        import opencc
    except ImportError:  # the project's dependency; without it compare as is
        return lambda s: s
    t2s = opencc.OpenCC("t2s")
    words = yaml.safe_load((KNOWLEDGE / "glossary.yaml").read_text(encoding="utf-8"))["words"]
    # a Taiwan or Hong Kong word converted to Simplified characters, and the mainland word it stands for
    local = [(t2s.convert(w[region]), w["mainland"]) for w in words for region in ("tw", "hk") if w.get(region)]

    def convert(text: str) -> str:
        out = str(t2s.convert(text))
        for seen, ours in local:
            out = out.replace(seen, ours)
        return out

    return convert


def ask_service(questions: list[str]) -> list[Reply]:
    """Ask in-process through the conversation service (the reply text is read too)."""
    from rolebot.config import resolve_db_path
    from rolebot.conversation.service import Service
    from rolebot.kb.knowledge import open_store
    from rolebot.store.db import cannot_write

    path = resolve_db_path(None)
    service = Service(open_store(path, read_only=cannot_write(path)), lazy=True)
    out = []
    try:
        for q in questions:
            got = service.ask(q, chat_type="cli", record=False)
            data = got.result.to_json()
            out.append(Reply(data["kind"], data["topic"], data["entry_id"], data["answer"] or "", got.reply.plain))
    finally:
        service.close()
    return out


def ask_cli(questions: list[str]) -> list[Reply]:
    """Ask through `rolebot ask - --json`, one process for all questions."""
    exe = Path(sys.executable).with_name("rolebot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rolebot"]
    done = subprocess.run(
        [*cmd, "ask", "-", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(rows) != len(questions):
        raise SystemExit(f"rolebot ask gave {len(rows)} answers for {len(questions)} questions")
    return [Reply(d["kind"], d["topic"], d["entry_id"], d["answer"] or "", None) for d in rows]


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def entry_answers() -> dict[str, str]:
    """Return every FAQ entry's answer by id."""
    out: dict[str, str] = {}
    for name in ENTRY_FILES:
        for e in yaml.safe_load((KNOWLEDGE / f"{name}.yaml").read_text(encoding="utf-8"))["entries"]:
            out[e["id"]] = e["answer"]
    return out


def pct(n: int, d: int) -> str:
    """Format a share."""
    return f"{n}/{d} ({100 * n / d:.0f} %)" if d else "0/0"


def table(counter: Counter[str], held: Counter[str]) -> Iterable[str]:
    """Yield `name  total  held` lines, largest first."""
    for name, n in counter.most_common():
        yield f"  {name:<28} {n:>4}   held by an entry {held[name]:>3}"


def main() -> int:
    """Print the claim, depth and near reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", action="store_true", help="one line per claim, its asks put to the engine")
    parser.add_argument("--via", choices=("service", "cli"), default="service", help="how to ask the engine")
    parser.add_argument("--json", type=Path, help="write every row to this file")
    args = parser.parse_args()

    claims = yaml.safe_load((KNOWLEDGE / "claims.yaml").read_text(encoding="utf-8"))["claims"]
    by_id = {c["id"]: c for c in claims}
    depth = load_jsonl(DATA / "depth.jsonl")
    near = load_jsonl(DATA / "near.jsonl")
    answers = entry_answers()
    simp = _simplified()
    ask = ask_service if args.via == "service" else ask_cli

    asks = [(c["id"], a) for c in claims for a in c["asks"]] if args.claims else []
    replies = ask([q["q"] for q in depth] + [q["q"] for q in near] + [a for _, a in asks])
    got_depth, got_near, got_asks = (
        replies[: len(depth)],
        replies[len(depth) : len(depth) + len(near)],
        replies[len(depth) + len(near) :],
    )

    # -- the inventory ----------------------------------------------------------------------------------
    held = [c for c in claims if c["entry"] != "none"]
    print(
        f"claims: {len(claims)}, held by an FAQ entry's answer {pct(len(held), len(claims))}, "
        f"only in a passage {len(claims) - len(held)}"
    )
    for label, key in (("by aspect", "aspect"), ("by seed", "seed")):
        print(label)
        total = Counter(c[key] for c in claims)
        print("\n".join(table(total, Counter(c[key] for c in held))))
    rows: dict[str, Any] = {"claims": [], "depth": [], "near": []}
    if args.claims:
        print("\nper claim: id aspect roles | holding entry (else passage) | what its asks get")
        per_claim: dict[str, list[str]] = {}
        for (cid, _), r in zip(asks, got_asks, strict=True):
            per_claim.setdefault(cid, []).append(r.entry_id if r.kind == "answer" and r.entry_id else r.kind)
        for c in claims:
            where = c["entry"] if c["entry"] != "none" else f"({c['passage']})"
            gets = per_claim.get(c["id"], [])
            mark = "=" if c["entry"] != "none" and all(g == c["entry"] for g in gets) else " "
            print(f"  {c['id']} {c['aspect']:<10} {'/'.join(c['roles']):<16} | {where:<38} |{mark} {', '.join(gets)}")
            rows["claims"].append({"id": c["id"], "entry": c["entry"], "passage": c["passage"], "asks_get": gets})
        got = [(c, g) for c in claims for g in per_claim.get(c["id"], [])]
        to_holder = sum(1 for c, g in got if g == c["entry"])
        answered_asks = sum(1 for _, g in got if g not in ("related", "decline", "choice", "smalltalk"))
        held_asks = sum(1 for c, _ in got if c["entry"] != "none")
        print(
            f"asks answered at all: {pct(answered_asks, len(got))}; asks of held claims that get the holding entry: "
            f"{pct(to_holder, held_asks)}"
        )

    # -- the depth set ----------------------------------------------------------------------------------
    hit = answered = on_topic = ceiling = 0
    misses = []
    for q, r in zip(depth, got_depth, strict=True):
        claim = by_id[q["claim"]]
        reply = simp(r.answer)
        ok = r.kind == "answer" and all(k in reply for k in q["keywords"])
        holder = answers.get(claim["entry"], "")
        can = all(k in holder for k in q["keywords"])
        hit += ok
        answered += r.kind == "answer"
        on_topic += r.kind == "answer" and r.topic == q["topic"]
        ceiling += can
        if not ok:
            misses.append(f"  {q['claim']} {r.kind:<7} {str(r.entry_id or r.topic or ''):<36} {q['q']}")
        rows["depth"].append({**q, "kind": r.kind, "entry_id": r.entry_id, "hit": ok, "entry_holds": can})
    n = len(depth)
    print(f"\ndepth set ({DATA / 'depth.jsonl'}): {n} questions, {len({q['claim'] for q in depth})} claims")
    print(f"  answered with the specific claim (kind answer, every keyword): {pct(hit, n)}")
    print(f"  answered at all: {pct(answered, n)}; on the expected topic: {pct(on_topic, n)}")
    print(f"  ceiling of today's entries (every keyword in the holding entry's answer): {pct(ceiling, n)}")
    by_aspect = Counter(by_id[q["claim"]]["aspect"] for q in depth)
    hits_aspect = Counter(by_id[row["claim"]]["aspect"] for row in rows["depth"] if row["hit"])
    print("  by aspect: " + ", ".join(f"{a} {hits_aspect[a]}/{k}" for a, k in by_aspect.most_common()))
    if misses:
        print("  not answered with the claim (claim, outcome, entry or topic, question):")
        print("\n".join(misses))

    # -- the near set -----------------------------------------------------------------------------------
    related = named = 0
    for q, r in zip(near, got_near, strict=True):
        is_related = r.kind == "related"
        says = r.text is not None and any(m in simp(r.text) for m in q["missing"])
        related += is_related
        named += is_related and says
        rows["near"].append({**q, "kind": r.kind, "entry_id": r.entry_id, "names_missing": says})
    m = len(near)
    print(f"\nnear set ({DATA / 'near.jsonl'}): {m} questions on aspects the sources lack")
    print(f"  outcome related: {pct(related, m)}", end="")
    if args.via == "service":
        print(f"; related and the reply names what is missing: {pct(named, m)}")
    else:
        print("; (the CLI's --json has no reply text: use --via service to check what the reply names)")
    print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in Counter(r.kind for r in got_near).most_common()))
    wrong = Counter(f"{r.kind}:{r.entry_id}" for r in got_near if r.kind == "answer")
    if wrong:
        print("  answered anyway: " + ", ".join(f"{k} ×{v}" for k, v in wrong.most_common()))

    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
