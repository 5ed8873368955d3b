"""What maintainers review, read from the store: unanswered questions in groups, feedback per topic, stats.

How questions are grouped (by what they ask) is the conversation layer's (conversation/review.py): it reads
them with the engine's aspect reader, which this layer does not import.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TypedDict

from rolebot.store.schema import UnansweredRow
from rolebot.store.store import Store


class TopicScore(TypedDict):
    """A topic suggested for an unanswered question, with its best score."""

    topic: str
    score: int


class Draft(TypedDict):
    """A new entry suggested for a group, pre-filled but for its answer and sources (a knowledge record)."""

    id: str
    kind: str
    topic: str
    question: str
    alternates: list[str]
    answer: str
    sources: list[dict[str, str]]
    related: list[str]
    tags: list[str]


class Cluster(TypedDict):
    """Unanswered questions that ask the same thing, counted together."""

    question: str  # the most asked wording
    count: int
    first_seen: str
    last_seen: str
    candidates: list[TopicScore]
    suggestion: str | None  # the topic to add the question to as a phrasing (the one-tap add in Telegram)
    variants: list[str]
    keys: list[str]
    roles: list[str]  # our roles the questions name
    aspect: str  # what they ask of them: a missing aspect ("salary") or an intent ("ability"); "" when unread
    missing: bool  # the aspect is one the knowledge has no material on
    new_entry: Draft | None  # when no topic answers it: a draft entry for `rolebot import`
    about: list[str]  # for questions naming none of our roles: their content words (what they are about)


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


Grouping = Callable[[list[UnansweredRow]], list[Cluster]]


def build_review(store: Store, since_days: float | None = None, group: Grouping | None = None) -> Review:
    """Return unanswered questions in groups (by `group`; else each stored question alone) and feedback per topic."""
    since = time.time() - since_days * 86400 if since_days else 0.0
    unanswered = (group or alone)(store.unanswered(since))
    feedback: list[Votes] = [
        {"topic": r["topic"], "up": int(r["up"] or 0), "down": int(r["down"] or 0)}
        for r in store.feedback_by_topic(since)
    ]
    return {"unanswered": unanswered, "feedback": feedback}


def alone(rows: list[UnansweredRow]) -> list[Cluster]:
    """Return each stored question as its own group, most asked first, suggesting nothing (nothing read it)."""
    out: list[Cluster] = [
        {
            "question": r["text"],
            "count": r["count"],
            "first_seen": iso(r["first_seen"]),
            "last_seen": iso(r["last_seen"]),
            "candidates": [{"topic": c["topic"], "score": int(c["score"])} for c in r["candidates"][:3]],
            "suggestion": None,
            "variants": [r["text"]],
            "keys": [r["question"]],
            "roles": [],
            "aspect": "",
            "missing": False,
            "new_entry": None,
            "about": [],
        }
        for r in rows
    ]
    out.sort(key=lambda c: -c["count"])
    return out


def iso(ts: float) -> str:
    """Return a time as the review shows it (local time, to the second)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts))


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
