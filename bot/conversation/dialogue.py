"""Messages read against the last turn: pronouns (它们, 前者), relation questions, requests about the last answer.

Each reader takes the message already normalised (Simplified, canonical role words) and says what it asks
of the last turn; the service serves it. Nothing here calls the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rolebot.language.vocabulary import Vocabulary

_PUNCT = re.compile(r"[?!.,。，？！、~\s…]+")
_PARTICLES = re.compile(r"[呢吗吧呀啊哈嘛哦么]+$")
_LEAD = re.compile(r"^(那么|那|能不能|能|可以|可不可以|请|麻烦|你|再帮我|帮我|给我)+")

# requests about the last answer, the whole message once punctuation, particles and a polite lead are dropped
REQUESTS: dict[str, frozenset[str]] = {
    "simpler": frozenset(
        {"再简单点", "简单点", "简单一点", "再简单一点", "说简单点", "说简单一点", "简单说", "简单说说", "简单讲讲",
         "说人话", "讲人话", "说白话", "通俗点", "通俗一点", "说通俗点", "一句话", "一句话总结", "一句话说", "总结一下",
         "太长了", "太长不看", "看不懂", "没看懂", "听不懂", "简短点", "短一点", "概括一下", "用一句话说"}
    ),
    "traditional": frozenset(
        {"换成繁体说一遍", "换成繁体", "用繁体", "用繁体说", "用繁体说一遍", "繁体", "繁体版", "繁体字", "换繁体",
         "转繁体", "转成繁体", "改成繁体", "繁体说一遍", "换成繁体字", "用繁体字"}
    ),
    "simplified": frozenset(
        {"换成简体说一遍", "换成简体", "用简体", "用简体说", "用简体说一遍", "简体", "简体版", "简体字", "换简体",
         "转简体", "转成简体", "改成简体", "简体说一遍", "换成简体字", "用简体字"}
    ),
    "example": frozenset(
        {"举个例子", "举例", "举例子", "举个栗子", "有例子", "有什么例子", "有没有例子", "例子", "比如", "比如说",
         "比如呢", "举例说明", "具体例子", "来个例子", "给个例子", "举个实例", "有案例", "案例"}
    ),
    "again": frozenset({"再说一遍", "再说一次", "重复一遍", "再讲一遍"}),
}  # fmt: skip
# asks something of the last answer we cannot do: said plainly rather than declined as a new question
_UNSERVABLE = re.compile(
    r"^(翻译|译成|换成英文|用英文|英文版|说英文|英语|english|画个?图|画出来|做成?表格?|列个?表|换个说法|"
    r"换一种说法|写成|改写|语音|读出来|发个?链接|原文链接)"
)
# doubting the last answer: where it comes from is the answer
_DOUBT = re.compile(r"^(你确定|确定|真的|是真的|不对|错了|你说错了|胡说|瞎说|哪里看到的|出处|有证据|有依据|谁说的)")

# pronouns and phrases pointing back at the last turn's roles; "both" names them all, "first"/"last" one
_POINTERS = (
    ("both", ("它们俩", "它们两个", "他们俩", "它俩", "他俩", "它们", "他们", "这两个岗位", "这两个职位", "这两个",
              "这两者", "这俩", "两者", "二者", "两个岗位", "两个")),
    ("first", ("前者",)),
    ("last", ("后者",)),
    ("one", ("这个岗位", "这个职位", "这个工作", "这个角色", "这一行", "该岗位", "它")),
)  # fmt: skip
# longest first; 其它 and 其他 are "other", never a pointer
_POINTER_RE = re.compile(
    "(?<!其)(?:"
    + "|".join(re.escape(w) for w in sorted((w for _, ws in _POINTERS for w in ws), key=len, reverse=True))
    + ")"
)
_POINTER_KIND = {w: kind for kind, ws in _POINTERS for w in ws}

# questions about how the roles just discussed relate, asked without naming them (谁更重要, 怎么配合)
RELATIONS = (
    "谁更重要", "哪个更重要", "哪个重要", "谁重要", "怎么配合", "如何配合", "怎样配合", "怎么合作", "如何合作",
    "哪个更难", "谁更难", "哪个难", "有什么联系", "什么联系", "有什么关系", "什么关系", "有联系", "有关系",
    "哪个好", "哪个更好", "选哪个", "哪个赚钱", "哪个更赚钱", "有什么区别", "什么区别", "有啥区别", "区别",
    "有什么不同", "哪里不同", "一样", "是一回事", "是一个意思",
)  # fmt: skip
# a comparison with a new role after the last answer (和销售比呢, 跟销售相比)
_COMPARE = re.compile(
    r"^(?:那|那么)?(?:和|跟|与|同|比起|相比)(?P<role>.+?)(?:比|相比|比较|对比|比起来|相比较)?(?:的话|怎么样|如何)?$"
)


@dataclass(frozen=True)
class Request:
    """What a message asks of the last turn: `kind` is a REQUESTS key, "compare", "refer", "doubt" or "unservable"."""

    kind: str
    question: str = ""  # "compare"/"refer": the question to ask the engine instead
    roles: tuple[str, ...] = ()


def bare(text: str) -> str:
    """Return a message without punctuation, trailing particles and a polite lead (能不能, 请)."""
    out = _PARTICLES.sub("", _PUNCT.sub("", text))
    return _LEAD.sub("", out) or out


@lru_cache(maxsize=4)
def _roles_re(vocab: Vocabulary) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(r) for r in sorted(vocab.roles, key=len, reverse=True)) or r"(?!)")


def roles_in(text: str, vocab: Vocabulary) -> tuple[str, ...]:
    """Return the role words a text names, in order, each once."""
    return tuple(dict.fromkeys(m.group() for m in _roles_re(vocab).finditer(text)))


def read_request(text: str, vocab: Vocabulary, last_roles: tuple[str, ...]) -> Request | None:
    """Say what a normalised message asks of the last turn, or None when it is a question of its own."""
    b = bare(text)
    for kind, phrases in REQUESTS.items():
        if b in phrases:
            return Request(kind)
    if (m := _COMPARE.match(b)) and last_roles:
        new = roles_in(m.group("role"), vocab)
        if len(new) == 1 and _roles_re(vocab).fullmatch(m.group("role").strip()):
            pair = tuple(dict.fromkeys((*last_roles[:1], *new)))
            if len(pair) == 2:
                return Request("compare", f"{pair[0]}和{pair[1]}有什么区别", pair)
    if last_roles and (refer := _refer(text, b, vocab, last_roles)) is not None:
        return refer
    if _UNSERVABLE.match(b.lower()) and len(b) <= 8:  # 帮我翻译一下I love you is a request of its own
        return Request("unservable")
    if _DOUBT.match(b) and len(b) <= 8:
        return Request("doubt")
    return None


def _refer(text: str, b: str, vocab: Vocabulary, last: tuple[str, ...]) -> Request | None:
    """Put the last turn's roles in place of a pronoun, or before a relation question that names none."""
    named = roles_in(text, vocab)
    pointer = _POINTER_RE.search(text)
    if pointer and not (_POINTER_KIND[pointer.group()] == "both" and len(named) >= 2):

        def put(m: re.Match[str]) -> str:
            kind = _POINTER_KIND[m.group()]
            if kind == "first":
                return last[0]
            if kind == "last":
                return last[-1]
            if kind == "one" and len(last) > 1 and not any(r in last for r in named):
                return "和".join(last)
            if kind == "one":
                return next((r for r in last if r not in named), last[0])
            return "和".join(last)

        question = _POINTER_RE.sub(put, text)
        if question != text:
            return Request("refer", question, roles_in(question, vocab))
    if not named and len(last) >= 2 and b in RELATIONS:
        return Request("refer", "和".join(last) + b, last)
    return None


def points_back(text: str, vocab: Vocabulary) -> bool:
    """Say whether a message only makes sense against a last turn (它们谁更重要, 谁更重要) and names no role."""
    if roles_in(text, vocab):
        return False
    return bool(_POINTER_RE.search(text)) or bare(text) in RELATIONS


def relation_of(text: str) -> str | None:
    """Return the relation phrase a question about roles ends with (谁更重要, 怎么配合), or None."""
    b = bare(text)
    return next((r for r in sorted(RELATIONS, key=len, reverse=True) if b.endswith(r)), None)
