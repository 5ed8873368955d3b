"""Train the ranker from the knowledge itself and write bot/engine/model.json (and classifier.npy beside it).

Positives and in-topic negatives: every FAQ phrasing, asked with its cross-validation fold's phrasings hidden
from the index (grouped k-fold), so a phrasing never finds itself. Out-of-scope negatives: the curated bank in
knowledge/out_of_scope.yaml, plus questions generated from the knowledge (a role swapped for another job; a role
asked about an aspect we do not cover). Every (question, shortlisted topic) pair is one row; the label says
whether that topic answers the question.

The model is boosted trees (or a logistic regression) over named pair features (rolebot.engine.features), its
probability then calibrated: Platt scaling of the best topic's log-odds against how often it is right, fitted on
the out-of-fold probabilities. The reliability table and the outcome thresholds (answer / choice / related), chosen
to keep confidently wrong answers on the cross-validated questions at or under --max-wrong, are computed on
probabilities calibrated by a map fitted on the other folds only. Needs scikit-learn
(`pip install -e ".[train]"`); the shipped bot does not.

  python scripts/train.py            # train, print the tables, write the model
  python scripts/train.py --check    # train and print, write nothing
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from rolebot.config import knowledge_dir  # noqa: E402
from rolebot.engine.classifier import TopicClassifier  # noqa: E402
from rolebot.engine.engine import Engine  # noqa: E402
from rolebot.engine.features import FEATURES, NONE, CharSpace, char_grams, cosine  # noqa: E402
from rolebot.engine.points import Points  # noqa: E402
from rolebot.engine.ranker import Model, Thresholds, Tree, featurizer_hash, write_model  # noqa: E402
from rolebot.kb.knowledge import open_store, shipped_points, training_fingerprint  # noqa: E402
from rolebot.language import segment  # noqa: E402
from rolebot.language.normalize import normalize  # noqa: E402
from rolebot.language.vocabulary import vocabulary  # noqa: E402
from rolebot.store.store import Store  # noqa: E402

MODEL_PATH = ROOT / "bot" / "engine" / "model.json"
FOLDS = 4
TREES = 150
CLASSIFIER_C = 10.0
GROUP_AT = 0.5
SEED = 7
REAL_TRAIN = ROOT.parent / "shared" / "eval" / "real-train.jsonl"  # training and calibration only

# Jobs the knowledge does not cover, to swap in for ours (none of them is a role or alias in the vocabulary).
OTHER_JOBS = (
    "会计", "出纳", "人事", "行政", "财务", "采购", "客服", "法务", "审计", "程序员", "测试", "设计师",
    "律师", "教师", "护士", "前台", "仓管", "物流", "司机", "文员", "质检", "厨师", "保安", "猎头",
    "工程师", "运维", "药剂师", "建筑师", "导游", "记者", "快递员", "服务员", "银行柜员", "公务员", "警察", "医生",
    "飞行员", "摄影师", "翻译官", "保洁", "电工", "会计师",
)  # fmt: skip
JOB_ENDINGS = ("营销", "销售", "市场", "运营", "产品经理", "总监", "推销")
# Jobs with the same title as one of ours (运营总监 / 财务总监, 产品经理 / 项目经理): swapped in for a role with that
# title, they make the hardest negatives, questions that read like ours but are about another job.
NEAR_JOBS = {
    "总监": ("财务总监", "技术总监", "人力总监", "设计总监", "研发总监", "行政总监", "采购总监", "创意总监"),
    "经理": ("项目经理", "总经理", "人事经理", "财务经理", "研发经理", "采购经理", "质量经理", "生产经理"),
}  # fmt: skip
# Aspects of our roles the knowledge does not answer, each with the kind of thing it asks (out_of_scope.yaml's
# kinds, and a few more): the aspect reader learns from them what a question asks that we have no material on.
ASPECT_KINDS = {
    "工资一般多少": "salary", "面试一般问什么": "interview", "简历怎么写": "resume", "要考什么证书": "certificate",
    "常用哪些软件": "tools", "加班多不多": "workload", "提成怎么算": "salary", "需要什么学历": "education",
    "年终奖有多少": "salary", "试用期一般多久": "employment", "社保怎么交": "employment", "招聘要求是什么": "interview",
    "用什么电脑好": "tools", "在哪个城市发展好": "city", "穿什么衣服上班": "life", "考研选什么专业": "education",
    "五险一金交多少": "employment", "周末双休吗": "workload", "离职要提前多久说": "employment",
    "劳动合同怎么签": "employment", "出差补贴怎么算": "salary", "体检查什么": "employment",
    "一个月能拿多少钱": "salary", "底薪高不高": "salary", "待遇怎么样": "salary", "年薪能到多少": "salary",
    "面试怎么准备": "interview", "面试自我介绍怎么说": "interview", "简历上写什么": "resume",
    "要不要考资格证": "certificate", "用什么工具": "tools", "要学Excel吗": "tools", "累不累": "workload",
    "经常加班吗": "workload", "对学历有要求吗": "education", "要读什么专业": "education",
    "多大年纪转行来得及": "age", "三十五岁以后还能做吗": "age", "选什么行业好": "industry",
    "哪个行业前景好": "industry", "去哪个城市好": "city", "在北京好找吗": "city",
}  # fmt: skip
ASPECTS = tuple(ASPECT_KINDS)
COVERED = "covered"  # the aspect reader's class of what the knowledge does answer


# Context and chatter people put around a question; a topic still answers the question inside.
PREFIXES = (
    "请问", "想问一下，", "小白求问：", "一直搞不懂，", "刚毕业，", "我是应届生，", "在传统行业干了几年，",
    "朋友问我", "老板让我搞清楚", "说实话，", "大家觉得", "有没有懂行的，", "新人提问：", "纠结很久了，",
    "公司刚成立，", "最近在找工作，", "身边的人都说不清，", "如题，", "话说", "那么", "问个可能很蠢的问题：",
    "背景：本科学的管理，", "在一家小公司上班，", "面试前想弄明白，", "看了很多文章还是糊涂，", "领导开会提到这个，",
    "我是做财务的，好奇", "不好意思打扰一下，",
)  # fmt: skip
SUFFIXES = (
    "？", "，求解答", "，谢谢", "，有没有人能讲讲", "，在线等", "？急", "，通俗点说", "，说简单点", "呢",
    "啊", "，大家怎么看", "，求科普", "？真心求教", "，想听听过来人的看法", "？我一直分不清", "，我该怎么理解",
    "？能举个例子吗", "，越详细越好", "？本人小白", "，求大神指点", "？好纠结啊", "，在线蹲一个回答",
    "？有没有人回答一下", "，拜托了！", "？感觉网上说法都不一样", "，谢谢各位！", "，最近很困惑",
)  # fmt: skip
AUGMENTED = 1.0
ISOTONIC_SHARE = 0.7  # the calibration map's share of isotonic regression (the rest: Platt scaling)
RELATED_AT = 0.02  # a topic this likely is worth showing as "the closest we have" to a question naming our roles


@dataclass
class Question:
    """One training question: its text, the topic that answers it (None: none does) and its fold."""

    text: str
    topic: str | None
    fold: int
    source: str  # "phrasing" | "claim" | "augmented" | "bank" | "generated" | "real"
    also: frozenset[str] = frozenset()  # other topics whose answer answers it (a real question's labels)


def knowledge_questions(engine: Engine, rng: random.Random) -> tuple[list[Question], list[str]]:
    """Return every FAQ phrasing as a question with its topic and a fold, and the canonical questions.

    Folds are dealt per group of near-identical phrasings of a topic (character cosine >= GROUP_AT), so a
    held-out phrasing never finds its own near-twin: it looks to the scorer as a new question would.
    """
    out: list[Question] = []
    canonical: list[str] = []
    seen: set[str] = set()
    space = engine.model.space
    for rec in engine.store.iter_records():
        if rec["kind"] != "faq":
            continue
        canonical.append(rec["question"])
        groups: list[tuple[dict[str, float], int]] = []  # (first member's vector, fold)
        for text in [rec["question"], *rec["alternates"]]:
            if text in seen:
                continue
            seen.add(text)
            vec = space.vector(wording(text))
            fold = next((f for v, f in groups if cosine(vec, v) >= GROUP_AT), None)
            if fold is None:
                fold = rng.randrange(FOLDS)
                groups.append((vec, fold))
            kind = "claim" if "claim" in rec["tags"] else "phrasing"
            out.append(Question(text, rec["topic"], fold, kind))
            if rng.random() < AUGMENTED:
                # hidden with its fold like the phrasing it wraps, so it cannot find that phrasing either
                out.append(Question(_frame(text, rng), rec["topic"], fold, "augmented"))
    return out, canonical


def _frame(text: str, rng: random.Random) -> str:
    """Return a question with context before it, chatter after it, or both."""
    core = text.rstrip("？?。！!")
    pick = rng.random()
    head = rng.choice(PREFIXES) if pick < 0.7 else ""
    tail = rng.choice(SUFFIXES) if pick > 0.4 else ""
    return f"{head}{core}{tail}"


def real_questions(rng: random.Random, path: Path = REAL_TRAIN) -> list[Question]:
    """Return real questions people posted online (most near-domain ones our sources do not answer), if present.

    They train and calibrate like the bank; real-dev.jsonl beside them is a test set and is never read here."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        topics = row["topic"] if isinstance(row["topic"], list) else [row["topic"]] if row["topic"] else []
        first = topics[0] if topics else None
        out.append(Question(str(row["q"]), first, rng.randrange(FOLDS), "real", frozenset(topics[1:])))
    return out


def bank_questions(rng: random.Random) -> list[Question]:
    """Return the curated out-of-scope questions."""
    data = yaml.safe_load((knowledge_dir() / "out_of_scope.yaml").read_text(encoding="utf-8"))
    return [Question(str(q["q"]), None, rng.randrange(FOLDS), "bank") for q in data["questions"]]


def generated_questions(phrasings: list[Question], rng: random.Random, limit: int = 700) -> list[Question]:
    """Return questions our knowledge must not answer, made from its own phrasings and roles.

    Each fold gets its own jobs and aspects, so what a held-out fold asks about was never seen in training.
    """
    vocab = vocabulary()
    roles = sorted(vocab.roles, key=len, reverse=True)
    # swap jobs only: 4P, 德鲁克 or 渠道 are roles of the vocabulary but not jobs someone could do instead
    jobs = [r for r in roles if r.endswith(JOB_ENDINGS)]
    plain = [r for r in jobs if not r.isascii()]
    out: list[Question] = []
    ASPECT_OF.clear()
    for fold in range(FOLDS):
        others = OTHER_JOBS[fold::FOLDS]
        swapped: list[str] = []
        for q in phrasings:
            if q.source != "phrasing" or q.fold != fold:
                continue
            norm = normalize(q.text, vocab).text
            present = [r for r in jobs if r in norm]
            if not present or len(present) > len(others) or any(r in norm for r in roles if r not in jobs):
                continue
            text = norm
            for role, job in zip(present, _swaps(present, others, fold, rng), strict=True):
                text = text.replace(role, job)
            if not any(r in text for r in roles):
                swapped.append(text)  # every role swapped: a question about other jobs
            if len(present) == 2:
                job = _swaps(present[:1], others, fold, rng)[0]
                swapped.append(norm.replace(present[0], job))  # one of ours beside another job
        aspects = []
        for r in plain:
            for a in ASPECTS[fold::FOLDS]:
                text = f"{r}{rng.choice(['', '岗位', '这行', '的'])}{a}"
                aspects.append(text)
                ASPECT_OF[text] = ASPECT_KINDS[a]
        rng.shuffle(swapped)
        rng.shuffle(aspects)
        share = limit // (2 * FOLDS)
        for text in dict.fromkeys(swapped[:share] + aspects[:share]):
            out.append(Question(text, None, fold, "generated"))
    return out


ASPECT_OF: dict[str, str] = {}  # a generated aspect question's kind (filled by generated_questions)


def bank_kinds() -> dict[str, str]:
    """Return the kind of every curated out-of-scope question (why the knowledge does not answer it)."""
    data = yaml.safe_load((knowledge_dir() / "out_of_scope.yaml").read_text(encoding="utf-8"))
    return {str(q["q"]): str(q.get("kind") or NONE) for q in data["questions"]}


def fit_aspects(questions: list[Question]) -> TopicClassifier:
    """Fit the aspect reader: what a question asks that the knowledge has no material on (salary, interview,
    a company, another job …), or `covered`; from the bank's kinds, the generated aspects and the phrasings."""
    kinds = bank_kinds()
    chosen: list[Question] = []
    labels: list[str] = []
    for q in questions:
        kind = kinds.get(q.text) if q.source == "bank" else ASPECT_OF.get(q.text) if q.source == "generated" else None
        if q.source in ("phrasing", "augmented"):
            kind = COVERED
        if kind:
            chosen.append(q)
            labels.append(kind)
    return fit_classifier(chosen, labels=labels)


def _swaps(present: list[str], others: tuple[str, ...], fold: int, rng: random.Random) -> list[str]:
    """Return a distinct other job for each role, one with the same title (总监, 经理) when the role has one."""
    picked: list[str] = []
    for role in present:
        near = next((jobs[fold::FOLDS] for title, jobs in NEAR_JOBS.items() if role.endswith(title)), ())
        pool = [j for j in (near if near and rng.random() < 0.7 else others) if j not in picked]
        picked.append(rng.choice(pool or [j for j in others if j not in picked]))
    return picked


def char_idf(texts: list[str]) -> tuple[dict[str, float], float]:
    """Return smoothed IDF of character n-grams over the phrasings, and the IDF of an unseen n-gram."""
    df: Counter[str] = Counter()
    for t in texts:
        df.update(set(char_grams(t)))
    n = len(texts)
    idf = {g: round(math.log((n + 1) / (c + 1)) + 1.0, 4) for g, c in df.items() if c >= 2}
    return idf, round(math.log((n + 1) / 1.5) + 1.0, 4)


@dataclass
class Pairs:
    """Feature rows with labels, and which question each row belongs to."""

    rows: list[list[float]]
    labels: list[int]
    question: list[int]
    topics: list[str]


def off_topic_words(questions: list[Question], known: set[str], min_count: int = 2) -> frozenset[str]:
    """Return words that recur in out-of-scope questions and that no phrasing of the knowledge asks with."""
    vocab = vocabulary()
    counts: Counter[str] = Counter()
    for q in questions:
        if q.topic is None:
            words = segment.content(segment.words(normalize(q.text, vocab).text), vocab)
            counts.update(w for w in set(words) if w not in known and w not in vocab.roles and len(w) > 1)
    return frozenset(w for w, c in counts.items() if c >= min_count)


def known_words(engine: Engine) -> set[str]:
    """Return every word the knowledge's phrasings ask with."""
    words: set[str] = set()
    for topic, _, _ in engine.store.topics():
        words.update(w for _, toks in engine.store.topic_phrasings(topic) for w in toks)
    return words


def wording(text: str) -> str:
    """Return a question's words joined, as the engine hands them to the classifier."""
    return "".join(segment.words(normalize(text, vocabulary()).text))


def fit_classifier(
    questions: list[Question], c: float = CLASSIFIER_C, labels: list[str] | None = None
) -> TopicClassifier:
    """Fit the topic classifier on questions (out-of-scope ones as the class NONE), or on other labels."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    texts = [wording(q.text) for q in questions]
    labels = labels or [q.topic or NONE for q in questions]
    df: Counter[str] = Counter()
    for t in texts:
        df.update(set(char_grams(t)))
    n = len(texts)
    grams = sorted(g for g, k in df.items() if k >= 2)
    col = {g: i for i, g in enumerate(grams)}
    idf = {g: math.log((1 + n) / (1 + df[g])) + 1.0 for g in grams}
    data, rows, cols = [], [], []
    for r, t in enumerate(texts):
        vec = {g: (1.0 + math.log(k)) * idf[g] for g, k in char_grams(t).items() if g in col}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        for g, v in vec.items():
            data.append(v / norm)
            rows.append(r)
            cols.append(col[g])
    x = csr_matrix((data, (rows, cols)), shape=(n, len(grams)))
    lr = LogisticRegression(C=c, max_iter=3000)
    lr.fit(x, np.asarray(labels))
    classes = tuple(str(k) for k in lr.classes_)
    weights = {}
    for i, g in enumerate(grams):
        w = lr.coef_[:, i]
        if np.abs(w).max() >= 0.02:  # drop n-grams that move no class: a smaller file, the same votes
            weights[g] = tuple(round(float(v), 3) for v in w)
    return TopicClassifier(
        classes, {g: round(idf[g], 4) for g in weights}, weights, tuple(round(float(b), 4) for b in lr.intercept_)
    )


@dataclass
class Fold:
    """What a held-out fold is scored with: its hidden phrasings, and the off-topic words and classifier
    learnt without it."""

    hidden: frozenset[str]
    off_topic: frozenset[str]
    classifier: TopicClassifier
    aspects: TopicClassifier


def collect(engine: Engine, questions: list[Question], known: set[str], rng: random.Random) -> tuple[Pairs, list[Fold]]:
    """Ask every question with its fold hidden; off-topic words and the classifier come from the other folds.

    Each fold's classifier is also kept from a quarter of the topics, as if they had been imported after
    training, so the scorer learns to judge a topic the classifier does not know.
    """
    pairs = Pairs([], [], [], [])
    folds: list[Fold] = []
    base = engine.model
    topics = sorted({q.topic for q in questions if q.topic})
    for fold in range(FOLDS):
        lexicon = off_topic_words([q for q in questions if q.fold != fold], known)
        unknown = set(rng.sample(topics, len(topics) // 4))
        clf = fit_classifier([q for q in questions if q.fold != fold and q.topic not in unknown])
        hidden = frozenset(q.text for q in questions if q.fold == fold and q.source in ("phrasing", "claim"))
        # the fold's own pipeline: its phrasings hidden, its off-topic words and classifier
        aspects = fit_aspects([q for q in questions if q.fold != fold])
        model = dataclasses.replace(base, off_topic=lexicon, classifier=clf, aspects=aspects)
        pipeline = engine.fold(hidden, model)
        folds.append(Fold(hidden, lexicon, clf, aspects))
        for qi, q in enumerate(questions):
            if q.fold != fold:
                continue
            _, found, table = pipeline.pairs(q.text)
            for s, row in zip(found, table.rows, strict=True):
                pairs.rows.append(row)
                pairs.labels.append(int(s.topic == q.topic or s.topic in q.also))
                pairs.question.append(qi)
                pairs.topics.append(s.topic)
    return pairs, folds


def fit(rows: list[list[float]], labels: list[int], c: float) -> tuple[list[float], list[float], list[float], float]:
    """Fit a standardised logistic regression; return mean, scale, coefficients, intercept."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit((x - mean) / scale, np.asarray(labels))
    return mean.tolist(), scale.tolist(), lr.coef_[0].tolist(), float(lr.intercept_[0])


def bootstrap_model(space: CharSpace) -> Model:
    """Return a model that only carries the n-gram space (features are computed before any weights exist)."""
    zeros = tuple(0.0 for _ in FEATURES)
    ones = tuple(1.0 for _ in FEATURES)
    return Model(FEATURES, zeros, ones, zeros, 0.0, Thresholds(1.0, 0.0, 1.0, 1.0), space, frozenset(), "")


def fit_trees(rows: list[list[float]], labels: list[int]) -> Any:
    """Fit gradient-boosted trees; return the fitted estimator."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    gb = HistGradientBoostingClassifier(
        max_iter=TREES, max_depth=3, learning_rate=0.1, l2_regularization=1.0, min_samples_leaf=40, random_state=0
    )
    gb.fit(np.asarray(rows, dtype=float), np.asarray(labels))
    return gb


def export_trees(gb: Any) -> tuple[Tree, ...]:
    """Return a fitted HistGradientBoostingClassifier's trees as flat arrays (its node layout, leaves -1)."""
    out = []
    for (predictor,) in gb._predictors:
        nodes = predictor.nodes
        out.append(
            Tree(
                feature=tuple(-1 if n["is_leaf"] else int(n["feature_idx"]) for n in nodes),
                threshold=tuple(float(n["num_threshold"]) for n in nodes),
                left=tuple(int(n["left"]) for n in nodes),
                right=tuple(int(n["right"]) for n in nodes),
                value=tuple(float(n["value"]) for n in nodes),
            )
        )
    return tuple(out)


def out_of_fold(pairs: Pairs, questions: list[Question], c: float, kind: str = "linear") -> list[float]:
    """Return each row's probability from a model fitted on the other folds."""
    probs = [0.0] * len(pairs.rows)
    for fold in range(FOLDS):
        train = [i for i, qi in enumerate(pairs.question) if questions[qi].fold != fold]
        test = [i for i, qi in enumerate(pairs.question) if questions[qi].fold == fold]
        if kind == "trees":
            gb = fit_trees([pairs.rows[i] for i in train], [pairs.labels[i] for i in train])
            for i, p in zip(test, gb.predict_proba([pairs.rows[i] for i in test])[:, 1], strict=True):
                probs[i] = float(p)
            continue
        mean, scale, coef, icpt = fit([pairs.rows[i] for i in train], [pairs.labels[i] for i in train], c)
        for i in test:
            z = icpt + sum(k * (x - m) / s for k, x, m, s in zip(coef, pairs.rows[i], mean, scale, strict=True))
            probs[i] = 1 / (1 + math.exp(-z))
    return probs


@dataclass
class Ranked:
    """One question's topics by probability."""

    expected: str | None
    source: str
    top: list[tuple[float, str]]
    accepted: frozenset[str] = frozenset()  # topics that answer it: the expected one and those covering it
    also: frozenset[str] = frozenset()  # other topics its label names (a real question labelled with several)

    @property
    def labelled(self) -> frozenset[str]:
        """Return the topics its label names (none for an out-of-scope question): what calibration counts as right."""
        return frozenset() if self.expected is None else frozenset({self.expected}) | self.also

    @property
    def answered_by(self) -> frozenset[str]:
        """Return the topics whose answer is right for it (just the expected one when `accepted` was not given)."""
        return self.accepted or (frozenset() if self.expected is None else frozenset({self.expected}))


def covering() -> dict[str, frozenset[str]]:
    """Return, per topic, the topics whose answer also answers its questions (knowledge/overlaps.yaml)."""
    path = knowledge_dir() / "overlaps.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    out: dict[str, set[str]] = {}
    for broad, narrow in ((data or {}).get("covers") or {}).items():
        for topic in narrow:
            out.setdefault(str(topic), set()).add(str(broad))
    return {t: frozenset(b) for t, b in out.items()}


def accepted(topic: str | None, covers: dict[str, frozenset[str]]) -> frozenset[str]:
    """Return the topics that answer a question of this topic (none for an out-of-scope question)."""
    return frozenset() if topic is None else frozenset({topic}) | covers.get(topic, frozenset())


def ranked_questions(pairs: Pairs, probs: list[float], questions: list[Question]) -> list[Ranked]:
    """Group row probabilities by question, best first."""
    covers = covering()
    by_q: dict[int, list[tuple[float, str]]] = {i: [] for i in range(len(questions))}
    for i, qi in enumerate(pairs.question):
        by_q[qi].append((probs[i], pairs.topics[i]))
    return [
        Ranked(q.topic, q.source, sorted(tops, reverse=True), accepted(q.topic, covers) | q.also, q.also)
        for qi, tops in by_q.items()
        for q in (questions[qi],)
    ]


def fit_calibration(ranked: list[Ranked]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Fit a monotone map from a best topic's fitted probability to how often it is a topic its label names:
    isotonic regression on the log-odds (it follows the mid-range, where Platt scaling was ~11 points low)
    blended with a third of Platt scaling, which smooths its steps and keeps the map rising strictly (no two
    fitted probabilities tie after it); returned as points of a piecewise-linear map."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    tops = [r for r in ranked if r.top]
    p = np.clip(np.asarray([r.top[0][0] for r in tops]), 1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p))
    right = [int(r.top[0][1] in r.labelled) for r in tops]
    platt = LogisticRegression(C=100.0).fit(logit.reshape(-1, 1), right)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(logit, right)
    z = np.linspace(-12, 12, 241)
    xs = 1 / (1 + np.exp(-z))
    ys = ISOTONIC_SHARE * iso.predict(z) + (1 - ISOTONIC_SHARE) / (1 + np.exp(-(a * z + b)))
    return tuple(round(float(x), 8) for x in xs), tuple(round(float(y), 6) for y in ys)


def calibrate(ranked: list[Ranked], questions: list[Question]) -> list[Ranked]:
    """Return the rankings with every probability through a calibration map fitted on the other folds only,
    so the reliability table and the thresholds judge the map on questions it was not fitted on."""
    out = list(ranked)
    for fold in range(FOLDS):
        xs, ys = fit_calibration([r for r, q in zip(ranked, questions, strict=True) if q.fold != fold])
        mapped = dataclasses.replace(bootstrap_model(CharSpace({}, 0.0)), calibration=(xs, ys))
        for i, (r, q) in enumerate(zip(ranked, questions, strict=True)):
            if q.fold == fold:
                out[i] = dataclasses.replace(r, top=sorted(((mapped.calibrated(p), t) for p, t in r.top), reverse=True))
    return out


def outcome(r: Ranked, th: Thresholds) -> tuple[str, str | None]:
    """Return what the engine would do with these probabilities (mirrors Engine.ask, passages aside)."""
    p1, t1 = r.top[0] if r.top else (0.0, None)
    p2 = r.top[1][0] if len(r.top) > 1 else 0.0
    if t1 is not None and p1 >= th.answer and p1 - p2 >= th.margin:
        return "answer", t1
    close = [t for p, t in r.top[:3] if p >= th.choice]
    if len(close) >= 2 or (close and p1 >= th.answer):
        return "choice", None
    return ("related" if any(p >= th.related for p, _ in r.top) else "decline"), None


def metrics(ranked: list[Ranked], th: Thresholds) -> dict[str, float]:
    """Return top-1, out-of-scope declined, confidently wrong and the outcome mix over questions.

    An answer by a topic covering the expected one (knowledge/overlaps.yaml) counts as right; `strict_*` count
    only the expected topic."""
    n = len(ranked)
    right = wrong = oos = declined = strict = strict_wrong = 0
    mix: Counter[str] = Counter()
    for r in ranked:
        kind, topic = outcome(r, th)
        mix[kind] += 1
        if r.expected is None:
            oos += 1
            declined += topic is None
            right += topic is None
            strict += topic is None
            wrong += topic is not None
            strict_wrong += topic is not None
        else:
            right += topic in r.answered_by
            strict += topic == r.expected
            wrong += topic is not None and topic not in r.answered_by
            strict_wrong += topic is not None and topic != r.expected
    return {
        "top1": right / n,
        "strict_top1": strict / n,
        "oos_declined": declined / max(oos, 1),
        "wrong": wrong / n,
        "strict_wrong": strict_wrong / n,
        **{k: mix[k] / n for k in ("answer", "choice", "related", "decline")},
    }


def choose_thresholds(ranked: list[Ranked], max_wrong: float) -> Thresholds:
    """Pick the answer line and margin with the best top-1 whose confidently wrong share stays within max_wrong,
    then the choice line that offers the right topic most often while rarely offering one for an unanswerable
    question (each such offer counts against two good ones)."""
    best: tuple[float, Thresholds] | None = None
    for a in [x / 100 for x in range(20, 96, 2)]:
        for m in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3):
            th = Thresholds(a, m, 1.0, RELATED_AT)
            res = metrics(ranked, th)
            if res["wrong"] <= max_wrong and (best is None or res["top1"] > best[0]):
                best = (res["top1"], th)
    if best is None:
        raise SystemExit(f"no threshold keeps confidently wrong answers within {max_wrong:.0%}")
    th = best[1]
    gains = []
    for c in [x / 100 for x in range(20, int(100 * th.answer) + 1, 5)]:
        trial = dataclasses.replace(th, choice=c)
        gain = 0
        for r in ranked:
            kind, _ = outcome(r, trial)
            if kind == "choice":
                offered = [t for p, t in r.top[:3] if p >= c]
                gain += 1 if set(offered) & r.answered_by else -4 if r.expected is None else 0
        gains.append((gain, -c, c))
    return dataclasses.replace(th, choice=max(gains)[2])


def choose_point_line(store: Store) -> tuple[float, float, str]:
    """Pick the lines at which an answer leads with one of its topic's points (claims).

    Each point's questions are asked with that question hidden (a point must be found by its other questions);
    each plain FAQ phrasing of the topic is asked with itself hidden and must get no point. The lines are those
    with the most right points less the wrong ones (another point, or a point for a plain question). Returns
    the share line, the margin over plain phrasings, and a summary."""
    vocab = vocabulary()
    points = shipped_points()
    pts = Points(points, vocab)
    plain: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for topic in sorted({p.topic for p in points}):
        plain[topic] = [(text, pts.content(words)) for text, words in store.topic_phrasings(topic)]
    asked: list[tuple[float, float, bool]] = []  # best point's share, best plain phrasing's, the asking point?
    for point in points:
        for ask in point.asks:
            words = pts.words(ask)
            scored = pts.scored(words, point.topic, frozenset({ask}))
            if scored:
                asked.append(
                    (scored[0][0], pts.plain(words, [w for _, w in plain[point.topic]]), scored[0][1] is point)
                )
    others: list[tuple[float, float]] = []
    for topic, phrasings in plain.items():
        for text, words in phrasings:
            scored = pts.scored(words, topic)
            rest = [w for t, w in phrasings if t != text]
            others.append((scored[0][0] if scored else 0.0, pts.plain(words, rest)))
    best = (0, 1.01, 0.0)
    for line in [x / 100 for x in range(30, 100, 5)]:
        for margin in (0.0, 0.1, 0.2, 0.3, 0.4):
            gain = sum((1 if ok else -1) for s, pl, ok in asked if s >= line and s - pl >= margin)
            gain -= sum(1 for s, pl in others if s >= line and s - pl >= margin)
            if gain > best[0]:
                best = (gain, line, margin)
    _, line, margin = best
    right = sum(1 for s, pl, ok in asked if s >= line and s - pl >= margin and ok)
    wrong = sum(1 for s, pl, ok in asked if s >= line and s - pl >= margin and not ok)
    plain_wrong = sum(1 for s, pl in others if s >= line and s - pl >= margin)
    return (
        line,
        margin,
        f"point line {line:.2f} margin {margin:.2f}: {right}/{len(asked)} held-out claim questions get their point, "
        f"{wrong} another; {plain_wrong}/{len(others)} plain phrasings get one",
    )


def reliability(ranked: list[Ranked]) -> list[str]:
    """Return the reliability table of the reported score (the best topic's probability) per decile."""
    lines = [f"{'decile':<10}{'count':>7}{'mean score':>12}{'observed':>10}{'gap':>7}"]
    for d in range(10):
        lo, hi = d / 10, (d + 1) / 10
        inside = [r for r in ranked if r.top and lo <= r.top[0][0] < hi or (d == 9 and r.top and r.top[0][0] >= 1)]
        if not inside:
            lines.append(f"{lo:.1f}-{hi:.1f}{0:>9}")
            continue
        mean = sum(r.top[0][0] for r in inside) / len(inside)
        seen = sum(r.top[0][1] in r.labelled for r in inside) / len(inside)
        flag = "" if len(inside) < 20 or abs(mean - seen) <= 0.08 else "  <- off by more than 8 points"
        lines.append(
            f"{lo:.1f}-{hi:.1f}  {len(inside):>7}{100 * mean:>12.1f}{100 * seen:>10.1f}{100 * (seen - mean):>7.1f}{flag}"
        )
    return lines


@dataclass
class Setup:
    """The training material of one knowledge: questions, their folds and pair rows."""

    engine: Engine
    questions: list[Question]
    known: set[str]
    pairs: Pairs
    folds: list[Fold]


def prepare(store: Store, quiet: bool = False, real: bool = True) -> Setup:
    """Build the questions of a store's knowledge, deal folds and compute every pair's features."""
    rng = random.Random(SEED)
    vocab = vocabulary()
    segment.prepare(vocab)
    texts = ["".join(w) for _, w in _all_phrasings(store)]
    idf, default = char_idf(texts)
    engine = Engine(store, vocab, model=bootstrap_model(CharSpace(idf, default)))
    phrasings, _ = knowledge_questions(engine, rng)
    questions = phrasings + bank_questions(rng) + generated_questions(phrasings, rng)
    if real:
        questions += real_questions(rng)
    if not quiet:
        print(f"questions: {dict(Counter(q.source for q in questions))}; folds: {FOLDS}", flush=True)
    known = known_words(engine)
    pairs, folds = collect(engine, questions, known, rng)
    return Setup(engine, questions, known, pairs, folds)


def build_model(
    rows: list[list[float]],
    labels: list[int],
    kind: str,
    c: float,
    th: Thresholds,
    space: CharSpace,
    off_topic: frozenset[str],
    classifier: TopicClassifier,
    calibration: tuple[tuple[float, ...], tuple[float, ...]] = ((), ()),
    card: dict[str, Any] | None = None,
    aspects: TopicClassifier | None = None,
) -> Model:
    """Fit the ranker on pair rows and package it with what it needs at run time."""
    mean, scale, coef, icpt = fit(rows, labels, c)
    trees: tuple[Tree, ...] = ()
    if kind == "trees":
        gb = fit_trees(rows, labels)
        trees, icpt = export_trees(gb), float(gb._baseline_prediction.ravel()[0])
    model = Model(
        FEATURES,
        tuple(mean),
        tuple(scale),
        tuple(coef),
        icpt,
        th,
        space,
        off_topic,
        training_fingerprint(),
        trees,
        classifier,
        calibration,
        featurizer_hash(),
        card or {},
        aspects,
    )
    if kind == "trees":
        check_export(model, gb, rows)
    return model


def check_export(model: Model, gb: Any, rows: list[list[float]], sample: int = 500) -> None:
    """Fail unless the exported trees give scikit-learn's own probabilities (the export reads private attributes)."""
    import numpy as np

    picked = rows[:: max(1, len(rows) // sample)]
    theirs = gb.predict_proba(np.asarray(picked, dtype=float))[:, 1]
    ours = [model.raw_probability(r) for r in picked]
    worst = max((abs(a - float(b)) for a, b in zip(ours, theirs, strict=True)), default=0.0)
    if worst > 1e-9:
        raise SystemExit(f"exported trees differ from scikit-learn's predict_proba by {worst:.2e}: fix export_trees")


def model_card(args: argparse.Namespace, res: dict[str, float], questions: list[Question]) -> dict[str, Any]:
    """Return what the model file says of how it was made: seed, recipe, library versions, cross-validated figures."""
    import platform

    import numpy
    import scipy
    import sklearn

    return {
        "seed": SEED,
        "kind": args.kind,
        "folds": FOLDS,
        "max_wrong": args.max_wrong,
        "questions": dict(Counter(q.source for q in questions)),
        "libraries": {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "cross_validated": {k: round(v, 4) for k, v in res.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="train and print; do not write the model")
    ap.add_argument("--max-wrong", type=float, default=0.02, help="confidently wrong share allowed (default 0.02)")
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    ap.add_argument("--kind", choices=("linear", "trees"), default="trees", help="model family")
    ap.add_argument("--verbose", action="store_true", help="list the cross-validated wrong answers")
    ap.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model (default: %(default)s)")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="rolebot-train-"))
    try:
        setup = prepare(open_store(tmp / "train.db"))
        engine, questions, pairs = setup.engine, setup.questions, setup.pairs
        store = engine.store
        print(f"pairs: {len(pairs.rows)} ({sum(pairs.labels)} positive)", flush=True)
        probs = out_of_fold(pairs, questions, args.c, args.kind)
        fitted = ranked_questions(pairs, probs, questions)
        ranked = calibrate(fitted, questions)
        th = choose_thresholds(ranked, args.max_wrong)
        res = metrics(ranked, th)
        point_line, point_margin, point_summary = choose_point_line(store)
        th = dataclasses.replace(th, point=point_line, point_margin=point_margin)
        print(
            f"thresholds: answer {th.answer:.2f}, margin {th.margin:.2f}, choice {th.choice:.2f}, "
            f"related {th.related:.2f}"
        )
        print(point_summary)
        print(
            "cross-validated: top1 {top1:.3f}  oos declined {oos_declined:.3f}  confidently wrong {wrong:.3f}  "
            "| answer {answer:.3f} choice {choice:.3f} related {related:.3f} decline {decline:.3f}\n"
            "  expected topic only: top1 {strict_top1:.3f}  wrong {strict_wrong:.3f}".format(**res)
        )
        common = metrics([r for r, q in zip(ranked, questions, strict=True) if q.source != "claim"], th)
        print(
            "  without the claims' phrasings (comparable across recipes): top1 {top1:.3f}  oos declined "
            "{oos_declined:.3f}  wrong {wrong:.3f}".format(**common)
        )
        for source in ("phrasing", "claim", "augmented", "bank", "generated", "real"):
            if not any(q.source == source for q in questions):
                continue
            part = metrics([r for r, q in zip(ranked, questions, strict=True) if q.source == source], th)
            print(f"  {source:<10} top1 {part['top1']:.3f}  wrong {part['wrong']:.3f}  answer {part['answer']:.3f}")
        if args.verbose:
            for r, q in zip(ranked, questions, strict=True):
                kind, topic = outcome(r, th)
                if topic is not None and topic not in r.answered_by:
                    print(f"    wrong: {q.source} {q.text} -> {topic} {r.top[0][0]:.2f} (expected {q.topic})")
        print("reliability (cross-validated; score = the best topic's probability):")
        print("\n".join(reliability(ranked)))
        model = build_model(
            pairs.rows,
            pairs.labels,
            args.kind,
            args.c,
            th,
            engine.model.space,
            off_topic_words(questions, setup.known),
            fit_classifier(questions),
            fit_calibration(fitted),
            model_card(args, res, questions),
            fit_aspects(questions),
        )
        if not model.trees:
            weights = sorted(zip(FEATURES, model.coef, strict=True), key=lambda x: -abs(x[1]))
            print("weights: " + ", ".join(f"{f} {c:+.2f}" for f, c in weights))
        if not args.check:
            write_model(model, args.out)
            print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB), classifier.npy and aspects.npy")
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _all_phrasings(store: object) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    for topic, _, _ in store.topics():  # type: ignore[attr-defined]
        out.extend(store.topic_phrasings(topic))  # type: ignore[attr-defined]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
