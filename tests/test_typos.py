"""Homophone typos and plain pinyin: built from the knowledge's own phrasings with pypinyin, then measured."""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
from pathlib import Path

import jieba
import pytest
from pypinyin import Style, lazy_pinyin

from rolebot.engine.engine import Engine
from rolebot.kb.knowledge import shipped_paths
from rolebot.kb.records import load_records
from rolebot.language import pinyin
from rolebot.language.normalize import _T2S, clean, normalize
from rolebot.language.typos import fix_homophones, read_pinyin
from rolebot.language.vocabulary import vocabulary

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
FILES = shipped_paths(KNOWLEDGE)
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
COMMON_FREQ = 2000  # a character this frequent in jieba's dictionary is one a pinyin keyboard offers early


def faq_phrasings() -> list[tuple[str, str]]:
    """Return (phrasing, topic) for every question and alternate of the shipped knowledge."""
    out = []
    for rec in load_records(FILES):
        data = rec.content()
        if rec.kind == "faq":
            out += [(q, data["topic"]) for q in [data["question"], *data["alternates"]]]
    return out


def common_characters() -> list[str]:
    """Return the single characters jieba counts as common words, most frequent first."""
    jieba.dt.check_initialized()
    chars = [(w, f) for w, f in jieba.dt.FREQ.items() if len(w) == 1 and CJK.match(w) and f >= COMMON_FREQ]
    return [w for w, _ in sorted(chars, key=lambda x: -x[1])]


def homophone_typo(text: str, rng: random.Random, chars: list[str]) -> str | None:
    """Replace one character of the first role word in `text` by another common character read the same.

    Replacements that make a real word (消瘦 for 销售) are skipped: those are read as what they say.
    """
    vocab = vocabulary()
    roles = sorted((r for r in vocab.roles if len(r) >= 2 and CJK.match(r)), key=len, reverse=True)
    simple = _T2S.convert(clean(text))
    found = re.search("|".join(map(re.escape, roles)), simple)
    if not found:
        return None
    role = found.group(0)
    sounds = lazy_pinyin(role, style=Style.NORMAL)
    options = []
    for k, (ch, sound) in enumerate(zip(role, sounds, strict=True)):
        for h in chars:
            typo = role[:k] + h + role[k + 1 :]
            if h != ch and sound in pinyin.readings(h) and not jieba.dt.FREQ.get(typo):
                options.append(typo)
    if not options:
        return None
    return simple[: found.start()] + rng.choice(options) + simple[found.end() :]


def typed_in_pinyin(question: str) -> str:
    """Write a question the way a pinyin keyboard user sends it unconverted: one toneless word per word."""
    words = jieba.lcut(_T2S.convert(clean(question)), HMM=False)
    return " ".join("".join(lazy_pinyin(w, style=Style.NORMAL)) if CJK.match(w) else w for w in words if w.strip())


@pytest.fixture(scope="module")
def typo_cases() -> list[tuple[str, str, str]]:
    """Return (clean phrasing, typo version, topic), one per phrasing that names a role, seeded."""
    rng = random.Random(12)
    chars = common_characters()
    cases = []
    for text, topic in faq_phrasings():
        typo = homophone_typo(text, rng, chars)
        if typo is not None:
            cases.append((text, typo, topic))
    return cases


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        pytest.param("营消和销受的区别", "营销和销售的区别", id="营消-销受"),
        pytest.param("赢销是什么", "营销是什么", id="赢销"),
        pytest.param("消售是干嘛的", "销售是干嘛的", id="消售"),
        pytest.param("运应和营销区别", "运营和营销区别", id="运应"),
        pytest.param("云营是做什么的", "运营是做什么的", id="云营"),
        pytest.param("市厂部和销售部", "市场 部门和销售 部门", id="市厂"),
        pytest.param("營消和銷受", "营销和销售", id="traditional"),
        pytest.param("用户运应是做什么的", "用户运营是做什么的", id="inside-a-longer-role"),
    ],
)
def test_homophones_of_role_words_are_read_as_the_role(typed: str, meant: str) -> None:
    assert normalize(typed, vocabulary()).text == meant


@pytest.mark.parametrize("text", ["销售是什么", "她最近消瘦了", "时长多久", "市长说的", "小手冰凉", "应和一下"])
def test_real_words_are_left_alone(text: str) -> None:
    assert fix_homophones(text, vocabulary()) == text


def test_no_shipped_phrasing_is_corrected() -> None:
    vocab = vocabulary()
    changed = [t for t, _ in faq_phrasings() if fix_homophones(s := _T2S.convert(clean(t)), vocab) != s]
    assert changed == []


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        pytest.param("yingxiao he xiaoshou qubie", "营销和销售区别", id="words"),
        pytest.param("ying xiao shi shen me", "营销是什么", id="syllables"),
        pytest.param("marketing he xiaoshou you shenme qubie", "marketing 和销售有什么区别", id="mixed-english"),
        pytest.param("yunying和xiaoshou的区别", "运营和销售的区别", id="mixed-chinese"),
    ],
)
def test_plain_pinyin_is_written_in_chinese(typed: str, meant: str) -> None:
    assert read_pinyin(typed, vocabulary()) == meant


@pytest.mark.parametrize(
    "text",
    [
        "what do you do",
        "the aim of marketing is to make selling superfluous",
        "ceo和coo的区别",
        "new media operation",
        "segmentation targeting positioning",
        "4p",
    ],
)
def test_english_is_not_read_as_pinyin(text: str) -> None:
    assert read_pinyin(text, vocabulary()) == text


@pytest.mark.slow(40)
def test_homophone_typos_keep_the_accuracy_of_their_clean_versions(
    engine: Engine, typo_cases: list[tuple[str, str, str]]
) -> None:
    """Leave-one-out: each phrasing is hidden from the index, asked clean and with a homophone typo."""
    assert len(typo_cases) >= 200
    clean_right = clean_wrong = typo_right = typo_wrong = 0
    for text, typo, topic in typo_cases:
        fold = engine.fold(frozenset({text}))
        for res, counts in ((fold.answer(text), "clean"), (fold.answer(typo), "typo")):
            right = res.answered and res.topic == topic
            wrong = res.answered and res.topic != topic
            if counts == "clean":
                clean_right, clean_wrong = clean_right + right, clean_wrong + wrong
            else:
                typo_right, typo_wrong = typo_right + right, typo_wrong + wrong
    n = len(typo_cases)
    print(
        f"\nhomophone typos over {n} phrasings: clean {clean_right / n:.3f} (wrong {clean_wrong}), "
        f"typo {typo_right / n:.3f} (wrong {typo_wrong})"
    )
    assert typo_right >= 0.9 * clean_right
    assert typo_wrong <= clean_wrong


def test_every_topic_is_understood_in_plain_pinyin(engine: Engine) -> None:
    """Each entry's canonical question (every topic has one or more), typed as unconverted pinyin."""
    questions = [(r.content()["question"], r.content()["topic"]) for r in load_records(FILES) if r.kind == "faq"]
    assert len({topic for _, topic in questions}) >= 30
    missed = []
    for question, topic in questions:
        typed = typed_in_pinyin(question)
        res = engine.ask(typed)
        if not (res.answered and res.topic == topic):
            missed.append((typed, topic, res.topic, res.kind))
    print(f"\nplain pinyin: {len(questions) - len(missed)}/{len(questions)} canonical questions understood")
    assert missed == []


def _keys_from_pypinyin(word: str) -> list[str]:
    """Return pinyin.keys(word) as computed from pypinyin's whole phrase dictionary (the reference)."""
    from pypinyin.phrases_dict import phrases_dict

    out: list[str] = []
    phrase = phrases_dict.get(word)
    if phrase and len(phrase) == len(word):
        out.append("".join(pinyin.toneless(p[0]) for p in phrase))
    per_char = [pinyin.ordered_readings(ch) for ch in word]
    if all(per_char):
        for combo in itertools.islice(itertools.product(*per_char), pinyin.MAX_KEYS):
            if "".join(combo) not in out:
                out.append("".join(combo))
    return out


def test_shipped_pinyin_words_say_what_pypinyin_says() -> None:
    from pypinyin.phrases_dict import phrases_dict

    vocab = vocabulary()
    words = [*phrases_dict, *vocab.words, *vocab.roles, *vocab.aliases, "银行", "市场营销", "新媒体运营"]
    wrong = [w for w in words if pinyin.keys(w) != _keys_from_pypinyin(w)]
    assert not wrong, f"{wrong[:5]}: run scripts/build_pinyin_words.py"
    missing = [r for r in vocab.roles if r not in pinyin._shipped()[1]]  # each would load pypinyin at run time
    assert not missing, f"roles {missing[:5]} are not in pinyin_words.txt: run scripts/build_pinyin_words.py"
    for role in vocab.roles:
        assert pinyin.spoken(role) == tuple(lazy_pinyin(role, style=Style.NORMAL, errors="ignore")), role


def test_answering_never_imports_pypinyin(db_path: Path) -> None:
    probe = (
        "import sys; from pathlib import Path; from rolebot.conversation.service import Service; "
        "from rolebot.kb.knowledge import open_store; "
        f"s = Service(open_store(Path({str(db_path)!r}))); "
        "topics = [s.ask(q, record=False).result.topic for q in ('营消和销受有什么区别', 'yingxiao he xiaoshou qubie')]; "
        "print(topics, 'pypinyin' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['marketing-vs-sales', 'marketing-vs-sales'] False"
