"""Evaluate the engine on a JSONL file of {"q", "topic"} beside a BM25 and a brute-force rapidfuzz baseline.

All three systems answer from the same knowledge: the FAQ entries of one database (a temp one built
with rolebot.kb.knowledge.open_store unless --db is given). Every phrasing (question + alternates) is a document.

  ours   rolebot.engine.engine.Engine.ask: predicted = result.topic when result.answered, else None (declined).
         top-3 = the answered topic (if any) then result.candidates topics, distinct, first three.
  bm25   bm25s over jieba token lists, segment.words(normalize(text).text), of every phrasing;
         predicted = topic of the best phrasing. It declines below a FIXED threshold set by this rule
         (never tuned on the evaluated questions): the 10th percentile of the best score each shipped
         entry's canonical question gets against the same index (all entries' questions, at most 1000
         sampled with a fixed seed, when the database holds no shipped entries).
  fuzz   rapidfuzz process.extract(scorer=fuzz.WRatio, limit=30) over every phrasing's normalised text
         (its first hit is what process.extractOne returns; the extra 29 only feed top-3 and cost the
         same single pass); predicted = topic of the best phrasing, declined below a fixed 60.

Metrics per system:
  top1        share of all questions answered with the expected topic; a question whose topic is null
              counts as correct only when the system declines.
  top3        share of in-scope questions whose topic is among the system's first three topics.
  oos_decl    share of out-of-scope (null-topic) questions declined.
  conf_wrong  share of all questions answered with a wrong topic (including answering a null one).
  ms/q        mean wall time per question, in process (question normalising/tokenising included).

Output: --misses lists our misses first; the summary table is always the last lines. With --json the
results go to stdout as one JSON document and the table to stderr (so a terminal still ends on it).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rolebot.engine.engine import OUTCOMES, Engine  # noqa: E402
from rolebot.engine.pipeline import Pipeline  # noqa: E402
from rolebot.engine.ranker import load_model  # noqa: E402
from rolebot.kb.knowledge import open_store, shipped_points, shipped_records  # noqa: E402
from rolebot.language import segment  # noqa: E402
from rolebot.language.normalize import normalize  # noqa: E402
from rolebot.language.vocabulary import Vocabulary, vocabulary  # noqa: E402
from rolebot.store.store import Store  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "eval" / "dev.jsonl"
FUZZ_DECLINE_BELOW = 60
BM25_PERCENTILE = 10
SYSTEMS = ("ours", "bm25", "fuzz")
OUTCOME_NAMES = ("answer", "choice", "related", "decline")


@dataclass
class Prediction:
    """What one system said about one question."""

    topic: str | None  # None = declined
    top3: list[str]
    score: float
    kind: str = ""


@dataclass
class Knowledge:
    """Every FAQ phrasing of a store, with its topic, normalised text and jieba tokens."""

    texts: list[str]
    topics: list[str]
    norm: list[str]
    tokens: list[list[str]]
    threshold_questions: list[str]
    threshold_source: str


def read_questions(path: Path) -> list[dict[str, Any]]:
    """Return the {"q", "topic"} rows of a JSONL file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            topic = row.get("topic")
            # a question several topics answer equally well lists them all: any of them is right
            rows.append({"q": row["q"], "topic": tuple(topic) if isinstance(topic, list) else topic})
    return rows


def tokens_of(text: str, vocab: Vocabulary) -> tuple[str, list[str]]:
    """Return (normalised text, jieba words) exactly as the index builds them."""
    norm = normalize(text, vocab).text
    return norm, segment.words(norm)


def load_knowledge(store: Store, vocab: Vocabulary) -> Knowledge:
    """Collect every FAQ phrasing of the store (question + alternates, deduplicated per entry)."""
    segment.prepare(vocab)
    shipped_ids = {r.id for r in shipped_records() if r.kind == "faq"}
    texts: list[str] = []
    topics: list[str] = []
    shipped_q: list[str] = []
    all_q: list[str] = []
    for rec in store.iter_records():
        if rec["kind"] != "faq":
            continue
        all_q.append(rec["question"])
        if rec["id"] in shipped_ids:
            shipped_q.append(rec["question"])
        for text in dict.fromkeys([rec["question"], *rec["alternates"]]):
            texts.append(text)
            topics.append(rec["topic"])
    norm: list[str] = []
    tokens: list[list[str]] = []
    for text in texts:
        n, t = tokens_of(text, vocab)
        norm.append(n)
        tokens.append(t)
    if shipped_q:
        thr_q, src = shipped_q, f"{len(shipped_q)} shipped canonical questions"
    else:
        thr_q = random.Random(0).sample(all_q, min(1000, len(all_q)))
        src = f"{len(thr_q)} sampled canonical questions"
    return Knowledge(texts, topics, norm, tokens, thr_q, src)


def _distinct(topics: Iterable[str | None], k: int = 3) -> list[str]:
    out: list[str] = []
    for t in topics:
        if t and t not in out:
            out.append(t)
            if len(out) == k:
                break
    return out


class Ours:
    """The engine, as `rolebot ask` uses it."""

    name = "ours"

    def __init__(self, store: Store, vocab: Vocabulary) -> None:
        self.engine = Engine(store, vocab, points=shipped_points())
        self.note = "Engine.ask; declines by its own rules"

    def predict(self, text: str) -> Prediction:
        res = self.engine.ask(text)
        topic = res.topic if res.answered else None
        top3 = _distinct([topic, *(c["topic"] for c in res.candidates)])
        return Prediction(topic, top3, res.score, res.kind)


class BM25Baseline:
    """bm25s over jieba tokens of every phrasing; fixed decline threshold (see module doc)."""

    name = "bm25"

    def __init__(self, kn: Knowledge, vocab: Vocabulary) -> None:
        import bm25s

        self.vocab = vocab
        self.topics = kn.topics
        self.retriever = bm25s.BM25()
        self.retriever.index(kn.tokens, show_progress=False)
        self.k = min(30, len(kn.tokens))
        self.threshold = 0.0
        best = sorted(self._search(tokens_of(q, vocab)[1])[1][0] for q in kn.threshold_questions)
        if best:
            self.threshold = _percentile(best, BM25_PERCENTILE)
        self.note = f"declines below {self.threshold:.2f} = p{BM25_PERCENTILE} of best scores of {kn.threshold_source}"

    def _search(self, toks: list[str]) -> tuple[list[int], list[float]]:
        if not toks:
            return [], [0.0]
        docs, scores = self.retriever.retrieve([toks], k=self.k, show_progress=False, n_threads=0)
        return [int(d) for d in docs[0]], [float(s) for s in scores[0]]

    def predict(self, text: str) -> Prediction:
        docs, scores = self._search(tokens_of(text, self.vocab)[1])
        ranked = [self.topics[d] for d, s in zip(docs, scores, strict=False) if s > 0]
        best = scores[0] if docs else 0.0
        topic = ranked[0] if ranked and best >= self.threshold else None
        return Prediction(topic, _distinct(ranked), best)


class FuzzBaseline:
    """Brute-force rapidfuzz WRatio over every phrasing's normalised text; declines below 60."""

    name = "fuzz"

    def __init__(self, kn: Knowledge, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.choices = kn.norm
        self.topics = kn.topics
        self.note = f"WRatio over {len(kn.norm)} phrasings; declines below {FUZZ_DECLINE_BELOW}"

    def predict(self, text: str) -> Prediction:
        from rapidfuzz import fuzz, process

        q = normalize(text, self.vocab).text
        hits = process.extract(q, self.choices, scorer=fuzz.WRatio, limit=30)
        if not hits:
            return Prediction(None, [], 0.0)
        best = hits[0][1]
        ranked = [self.topics[i] for _, _, i in hits]
        return Prediction(ranked[0] if best >= FUZZ_DECLINE_BELOW else None, _distinct(ranked), best)


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Return a linear-interpolated percentile of sorted values."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * pct / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass
class Scores:
    """The metrics of one system on one question set."""

    system: str
    n: int = 0
    in_scope: int = 0
    oos: int = 0
    top1: int = 0
    top3: int = 0
    declined_oos: int = 0
    wrong: int = 0
    seconds: float = 0.0
    note: str = ""
    misses: list[dict[str, Any]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, other: Scores) -> None:
        """Add another run's counts (one cross-validation fold) to these."""
        for name in ("n", "in_scope", "oos", "top1", "top3", "declined_oos", "wrong", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses += other.misses
        self.outcomes.update(other.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "questions": self.n,
            "in_scope": self.in_scope,
            "out_of_scope": self.oos,
            "top1": _share(self.top1, self.n),
            "top3": _share(self.top3, self.in_scope),
            "oos_declined": _share(self.declined_oos, self.oos),
            "confidently_wrong": _share(self.wrong, self.n),
            "ms_per_question": round(1000 * self.seconds / self.n, 3) if self.n else None,
            "outcomes": {k: _share(self.outcomes[k], self.n) for k in OUTCOME_NAMES},
            "note": self.note,
            "misses": self.misses,
        }


def _share(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score_system(system: Any, rows: list[dict[str, Any]]) -> Scores:
    """Ask every question and count the metrics."""
    out = Scores(system.name, note=getattr(system, "note", ""))
    for row in rows:
        expected = row["topic"]
        t0 = time.perf_counter()
        pred = system.predict(row["q"])
        out.seconds += time.perf_counter() - t0
        out.n += 1
        out.outcomes[OUTCOMES.get(pred.kind, "answer" if pred.topic else "decline")] += 1
        if expected is None:
            out.oos += 1
            ok = pred.topic is None
            out.declined_oos += ok
        else:
            out.in_scope += 1
            accepted = expected if isinstance(expected, tuple) else (expected,)
            ok = pred.topic in accepted
            out.top3 += any(t in pred.top3 for t in accepted)
        out.top1 += ok
        if pred.topic is not None and not ok:
            out.wrong += 1
        if not ok:
            out.misses.append(
                {
                    "q": row["q"],
                    "expected": expected,
                    "got": pred.topic,
                    "kind": pred.kind,
                    "score": round(pred.score, 2),
                    "top3": pred.top3,
                }
            )
    return out


def build_systems(
    store: Store, names: tuple[str, ...] = SYSTEMS, vocab: Vocabulary | None = None, knowledge: Knowledge | None = None
) -> list[Any]:
    """Return the named systems over one store (the baselines share one Knowledge)."""
    vocab = vocab or vocabulary()
    systems: list[Any] = []
    if "ours" in names:
        systems.append(Ours(store, vocab))
    if ("bm25" in names or "fuzz" in names) and knowledge is None:
        knowledge = load_knowledge(store, vocab)
    if "bm25" in names:
        systems.append(BM25Baseline(knowledge, vocab))  # type: ignore[arg-type]
    if "fuzz" in names:
        systems.append(FuzzBaseline(knowledge, vocab))  # type: ignore[arg-type]
    return systems


def evaluate(
    store: Store, rows: list[dict[str, Any]], names: tuple[str, ...] = SYSTEMS, systems: list[Any] | None = None
) -> list[Scores]:
    """Score each system on the rows (warming each up on one question first)."""
    systems = systems if systems is not None else build_systems(store, names)
    results = []
    for system in systems:
        system.predict(rows[0]["q"])  # first-call costs (lazy imports, caches) are not per-question costs
        results.append(score_system(system, rows))
    return results


def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{100 * v:6.1f}"


def format_table(results: list[Scores], title: str = "") -> str:
    """Return the summary table."""
    lines = []
    if title:
        lines.append(title)
    lines.append(
        f"{'system':<8} {'top1%':>6} {'top3%':>6} {'oos_decl%':>9} {'conf_wrong%':>11} {'ms/q':>8}   "
        f"{'answer/choice/related/decline %':<32} n (in/oos)"
    )
    for r in results:
        d = r.as_dict()
        ms = d["ms_per_question"]
        mix = "/".join(f"{100 * (d['outcomes'][k] or 0):.0f}" for k in OUTCOME_NAMES)
        lines.append(
            f"{r.system:<8} {_pct(d['top1'])} {_pct(d['top3'])} {_pct(d['oos_declined']):>9} "
            f"{_pct(d['confidently_wrong']):>11} {ms:8.2f}   {mix:<32} {r.n} ({r.in_scope}/{r.oos})"
        )
    for r in results:
        if r.note:
            lines.append(f"  {r.system}: {r.note}")
    return "\n".join(lines)


def format_misses(scores: Scores) -> str:
    """Return one line per miss."""
    lines = [f"{scores.system} misses: {len(scores.misses)}"]
    for m in scores.misses:
        lines.append(
            f"  {m['q']}  expected={m['expected']}  got={m['got'] or '(declined)'}"
            f"  kind={m['kind']}  score={m['score']}  top3={','.join(m['top3'])}"
        )
    return "\n".join(lines)


class _Fold:
    """Our pipeline with one fold's phrasings hidden and that fold's model (for cross-validation)."""

    name = "ours"

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.note = "cross-validated: each fold's ranker trained without it, its phrasings hidden from the index"

    def predict(self, text: str) -> Prediction:
        res = self.pipeline.answer(text)
        topic = res.topic if res.answered else None
        return Prediction(topic, _distinct([topic, *(c["topic"] for c in res.candidates)]), res.score, res.kind)


def cross_validate(store: Store, names: tuple[str, ...]) -> list[Scores]:
    """Score every system over the knowledge's own folds (scripts/train.py's questions and folds).

    Per fold: our scorer is refitted on the other folds (with the shipped thresholds), the fold's phrasings
    are hidden from our index and left out of the baselines' indexes, and the fold's questions are asked.
    """
    import train

    setup = train.prepare(store, quiet=True)
    shipped = load_model()
    vocab = vocabulary()
    full = load_knowledge(store, vocab)
    totals = {name: Scores(name) for name in names}
    pairs, questions = setup.pairs, setup.questions
    covers = train.covering()
    for f, fold in enumerate(setup.folds):
        keep = [i for i, qi in enumerate(pairs.question) if questions[qi].fold != f]
        model = train.build_model(
            [pairs.rows[i] for i in keep],
            [pairs.labels[i] for i in keep],
            "trees" if shipped.trees else "linear",
            1.0,
            shipped.thresholds,
            setup.engine.model.space,
            fold.off_topic,
            fold.classifier,
            shipped.calibration,
            aspects=fold.aspects,
        )
        seen = [i for i, t in enumerate(full.texts) if t not in fold.hidden]
        kn = Knowledge(
            [full.texts[i] for i in seen],
            [full.topics[i] for i in seen],
            [full.norm[i] for i in seen],
            [full.tokens[i] for i in seen],
            [q for q in full.threshold_questions if q not in fold.hidden],
            full.threshold_source,
        )
        # a held-out phrasing answered by a topic covering its own (knowledge/overlaps.yaml) is answered, as training counts it
        rows = [
            {"q": q.text, "topic": tuple(sorted(train.accepted(q.topic, covers) | q.also)) or None}
            for q in questions
            if q.fold == f
        ]
        systems: list[Any] = [_Fold(setup.engine.fold(fold.hidden, model))] if "ours" in names else []
        systems += build_systems(store, tuple(n for n in names if n != "ours"), vocab, kn)
        for system in systems:
            part = score_system(system, rows)
            totals[system.name].add(part)
            totals[system.name].note = part.note
    return [totals[n] for n in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE, help="JSONL of {q, topic} (default: %(default)s)")
    ap.add_argument("--db", type=Path, default=None, help="database to evaluate (default: a temp one from knowledge/)")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of ours,bm25,fuzz")
    ap.add_argument("--misses", action="store_true", help="list our misses (question, expected, got, score)")
    ap.add_argument("--cv", action="store_true", help="cross-validate over the knowledge instead of reading --file")
    ap.add_argument("--json", action="store_true", help="print JSON results on stdout (table goes to stderr)")
    args = ap.parse_args(argv)

    names = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    unknown = set(names) - set(SYSTEMS)
    if unknown:
        ap.error(f"unknown system(s): {', '.join(sorted(unknown))}")
    rows = read_questions(args.file)
    if not rows:
        ap.error(f"no questions in {args.file}")
    tmp = None if args.db else Path(tempfile.mkdtemp(prefix="rolebot-eval-"))
    db_path = args.db or tmp / "eval.db"  # type: ignore[operator]
    try:
        return _run(args, rows, names, db_path)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, rows: list[dict[str, Any]], names: tuple[str, ...], db_path: Path) -> int:
    store = open_store(db_path)
    counts = store.counts()
    results = cross_validate(store, names) if args.cv else evaluate(store, rows, names)
    source = "cross-validation over the knowledge" if args.cv else f"{args.file} ({len(rows)} questions)"
    title = (
        f"eval: {source} on {'temp DB' if args.db is None else db_path}: "
        f"{counts['entries']} entries, {counts['phrasings']} phrasings"
    )
    table = format_table(results, title)
    if args.json:
        dicts = [r.as_dict() for r in results]
        if not args.misses:
            for d in dicts:
                d.pop("misses")
        doc = {"file": str(args.file), "db": str(db_path), "counts": counts, "results": dicts}
        print(json.dumps(doc, ensure_ascii=False, indent=2), flush=True)
        print(table, file=sys.stderr)
        store.close()
        return 0
    if args.misses:
        for r in results:
            if r.system == "ours":
                print(format_misses(r))
                print()
    print(table)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
