"""What a conversation can do, independent of where it happens (Telegram or the terminal)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Hashable
from dataclasses import dataclass, replace
from pathlib import Path

from rolebot.conversation.actions import DIGEST, entry_ref
from rolebot.conversation.context import Contexts, Turn, read_follow_up, swap_roles
from rolebot.conversation.dialogue import Request, points_back, read_request, relation_of, roles_in
from rolebot.conversation.groups import GroupSettings
from rolebot.conversation.premises import Premise, load_premises, read_premise
from rolebot.conversation.render import (
    Reply,
    render_example,
    render_help,
    render_mentions,
    render_note,
    render_passages,
    render_plain,
    render_result,
    render_small_talk,
    render_topic_list,
    render_topics,
    render_welcome,
    with_lead,
)
from rolebot.conversation.review import Reviewer
from rolebot.conversation.smalltalk import read_abuse, read_small_talk
from rolebot.engine.engine import Engine, Result
from rolebot.kb.knowledge import ImportPlan, import_files, shipped_points
from rolebot.kb.records import Progress
from rolebot.kb.review import Review, Stats, build_stats
from rolebot.language.normalize import normalize
from rolebot.language.script import SIMPLIFIED_READER, Reader
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.activity import write_pending
from rolebot.store.schema import FaqRow
from rolebot.store.store import Store

__all__ = ["Service", "Answer", "render_plain"]

# words of the trade a question about our field may use without naming a role: it is near-domain, not off-topic
TRADE_WORDS = (
    "岗位", "职位", "工作", "职业", "部门", "公司", "客户", "用户", "产品", "广告", "公关", "策划", "文案", "渠道",
    "品牌", "转行", "求职", "面试", "工资", "薪资", "提成", "业绩", "kpi", "gmv", "roi", "dau", "seo", "市场部",
    "增长", "流量", "获客", "公众号", "抖音", "小红书", "直播", "视频", "私域", "电商", "淘宝", "店铺", "转化", "留存",
    "定价", "价格", "粉丝", "涨粉", "投放", "社群", "地推", "活动", "方案", "竞品", "预算", "会员", "陌拜", "点击",
    "新闻稿", "海报", "排版", "起号", "数据", "模型", "理论", "战略", "消费者", "商家", "营收", "利润", "成本",
)  # fmt: skip
# words of the knowledge that say nothing of a field: a question made of them alone may still be off-topic
GENERIC = frozenset(
    {"怎么办", "喜欢", "觉得", "人生", "意义", "一段", "有没有", "推荐", "提升", "起来", "才能", "应该", "只有",
     "办法", "常见", "哪几个", "几个", "东西", "时候", "现在", "今天", "明天", "一下", "知道", "可以", "什么"}
)  # fmt: skip
# words the knowledge mentions in passing that no role entry covers (BD and 品牌 are roles of the vocabulary)
PASSING = ("公关", "策划", "文案", "广告", "渠道")


@dataclass(frozen=True)
class Answer:
    """An engine result and the reply rendered from it."""

    result: Result
    reply: Reply


@dataclass(frozen=True)
class InlineItem:
    """One inline-mode result."""

    id: str
    title: str
    description: str
    html: str


class Service:
    """Answers, browsing, passages and feedback over one store."""

    def __init__(
        self,
        store: Store,
        vocab: Vocabulary | None = None,
        salt: str = "",
        text_limit: int | None = None,
        lazy: bool = False,
    ) -> None:
        """Serve from a store; `lazy`: load jieba at the first question that needs it (a one-shot command)."""
        self.store = store
        # how long a reply's text may be, in UTF-16 code units (the edge sets it; None: the terminal, no limit)
        self.text_limit = text_limit
        self._refs: dict[str, str] = {}  # digest → entry id, for ids too long for a button (entry_ref)
        self.vocab = vocab or vocabulary()
        self.points = shipped_points()
        self.engine = Engine(store, self.vocab, lazy=lazy, points=self.points)
        self._salt = salt  # read (or made) at the first vote, so a read-only `rolebot ask` writes nothing
        self.contexts = Contexts()

    @classmethod
    def open(cls, path: Path) -> Service:
        """Open (creating or migrating) the store at `path` and serve from it."""
        from rolebot.kb.knowledge import open_store

        return cls(open_store(path))

    def close(self, wait: float | None = None) -> None:
        """Close the store (pending counters are written first, waiting `wait` seconds at most for its lock)."""
        self.store.close(wait)

    @property
    def salt(self) -> str:
        """Return the salt of user hashes, so they cannot be recomputed from user ids alone (read at the first vote)."""
        if not self._salt:
            self._salt = self.store.salt()
        return self._salt

    @property
    def categories(self) -> list[str]:
        """Return the browse categories."""
        return list(self.vocab.browse)

    def ask(
        self,
        text: str,
        *,
        chat_type: str = "private",
        short: bool = False,
        deep_link: str | None = None,
        record: bool = True,
        script: str | None = None,
        context: Hashable | None = None,
        follow_ups: bool = True,
    ) -> Answer:
        """Answer a question and remember it when we could not; `script` forces the reply's script.

        With a `context` key (a chat and its user), an answered question is remembered for ten minutes and,
        when `follow_ups` is on, an elliptical message (那运营呢, 详细说说) is read against it.
        """
        norm = normalize(text, self.vocab)  # once: small talk, follow-ups and the engine all read this
        talk = read_small_talk(text, self.vocab, norm)
        if talk is not None:
            shown = norm.reader.forced(script)
            return Answer(Result(False, "smalltalk", shown), render_small_talk(talk, self.categories, shown))
        if read_abuse(norm.text, self.vocab):
            shown = norm.reader.forced(script)  # calm, and kept out of the review: nothing was asked
            return Answer(Result(False, "abuse", shown), render_note("calm", None, shown))
        turn = self.contexts.get(context) if context is not None and follow_ups else None
        request = read_request(norm.text, self.vocab, turn.roles if turn else ()) if follow_ups else None
        if request is not None and request.kind not in ("compare", "refer"):
            return self._request(request, context, turn, norm.reader.forced(script), script)
        if follow_ups and request is None and turn is None and points_back(norm.text, self.vocab):
            shown = norm.reader.forced(script)  # 它们谁更重要 with nothing before it: ask what 它们 are
            return Answer(Result(False, "request", shown), render_note("no-last-answer", None, shown))
        follow = read_follow_up(text, self.vocab, norm) if follow_ups and request is None else None
        turn = turn if follow is not None or request is not None else None
        asked = request.question if request is not None else text
        if follow is not None and follow.kind == "more":
            shown = (turn.reader if turn else norm.reader).forced(script)
            more = self.more(turn.entry_id, shown) if turn and turn.entry_id else None
            if more is not None and turn is not None:
                return Answer(Result(False, "more", shown, entry_id=turn.entry_id), more)
            return Answer(
                Result(False, "smalltalk", shown), render_small_talk("nothing-to-expand", self.categories, shown)
            )
        if follow is not None and turn is not None:
            asked = swap_roles(turn.text, follow, self.vocab) or text
        premise = read_premise(norm.text, self.premises) if asked is text else None
        lead = ""
        # a follow-up asks the previous question with its roles swapped: that wording is normalised anew
        result = self.engine.ask(asked, norm=norm if asked is text else None)
        if premise is not None:
            topic = premise.topic or next((p.topic for p in self.points if p.id == premise.claim), None)
            denied = self.engine.show_topic(topic, norm.reader) if topic else None
            if denied is not None and denied.answered:  # the answer of the point that denies the premise
                result, lead = denied, premise.correction
        elif not result.answered and follow is None:
            named = request.roles if request is not None else roles_in(norm.text, self.vocab)
            relation = relation_of(request.question if request is not None else norm.text)
            if len(named) >= 2 and relation is not None:
                result, lead = self._relation(named[:2], relation, result)
        if asked is not text:
            result.reader = norm.reader  # the previous question is stored Simplified
        result.reader = result.reader.forced(script)
        if record:
            self.record(result, text, chat_type)
        if context is not None and result.answered:
            roles = roles_in(result.normalized or normalize(asked, self.vocab).text, self.vocab) or roles_in(
                result.question or "", self.vocab
            )
            self.contexts.put(context, result.normalized or asked, result.entry_id, result.reader, roles, result)
        if not result.answered and (mention := self._mentions(result, norm.text)) is not None:
            return Answer(result, mention)
        link = deep_link.format(topic=result.topic) if deep_link and result.topic else None
        off_topic = not result.answered and not self._near(norm.text) and not points_back(norm.text, self.vocab)
        answer = self._answer(result, short=short, deep_link=link, browse=self.categories, off_topic=off_topic)
        return Answer(result, with_lead(answer.reply, lead, result.reader)) if lead else answer

    @property
    def premises(self) -> tuple[Premise, ...]:
        """Return the premises the knowledge denies (knowledge/premises.yaml)."""
        return load_premises()

    def _request(
        self, request: Request, context: Hashable | None, turn: Turn | None, reader: Reader, script: str | None
    ) -> Answer:
        """Serve a request about the last answer: shorter, an example, the other script, or say it cannot be."""
        last = turn.result if turn is not None else None
        if last is None or not last.answered:
            kind = "unservable" if request.kind == "unservable" and turn is not None else "no-last-answer"
            return Answer(Result(False, "request", reader), render_note(kind, None, reader))
        if request.kind in ("unservable", "doubt"):
            shown_to = turn.reader if turn else reader
            return Answer(Result(False, "request", shown_to), render_note(request.kind, None, shown_to))
        shown = turn.reader.forced(script) if turn is not None else reader
        if request.kind in ("traditional", "simplified"):
            shown = shown.forced(request.kind) if shown.script != request.kind else shown
            if turn is not None and context is not None:  # what follows is answered in the script asked for
                self.contexts.put(context, turn.text, turn.entry_id, shown, turn.roles, last)
        if request.kind == "example":
            return Answer(replace(last, kind="request", reader=shown), self._example(last, shown))
        again = replace(last, reader=shown)
        if request.kind == "simpler":
            lines = [ln for ln in (last.answer or "").splitlines() if ln.strip()]
            # an answer led by a claim has its topic's one-line summary after the claim
            gist = next((ln for ln in lines if ln.startswith("一句话")), lines[0] if lines else "")
            again = replace(again, answer=gist, has_more=True)
        reply = self._answer(again, short=False, deep_link=None).reply
        return Answer(replace(again, kind="request"), reply)

    def _example(self, result: Result, reader: Reader) -> Reply:
        """Find an example in the sources of an answer's topic: a claim that is one, or a passage sentence."""
        roles = set(roles_in(result.question or "", self.vocab))
        claims = [p for p in self.points if p.topic == result.topic and p.aspect == "example"]
        claims.sort(key=lambda p: -len(roles & set(p.roles)))
        question = result.question or ""
        if claims:
            return render_example(claims[0].text, claims[0].source, result.topic or "", question, reader)
        for passage in self.store.topic_passages(result.topic or ""):
            for sentence in re.split(r"(?<=[。！？])", str(passage["text"])):
                if re.search(r"比如|例如|举例|譬如|案例", sentence):
                    srcs = passage.get("sources") or []
                    title = str(srcs[0]["title"]) if isinstance(srcs, list) and srcs else ""
                    return render_example(sentence.strip(), title, result.topic or "", question, reader)
        return render_note("no-example", None, reader)

    def _relation(self, roles: tuple[str, ...], relation: str, result: Result) -> tuple[Result, str]:
        """Answer a relation question about two roles that no entry answers with how they relate or differ."""
        pair = "和".join(roles)
        tries = [
            (f"{pair}之间如何配合", f"资料没有直接回答「{pair}{relation}」，讲的是{pair}怎么配合："),
            (f"{pair}有什么区别", f"资料没有直接回答「{pair}{relation}」，讲的是{pair}的区别："),
        ]
        if not re.search(r"重要|配合|合作|联系|关系", relation):  # 哪个更难, 选哪个: the difference tells more
            tries.reverse()
        for asked, lead in tries:
            tried = self.engine.ask(asked)
            if tried.answered:
                return tried, lead
        return result, ""

    def _near(self, normalized: str) -> bool:
        """Say whether a question is about our field, not off-topic: it names a role, a word of the trade, or a
        word of two characters or more that the knowledge's claims use (空中部队, 定价)."""
        if roles_in(normalized, self.vocab) or any(w in normalized for w in TRADE_WORDS):
            return True
        points = self.engine.points
        if points is None:
            return False
        known = points.idf()
        return any(len(w) >= 2 and w in known and w not in GENERIC for w in points.words(normalized))

    def _mentions(self, result: Result, normalized: str) -> Reply | None:
        """Say what the knowledge says about a role it only mentions in passing (BD, 品牌, 公关), with the source."""
        if result.kind not in ("related", "decline"):
            return None
        if result.missing is not None and result.missing.aspect not in (None, "near-role", "other-job"):
            return None  # 品牌经理的工资: the part asked about is what we lack, said by the related reply
        terms = [*roles_in(normalized, self.vocab), *(w for w in PASSING if w in normalized)]
        terms = [t for t in dict.fromkeys(terms) if t not in self.vocab.browse]
        for term in terms:
            forms = {term, *(a.upper() if a.isascii() else a for a, c in self.vocab.aliases.items() if c == term)}
            hits = [p for p in self.points if any(f in p.text for f in forms)]
            if not hits:
                continue
            hits.sort(key=lambda p: (term not in p.roles, len(p.text)))
            mentions = [(p.text, p.source, p.topic, q) for p in hits[:2] if (q := self.engine.topic_question(p.topic))]
            if mentions:
                label = next((f for f in sorted(forms) if f.isascii()), None)
                return render_mentions(f"{term}（{label}）" if label else term, mentions, result.reader)
        return None

    def _answer(
        self,
        result: Result,
        *,
        short: bool,
        deep_link: str | None,
        browse: list[str] | None = None,
        off_topic: bool = False,
    ) -> Answer:
        """Render a result within the edge's limit, remembering a long entry id its buttons name by digest."""
        if result.entry_id and (ref := entry_ref(result.entry_id)) != result.entry_id:
            self._refs[ref] = result.entry_id
        reply = render_result(
            result, short=short, deep_link=deep_link, browse=browse, limit=self.text_limit, off_topic=off_topic
        )
        return Answer(result, reply)

    def entry(self, ref: str) -> FaqRow | None:
        """Return the entry a button names (its id, or the digest of a long id), or None."""
        if not ref.startswith(DIGEST):
            return self.store.entry(ref)
        entry_id = self._refs.get(ref)
        if entry_id is None:  # a button from before a restart: look through the ids once
            ids = self.store.ids_by_origin("faq", "shipped") | self.store.ids_by_origin("faq", "imported")
            entry_id = next((i for i in ids if entry_ref(i) == ref), None)
            if entry_id is None:
                return None
            self._refs[ref] = entry_id
        return self.store.entry(entry_id)

    def defer_writes(self) -> None:
        """Keep question counts and unanswered questions in memory until write_activity writes them."""
        self.store.defer_activity()

    def write_activity(self, conn: sqlite3.Connection) -> int:
        """Write what record() buffered on the caller's own connection; kept for a later try if it fails."""
        pending = self.store.take_pending()
        if not len(pending):
            return 0
        try:
            with conn:
                write_pending(conn, pending)
        except sqlite3.Error:
            self.store.restore_pending(pending)
            raise
        return len(pending)

    def record(self, result: Result, text: str, chat_type: str) -> None:
        """Count a question, and remember it when it went unanswered (for `rolebot review`)."""
        if result.kind in ("empty", "smalltalk", "more", "abuse", "request"):
            return  # nothing was asked that knowledge could answer
        self.store.count_question(result.topic if result.answered else None)
        if not result.answered and result.normalized:
            self.store.record_unanswered(result.normalized, text.strip()[:300], chat_type, result.candidates[:3])

    def topic(
        self, topic: str, reader: Reader = SIMPLIFIED_READER, *, short: bool = False, deep_link: str | None = None
    ) -> Answer | None:
        """Show one topic's answer (a follow-up or deep link), or None when unknown."""
        result = self.engine.show_topic(topic, reader)
        if not result.answered:
            return None
        link = deep_link.format(topic=topic) if deep_link else None
        return self._answer(result, short=short, deep_link=link)

    def more(self, entry_id: str, reader: Reader = SIMPLIFIED_READER) -> Reply | None:
        """Show the passage digests behind an entry (named by its id or a button's digest of it)."""
        entry = self.entry(entry_id)
        if entry is None:
            return None
        return render_passages(self.store.topic_passages(entry["topic"]), reader, self.text_limit)

    def browse(self, category: str, reader: Reader = SIMPLIFIED_READER) -> Reply | None:
        """List the questions under a browse category."""
        topics = self.vocab.browse.get(category)
        if topics is None:
            return None
        pairs = [(t, q) for t in topics if (q := self.engine.topic_question(t)) is not None]
        return render_topic_list(category, pairs, reader)

    def topic_question(self, topic: str) -> str | None:
        """Return a topic's main question, or None when unknown."""
        return self.engine.topic_question(topic)

    def welcome(self, reader: Reader = SIMPLIFIED_READER) -> Reply:
        """Return the welcome with the browse menu."""
        return render_welcome(self.categories, reader)

    def help(self, reader: Reader = SIMPLIFIED_READER, *, terminal: bool = False) -> Reply:
        """Return the help text (`terminal`: for `rolebot chat`, with how to leave it)."""
        return render_help(reader, terminal=terminal)

    def topics(self, reader: Reader = SIMPLIFIED_READER) -> Reply:
        """Return the browse menu without the greeting (/topics)."""
        return render_topics(self.categories, reader)

    def inline(self, text: str, limit: int = 10) -> list[InlineItem]:
        """Return answers for an inline query: the best topics, or popular ones for an empty query."""
        reader = SIMPLIFIED_READER
        if text.strip():
            result = self.engine.ask(text)
            reader = result.reader
            topics = ([result.topic] if result.answered and result.topic else []) + [
                c["topic"] for c in result.candidates if c["score"] >= 40
            ]
        else:
            topics = [t for ts in self.vocab.browse.values() for t in ts[:2]]
        items: list[InlineItem] = []
        for topic in dict.fromkeys(t for t in topics if t):
            answer = self.topic(topic, reader)
            if answer is None or not answer.result.answer:
                continue
            res = answer.result
            gist = res.answer.splitlines()[0] if res.answer else ""
            items.append(
                InlineItem(
                    res.entry_id or topic, reader.write(res.question or topic), reader.write(gist), answer.reply.html
                )
            )
            if len(items) >= limit:
                break
        return items

    def teach(self, question_key: str, topic: str, actor: str) -> str | None:
        """Add an unanswered question as a phrasing of a topic; return the question, or None."""
        from rolebot.kb.knowledge import add_phrasing

        rows = [r for r in self.store.unanswered() if r["question"] == question_key]
        if not rows:
            return None
        text = str(rows[0]["text"])
        if not add_phrasing(self.store, topic, text, actor, vocab=self.vocab):
            return None
        self.store.forget_unanswered(question_key)
        self.engine.refresh()
        return text

    def group_settings(self, chat_id: int) -> GroupSettings:
        """Return a group's settings (defaults when none are stored)."""
        return GroupSettings.from_dict(self.store.group_settings(chat_id))

    def save_group_settings(self, chat_id: int, settings: GroupSettings) -> None:
        """Store a group's settings."""
        self.store.save_group_settings(chat_id, settings.to_dict())

    def move_group(self, old_id: int, new_id: int) -> None:
        """Carry a group's settings over to its new (supergroup) id."""
        self.store.move_group(old_id, new_id)

    def review(self, since_days: float | None = None) -> Review:
        """Return the unanswered questions grouped by what they ask, with what to do with each, and feedback."""
        return Reviewer(self.store, self.vocab, self.engine.model).review(since_days)

    def stats(self) -> Stats:
        """Return questions per day, answer rate, top and disliked topics."""
        return build_stats(self.store)

    def import_files(
        self,
        paths: list[Path],
        dry_run: bool,
        actor: str | None = None,
        progress: Progress | None = None,
        allow_unknown_related: bool = False,
    ) -> ImportPlan:
        """Validate (and unless dry_run, import) knowledge files; the engine sees them at once."""
        plan = import_files(
            self.store,
            paths,
            dry_run=dry_run,
            actor=actor,
            answerer=self.confident_topic,
            progress=progress,
            allow_unknown_related=allow_unknown_related,
        )
        if not dry_run:
            self.engine.refresh()
        return plan

    def import_file(self, path: Path, dry_run: bool, actor: str | None = None) -> ImportPlan:
        """Validate (and unless dry_run, import) one knowledge file."""
        return self.import_files([path], dry_run=dry_run, actor=actor)

    def confident_topic(self, question: str) -> tuple[str, int] | None:
        """Return the topic and score the engine answers a question with today, if it answers."""
        result = self.engine.ask(question)
        return (result.topic, result.score) if result.answered and result.topic else None

    def unanswered_keys(self) -> list[str]:
        """Return the stored keys of unanswered questions."""
        return [str(r["question"]) for r in self.store.unanswered()]

    def user_hash(self, user_id: int | str) -> str:
        """Return a salted hash, so feedback is counted once per user without storing who."""
        return hashlib.sha256(f"{self.salt}:{user_id}".encode()).hexdigest()[:16]

    def feedback(self, entry_id: str, vote: int, user_id: int | str, chat_type: str = "private") -> bool:
        """Record a 👍 or 👎 on an entry (named by its id or a button's digest of it); False when unknown."""
        entry = self.entry(entry_id)
        if entry is None:
            return False
        vote = 1 if vote > 0 else -1
        self.store.record_feedback(entry["topic"], entry["id"], vote, chat_type, self.user_hash(user_id))
        return True
