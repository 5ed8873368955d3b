"""Tune the engine's weights by leave-one-out over the knowledge's own phrasings, plus our own out-of-scope list."""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rolebot.engine.engine import Engine  # noqa: E402
from rolebot.kb.knowledge import open_store  # noqa: E402

# Our own out-of-scope questions (not the dev set's): other jobs, other subjects, chit-chat.
OUT_OF_SCOPE = [
    "厨师和服务员有什么区别",
    "程序员和测试哪个好",
    "产品经理和项目经理有什么区别",
    "运营商流量费怎么算",
    "老师和教授的区别",
    "会计师事务所是做什么的",
    "财务和审计有什么不同",
    "设计师和美工的区别",
    "今天股市怎么样",
    "明天会下雨吗",
    "怎么做蛋炒饭",
    "推荐几本小说",
    "你叫什么名字",
    "谢谢",
    "早上好",
    "HR和猎头的区别",
    "司机和快递员哪个赚钱",
    "外卖骑手累不累",
    "iPad和电脑哪个好",
    "怎么学英语",
    "考公务员还是进国企",
    "牙医和外科医生的区别",
    "保安是做什么的",
    "Java和Python哪个好",
    "研发和测试怎么配合",
    "采购是做什么的",
    "客服和售后的区别",
    "前台是干什么的",
    "游戏策划做什么",
    "建筑师和工程师有什么不同",
    "移动运营商有哪些",
    "行政助理的工作内容",
    "出纳需要什么能力",
    "物流和快递的区别",
    "经济学和金融学的区别",
    "翻译这句话",
]


def measure(engine: Engine, phrasings: list[tuple[str, str]]) -> tuple[float, float, float]:
    """Return (leave-one-out top-1, out-of-scope declined, confidently wrong) for the current weights."""
    right = wrong = 0
    for text, topic in phrasings:
        res = engine.ask(text, exclude=frozenset({text}))
        if res.answered and res.topic == topic:
            right += 1
        elif res.answered:
            wrong += 1
    declined = sum(not engine.ask(q).answered for q in OUT_OF_SCOPE)
    return right / len(phrasings), declined / len(OUT_OF_SCOPE), wrong / len(phrasings)


def main() -> int:
    """Print leave-one-out accuracy for the default weights, a small grid with --grid, or shortlist settings."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grid", action="store_true", help="try a small grid of weights")
    ap.add_argument("--shortlist", default="", help="shortlist sizes to try, e.g. 40,60,80 (default: the engine's)")
    ap.add_argument("--cue-weight", default="", help="intent cue words' BM25 weights to try, e.g. 0,0.5,1")
    ap.add_argument("--show", type=int, default=0, help="print this many leave-one-out misses")
    args = ap.parse_args()
    store = open_store(Path(tempfile.mkdtemp()) / "tune.db")
    phrasings = [
        (t, r["topic"]) for r in store.iter_records() if r["kind"] == "faq" for t in [r["question"], *r["alternates"]]
    ]
    engine = Engine(store)
    base = engine.weights
    configs = [base]
    if args.grid:
        configs += [
            replace(base, cover_p=cp, intent=i, cover_q=c, second=s2)
            for cp, i, c, s2 in itertools.product((0.15, 0.25), (0.15, 0.25), (0.2, 0.3), (0.1, 0.2))
        ]
    sizes = [int(v) for v in args.shortlist.split(",") if v] or [engine.shortlist_size]
    cues = [float(v) for v in args.cue_weight.split(",") if v] or [engine.cue_weight]
    for w in configs:
        engine.weights = w
        for size, cue in itertools.product(sizes, cues):
            engine.shortlist_size, engine.cue_weight = size, cue
            engine.refresh()  # the answer cache would hand back the previous setting's results
            loo, oos, wrong = measure(engine, phrasings)
            print(
                f"objective={loo - 2 * wrong:.3f} loo={loo:.3f} oos_declined={oos:.3f} wrong={wrong:.3f} "
                f"shortlist={size} cue_weight={cue} {w}",
                flush=True,
            )
    if args.show:
        engine.weights = base
        shown = 0
        for text, topic in phrasings:
            res = engine.ask(text, exclude=frozenset({text}))
            if not (res.answered and res.topic == topic):
                print(
                    f"  {text} [{topic}] -> {res.kind} {res.topic} {res.score} {[c['topic'] for c in res.candidates[:2]]}"
                )
                shown += 1
                if shown >= args.show:
                    break
        for q in OUT_OF_SCOPE:
            res = engine.ask(q)
            if res.answered:
                print(f"  OOS answered: {q} -> {res.topic} {res.score}")
    print(f"phrasings={len(phrasings)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
