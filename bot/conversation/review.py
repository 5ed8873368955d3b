"""Unanswered questions grouped by what they ask (the roles and the aspect), and what a maintainer can do with each.

A group's key is what the question asks, as the engine reads it: the roles the language layer finds, and the
aspect — a missing one (pay, interviews …) from the model's aspect reader, else the intent the language layer
reads (definition, difference, ability …). Two questions that share characters but not a meaning (营销号 and
营销人员的能力) fall in different groups; two wordings of one question (运营的工资一般多少, 运营工资高吗) in one.

A group is offered as a phrasing of a topic only when the topic's own phrasings ask that aspect of those roles
and the engine's calibrated score for it reached SUGGEST_AT; a missing aspect never is: it gets a draft entry
(`operations-pay`), to be written and imported.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from rolebot.engine.features import COVERED
from rolebot.engine.pipeline import ASPECT_AT
from rolebot.engine.ranker import Model, load_model
from rolebot.kb.review import SUGGEST_AT, Cluster, Draft, Review, TopicScore, build_review, iso
from rolebot.language import segment
from rolebot.language.light import is_light
from rolebot.language.understand import understand
from rolebot.language.vocabulary import Vocabulary, vocabulary
from rolebot.store.schema import UnansweredRow
from rolebot.store.store import Store

# the intent a question is filed under when it reads several: the most specific first (区别是什么 asks a difference)
INTENT_ORDER = ("difference", "relation", "structure", "process", "ability", "career", "translation", "definition")
# a review errs towards a draft: a covered question filed as a missing aspect costs a draft to write, a missing
# aspect filed as covered could teach a topic to answer what it does not. So an unanswered question is read as
# asking a missing aspect when the reader names it (ASPECT_AT, as the engine does), or when the reader is less
# sure than this that it is covered and one missing aspect holds at least half of the rest (运营工资高吗:
# covered 0.67, salary 0.18 of 0.33)
SURE_COVERED = 0.9
MAX_READINGS = 50_000  # questions whose reading a reviewer keeps
MIN_PHRASINGS = 2  # a topic asks a reading when this many of its phrasings read so (one stray alternate does not)

ROLE_SLUGS = {
    "营销": "marketing",
    "销售": "sales",
    "市场": "market",
    "运营": "operations",
    "用户运营": "user-operations",
    "内容运营": "content-operations",
    "活动运营": "activity-operations",
    "产品运营": "product-operations",
    "新媒体运营": "new-media-operations",
    "电商运营": "ecommerce-operations",
    "kol运营": "kol-operations",
    "kol": "kol",
    "广告投放运营": "ad-operations",
    "互联网运营": "internet-operations",
    "传统运营": "traditional-operations",
    "大运营": "broad-operations",
    "产品经理": "product-manager",
    "推广": "promotion",
    "推销": "selling",
    "分销": "distribution",
    "渠道": "channels",
    "营销组合": "marketing-mix",
    "营销策划": "marketing-planning",
    "销售策划": "sales-planning",
    "营销总监": "marketing-director",
    "运营总监": "operations-director",
    "商务拓展": "business-development",
    "品牌": "brand",
    "促销": "sales-promotion",
    "节日营销": "holiday-marketing",
    "事件营销": "event-marketing",
    "会议营销": "conference-marketing",
    "市场学": "marketing-science",
    "需求管理": "demand-management",
}
# a draft's topic id: roles and aspect ({} is where the roles go)
ASPECT_IDS = {
    "salary": "{}-pay",
    "interview": "{}-interviews",
    "resume": "{}-resume",
    "certificate": "{}-certificates",
    "tools": "{}-tools",
    "workload": "{}-workload",
    "education": "{}-education",
    "age": "{}-age",
    "industry": "{}-industries",
    "city": "{}-cities",
    "employment": "{}-employment",
    "company": "{}-companies",
    "other-job": "{}-other-jobs",
    "near-role": "{}-near-roles",
    "theory-detail": "{}-theory",
    "how-to": "{}-how-to",
    "life": "{}-life",
    "word-sense": "{}-word-sense",
    "definition": "what-is-{}",
    "difference": "{}-difference",
    "ability": "{}-skills",
    "career": "career-{}",
    "process": "{}-process",
    "relation": "{}-relation",
    "structure": "{}-structure",
    "translation": "{}-translation",
    "": "{}-questions",
}


@dataclass(frozen=True)
class Reading:
    """What one unanswered question asks: our roles in it, the aspect, and whether the knowledge lacks that aspect."""

    roles: tuple[str, ...]
    aspect: str  # a missing kind ("salary"), else the intent read ("ability"), or "" when none is read
    missing: bool
    subject: tuple[str, ...] = ()  # for a question naming none of our roles: its content words, what it is about

    @property
    def key(self) -> tuple[object, ...]:
        """Return what groups questions: the same roles asking the same aspect (or, without roles, the same thing)."""
        return (self.roles, self.aspect, self.missing, self.subject)


def primary_intent(intents: Iterable[str]) -> str:
    """Return the intent a question is filed under, or "" when it reads none."""
    found = set(intents)
    return next((i for i in INTENT_ORDER if i in found), min(found, default=""))


def missing_aspect(model: Model, words: Iterable[str]) -> str | None:
    """Return the missing aspect the aspect reader reads in a question's words, or None when it reads it covered."""
    if model.aspects is None:
        return None
    votes = model.aspects.probabilities("".join(words))
    covered = votes.get(COVERED, 0.0)
    rest = [(k, p) for k, p in votes.items() if k != COVERED]
    if not rest:
        return None
    kind, p = max(rest, key=lambda kp: kp[1])
    if p >= ASPECT_AT or (covered < SURE_COVERED and p >= (1.0 - covered) / 2):
        return kind
    return None


class Reviewer:
    """Groups a store's unanswered questions by what they ask and says what to do with each group."""

    def __init__(self, store: Store, vocab: Vocabulary | None = None, model: Model | None = None) -> None:
        self.store = store
        self.vocab = vocab or vocabulary()
        self.model = model or load_model()
        self._readings: dict[str, Reading] = {}  # by stored question key: a question is read once per reviewer
        self._topics: dict[str, Counter[tuple[tuple[str, ...], str]]] = {}
        self._words: dict[str, frozenset[str]] = {}  # each topic's words: its phrasings' and its answers'
        self._known: frozenset[str] | None = None  # every topic's words
        self._version: object = None
        self._lock = threading.Lock()  # one review at a time: /review and a tap may read in two threads

    def read(self, text: str) -> Reading:
        """Return what a question asks."""
        query = understand(text, self.vocab)
        roles = tuple(sorted(query.entities))
        if roles and (kind := missing_aspect(self.model, query.words)) is not None:
            return Reading(roles, kind, True)
        intent = primary_intent(query.intents)
        if roles:
            return Reading(roles, intent, False)
        cues = self.vocab.cue_words
        return Reading((), intent, False, tuple(sorted({w for w in query.content if w not in cues})))

    def reading(self, row: UnansweredRow) -> Reading:
        """Return what a stored question asks (read from its words as typed, the way the engine read it)."""
        key = row["question"]
        found = self._readings.get(key)
        if found is None:
            if len(self._readings) >= MAX_READINGS:  # a long-running bot's questions come and go
                self._readings.clear()
            found = self._readings[key] = self.read(row["text"] or key)
        return found

    def _fresh(self) -> None:
        """Forget what was read of the topics when the knowledge changed."""
        version = self.store.knowledge_version()
        if version != self._version:
            self._topics.clear()
            self._words.clear()
            self._known = None
            self._version = version

    def words_of(self, topic: str) -> frozenset[str]:
        """Return the words a topic's phrasings and answers use."""
        self._fresh()
        found = self._words.get(topic)
        if found is None:
            words = {w for _, tokens in self.store.topic_phrasings(topic) for w in tokens}
            for entry in self.store.topic_entries(topic):
                words.update(segment.words(entry["answer"]))
            found = self._words[topic] = frozenset(words)
        return found

    def known(self) -> frozenset[str]:
        """Return the words any topic uses."""
        self._fresh()
        if self._known is None:
            self._known = frozenset().union(*(self.words_of(t) for t, _, _ in self.store.topics()))
        return self._known

    def foreign(self, topic: str, words: Iterable[str]) -> list[str]:
        """Return a question's words that the knowledge uses but this topic never does (设计 for what-is-market)."""
        vocab = self.vocab
        own, known = self.words_of(topic), self.known()
        return [
            w
            for w in words
            if len(w) > 1
            and w not in vocab.roles
            and w not in vocab.cue_words
            and w not in vocab.stopwords
            and not is_light(w)
            and w in known
            and w not in own
        ]

    def readings_of(self, topic: str) -> Counter[tuple[tuple[str, ...], str]]:
        """Return how many of a topic's phrasings ask each (roles, intent)."""
        self._fresh()
        counts = self._topics.get(topic)
        if counts is None:
            counts = Counter()
            for text, _ in self.store.topic_phrasings(topic):
                query = understand(text, self.vocab)
                roles = tuple(sorted(query.entities))
                for intent in query.intents or {""}:
                    counts[(roles, intent)] += 1
            self._topics[topic] = counts
        return counts

    def answers(self, topic: str, reading: Reading, group: list[UnansweredRow]) -> bool:
        """Say whether a topic's answer answers what a group asks: its phrasings ask that aspect of those roles,
        and it speaks of everything the questions name that the knowledge speaks of somewhere."""
        if reading.missing or not reading.roles:
            return False
        counts = self.readings_of(topic)
        need = min(MIN_PHRASINGS, sum(counts.values()) or 1)
        if counts.get((reading.roles, reading.aspect), 0) < need:
            return False
        return not any(self.foreign(topic, self.content(row)) for row in group)

    def content(self, row: UnansweredRow) -> tuple[str, ...]:
        """Return a stored question's content words."""
        return understand(row["text"] or row["question"], self.vocab).content

    def group(self, rows: list[UnansweredRow]) -> list[Cluster]:
        """Group unanswered questions by what they ask, most asked first."""
        segment.prepare(self.vocab)
        groups: dict[tuple[object, ...], list[UnansweredRow]] = {}
        readings: dict[tuple[object, ...], Reading] = {}
        for row in rows:
            reading = self.reading(row)
            groups.setdefault(reading.key, []).append(row)
            readings.setdefault(reading.key, reading)
        out = [self._cluster(readings[k], g) for k, g in groups.items()]
        out.sort(key=lambda c: (-c["count"], c["question"]))
        return out

    def _cluster(self, reading: Reading, group: list[UnansweredRow]) -> Cluster:
        """Return a group's most asked wording, counts, candidates and suggestion (a topic, or a draft entry)."""
        wording: Counter[str] = Counter()
        scores: dict[str, int] = {}
        group = sorted(group, key=lambda r: -r["count"])  # the most asked first: its key is the one a tap adds
        for row in group:
            wording[row["text"]] += row["count"]
            for c in row["candidates"]:
                scores[c["topic"]] = max(scores.get(c["topic"], 0), int(c["score"]))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        candidates: list[TopicScore] = [{"topic": t, "score": s} for t, s in ranked[:3]]
        # the calibrated score says the engine came close; the topic's phrasings say it answers this aspect
        suggestion = next((t for t, s in ranked if s >= SUGGEST_AT and self.answers(t, reading, group)), None)
        question = max(wording.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]
        variants = sorted({r["text"] for r in group})
        draft = None
        if suggestion is None and reading.roles:
            draft = self.draft(reading, question, [v for v in variants if v != question], [t for t, _ in ranked[:3]])
        return {
            "question": question,
            "count": sum(r["count"] for r in group),
            "first_seen": iso(min(r["first_seen"] for r in group)),
            "last_seen": iso(max(r["last_seen"] for r in group)),
            "candidates": candidates,
            "suggestion": suggestion,
            "variants": variants,
            "keys": [r["question"] for r in group],
            "roles": list(reading.roles),
            "aspect": reading.aspect,
            "missing": reading.missing,
            "new_entry": draft,
            "about": list(reading.subject),
        }

    def draft(self, reading: Reading, question: str, alternates: list[str], related: list[str]) -> Draft:
        """Return a new entry for a group, pre-filled but for its answer and sources: a maintainer writes those."""
        topic = topic_id(reading)
        if self.store.topic_question(topic) is not None:  # that topic exists but answers something else
            vocab = self.vocab
            query = understand(question, vocab)
            extra = [w for w in query.content if w not in vocab.roles and w not in vocab.cue_words and len(w) > 1]
            topic = f"{topic}-{_slug(extra[-1]) if extra else hashlib.sha1(question.encode()).hexdigest()[:6]}"
        return {
            "id": topic,
            "kind": "faq",
            "topic": topic,
            "question": question,
            "alternates": alternates[:20],
            "answer": "",
            "sources": [],
            "related": [t for t in related if t != topic],
            "tags": list(reading.roles),
        }

    def review(self, since_days: float | None = None) -> Review:
        """Return the unanswered questions grouped by what they ask, and feedback per topic."""
        with self._lock:
            return build_review(self.store, since_days, self.group)


def topic_id(reading: Reading) -> str:
    """Return a new topic's id from roles and aspect: operations-pay, marketing-skills, what-is-market."""
    roles = "-".join(_slug(r) for r in reading.roles) or "other"
    pattern = ASPECT_IDS.get(reading.aspect, "{}-" + (_slug(reading.aspect) or "questions"))
    if reading.aspect == "difference" and len(reading.roles) == 2:
        return "-vs-".join(_slug(r) for r in reading.roles)
    return pattern.format(roles)


def _slug(word: str) -> str:
    """Return a role's name in a topic id (its English name, else its pinyin)."""
    if word in ROLE_SLUGS:
        return ROLE_SLUGS[word]
    if word.isascii():
        return "".join(ch if ch.isalnum() else "-" for ch in word.lower()).strip("-")
    from pypinyin import lazy_pinyin  # only for a role the table above lacks: its import costs half a second

    return "-".join(p for p in lazy_pinyin(word) if p.isascii() and p.isalnum()) or "role"


DRAFT_HEAD = (
    "# 新条目草稿（rolebot review 生成）：写好 answer 和 sources（每条来源一个 title），\n"
    "# 需要的话改 id、topic 和问法，然后 rolebot import 本文件（先加 --dry-run 看看）。\n"
)


def draft_yaml(drafts: list[Draft]) -> str:
    """Return draft entries as a YAML file ready to edit and import."""
    body = yaml.safe_dump(list(drafts), allow_unicode=True, sort_keys=False, width=1000)
    return DRAFT_HEAD + body
