"""What maintainers review: unanswered questions clustered by wording, and feedback per topic."""

from __future__ import annotations

import time
from collections import Counter
from typing import TypedDict

from rapidfuzz import fuzz

from rolebot.language import segment
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.schema import UnansweredRow
from rolebot.store.store import Store

SIMILAR = 80  # token_sort_ratio at which two questions count as the same question


class TopicScore(TypedDict):
    """A topic suggested for an unanswered question, with its best score."""

    topic: str
    score: int


class Cluster(TypedDict):
    """Near-duplicate unanswered questions, counted together."""

    question: str
    count: int
    first_seen: str
    last_seen: str
    candidates: list[TopicScore]
    suggestion: str | None
    variants: list[str]
    keys: list[str]


class Votes(TypedDict):
    """👍 and 👎 for one topic."""

    topic: str
    up: int
    down: int


class Review(TypedDict):
    """What `rolebot review` shows."""

    unanswered: list[Cluster]
    feedback: list[Votes]


class Day(TypedDict):
    """Questions asked and answered on one day."""

    day: str
    questions: int
    answered: int


class Stats(TypedDict):
    """What /stats shows."""

    days: int
    per_day: list[Day]
    answer_rate: float | None
    top_topics: list[tuple[str, int]]
    disliked: list[Votes]


def key_words(question: str, vocab: Vocabulary) -> str:
    """Return the meaningful words of a normalised question, sorted, as one string."""
    return " ".join(sorted(segment.content(segment.words(question), vocab)))


def cluster(
    rows: list[UnansweredRow], vocab: Vocabulary | None = None, threshold: int = SIMILAR
) -> list[list[UnansweredRow]]:
    """Group near-duplicate questions (most asked first) by their meaningful words."""
    vocab = vocab or vocabulary()
    segment.prepare(vocab)
    groups: list[tuple[str, list[UnansweredRow]]] = []
    for row in sorted(rows, key=lambda r: r["count"], reverse=True):
        key = key_words(row["question"], vocab) or row["question"]
        for head, group in groups:
            if fuzz.token_sort_ratio(key, head) >= threshold:
                group.append(row)
                break
        else:
            groups.append((key, [row]))
    return [g for _, g in groups]


# a suggestion is offered (and in Telegram, a one-tap add) only when the best candidate's calibrated
# score makes it worth a look; below it the cluster is shown as a possible new topic
SUGGEST_AT = 30  # a calibrated probability: below it the guess is wrong more than seven times in ten
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """Draw values as Unicode blocks, lowest ▁ to highest █; a missing value is a space."""
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(SPARKS[round((v - low) / span * (len(SPARKS) - 1)) if span else len(SPARKS) // 2])
    return "".join(out)


def build_review(store: Store, since_days: float | None = None) -> Review:
    """Return unanswered clusters (with counts and candidate topics) and feedback per topic."""
    since = time.time() - since_days * 86400 if since_days else 0.0
    unanswered: list[Cluster] = []
    for group in cluster(store.unanswered(since)):
        wording = Counter()  # type: Counter[str]
        cand_scores: dict[str, int] = {}
        for row in group:
            wording[row["text"]] += row["count"]
            for c in row["candidates"]:
                cand_scores[c["topic"]] = max(cand_scores.get(c["topic"], 0), int(c["score"]))
        unanswered.append(
            {
                "question": wording.most_common(1)[0][0],
                "count": sum(r["count"] for r in group),
                "first_seen": _iso(min(r["first_seen"] for r in group)),
                "last_seen": _iso(max(r["last_seen"] for r in group)),
                "candidates": [
                    {"topic": t, "score": s}
                    for t, s in sorted(cand_scores.items(), key=lambda kv: kv[1], reverse=True)[:3]
                ],
                "suggestion": _suggestion(cand_scores),
                "variants": sorted({r["text"] for r in group}),
                "keys": [r["question"] for r in group],
            }
        )
    unanswered.sort(key=lambda u: u["count"], reverse=True)
    feedback: list[Votes] = [
        {"topic": r["topic"], "up": int(r["up"] or 0), "down": int(r["down"] or 0)}
        for r in store.feedback_by_topic(since)
    ]
    return {"unanswered": unanswered, "feedback": feedback}


def _suggestion(cand_scores: dict[str, int]) -> str | None:
    """Return the topic to suggest for a cluster, or None when no candidate is likely enough."""
    if not cand_scores:
        return None
    topic, score = max(cand_scores.items(), key=lambda kv: kv[1])
    return topic if score >= SUGGEST_AT else None


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts))


def format_review(data: Review, limit: int = 30) -> str:
    """Render the review for the terminal."""
    lines = [f"Unanswered questions ({len(data['unanswered'])} clusters):"]
    for u in data["unanswered"][:limit]:
        lines.append(f"  {u['count']:>4}×  {u['question']}   (last {u['last_seen']})")
        if len(u["variants"]) > 1:
            lines.append(f"         also: {' / '.join(v for v in u['variants'] if v != u['question'])[:120]}")
        if u["suggestion"]:
            best = u["candidates"][0]
            lines.append(f"         suggestion: add as a phrasing of topic {best['topic']} (score {best['score']})")
        else:
            lines.append("         新话题？ (no topic is a likely fit)")
    if not data["unanswered"]:
        lines.append("  (none)")
    lines.append("")
    lines.append("Feedback per topic (👍 / 👎):")
    for f in data["feedback"]:
        lines.append(f"  {f['topic']:<45} {f['up']:>4} 👍 {f['down']:>4} 👎")
    if not data["feedback"]:
        lines.append("  (none)")
    return "\n".join(lines)


def build_stats(store: Store, days: int = 14) -> Stats:
    """Return questions per day (every day of the window, quiet ones too), answer rate, top and disliked topics."""
    per_day: dict[str, list[int]] = {}
    topics: Counter[str] = Counter()
    for row in store.daily(days):
        day = per_day.setdefault(row["day"], [0, 0])
        day[0] += row["count"]
        if row["topic"]:
            day[1] += row["count"]
            topics[row["topic"]] += row["count"]
    total = sum(d[0] for d in per_day.values())
    answered = sum(d[1] for d in per_day.values())
    disliked = [f for f in store.feedback_by_topic() if f["down"]][:5]
    today = time.time()
    window = [time.strftime("%Y-%m-%d", time.gmtime(today - i * 86400)) for i in range(days - 1, -1, -1)]
    for name in window:
        per_day.setdefault(name, [0, 0])
    return {
        "days": days,
        "per_day": [{"day": d, "questions": v[0], "answered": v[1]} for d, v in sorted(per_day.items())],
        "answer_rate": round(answered / total, 3) if total else None,
        "top_topics": topics.most_common(5),
        "disliked": [{"topic": f["topic"], "down": int(f["down"]), "up": int(f["up"] or 0)} for f in disliked],
    }


def format_trend(stats: Stats) -> str:
    """Render the window's questions and answer rate per day as two sparklines with their numbers."""
    days = stats["per_day"]
    counts = [d["questions"] for d in days]
    rates = [d["answered"] / d["questions"] if d["questions"] else None for d in days]
    first, last = (days[0]["day"][5:], days[-1]["day"][5:]) if days else ("", "")
    rate_now = next((r for r in reversed(rates) if r is not None), None)
    return "\n".join(
        [
            f"问题   {sparkline([float(c) for c in counts])}  共 {sum(counts)}，最多 {max(counts, default=0)}/天",
            f"回答率 {sparkline(rates)}  最近 {rate_now:.0%}"
            if rate_now is not None
            else f"回答率 {sparkline(rates)}  —",
            f"       {first}{' ' * max(1, len(days) - len(first) - len(last))}{last}",
        ]
    )


def format_stats(stats: Stats) -> str:
    """Render /stats as plain text: the trend as sparklines, then the numbers."""
    lines = [f"最近 {stats.get('days', len(stats['per_day']))} 天：", format_trend(stats)]
    for d in stats["per_day"]:
        if d["questions"]:
            lines.append(f"• {d['day']}：{d['questions']} 个问题，回答 {d['answered']}")
    if not any(d["questions"] for d in stats["per_day"]):
        lines.append("• 还没有问题")
    rate = stats["answer_rate"]
    lines.append(f"回答率：{rate:.0%}" if rate is not None else "回答率：—")
    if stats["top_topics"]:
        lines.append("热门话题：" + "、".join(f"{t}（{n}）" for t, n in stats["top_topics"]))
    if stats["disliked"]:
        lines.append("👎 最多：" + "、".join(f"{d['topic']}（{d['down']}）" for d in stats["disliked"]))
    return "\n".join(lines)
