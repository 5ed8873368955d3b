"""Greetings, thanks and other small talk: read so they get a friendly reply instead of a decline."""

from __future__ import annotations

import re

from rolebot.language.normalize import Normalized, normalize
from rolebot.language.vocabulary import Vocabulary

# the whole message, once trailing particles and punctuation are dropped
SMALL_TALK: dict[str, frozenset[str]] = {
    "greeting": frozenset(
        {"你好", "您好", "你们好", "大家好", "嗨", "哈喽", "哈罗", "hi", "hello", "hey", "早", "早上好", "上午好",
         "中午好", "下午好", "晚上好", "晚安", "在", "在不在", "有人", "有人在", "你在"}
    ),
    "thanks": frozenset(
        {"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "感谢你", "谢了", "谢啦", "thanks", "thank you", "thx", "辛苦了",
         "太感谢了", "非常感谢", "谢谢谢谢"}
    ),
    "identity": frozenset(
        {"你是谁", "你叫什么", "你叫什么名字", "你是什么", "你是机器人", "你是人", "你能做什么", "你会什么",
         "你能干什么", "你会干什么", "你可以做什么", "介绍一下你自己", "自我介绍一下"}
    ),
    "ack": frozenset(
        {"好的", "好", "嗯", "嗯嗯", "ok", "okay", "知道了", "明白了", "明白", "收到", "懂了", "行", "好吧", "好滴",
         "了解", "了解了", "原来如此", "懂"}
    ),
    "bye": frozenset({"再见", "拜拜", "bye", "88", "回见"}),
}  # fmt: skip
_TRAILING = re.compile(r"[啊呀呢吧哈啦嘛吗么哦噢~!?.,。，？！…\s]+$")


def read_small_talk(text: str, vocab: Vocabulary, norm: Normalized | None = None) -> str | None:
    """Return the kind of small talk a message is ("greeting", "thanks" …), or None for a question (`norm`: the
    message already normalised)."""
    bare = _TRAILING.sub("", (norm or normalize(text, vocab)).text)
    bare = re.sub(r"[!?.,。，？！…]", "", bare).strip()
    if not bare or len(bare) > 12:
        return None
    return next((kind for kind, phrases in SMALL_TALK.items() if bare in phrases), None)


# insults and nonsense: a calm reply, never a question for the review (a role word makes it a question: 销售很累吧)
_ABUSE = re.compile(
    r"笨|傻|蠢|垃圾|废物|智障|白痴|弱智|脑残|滚|闭嘴|辣鸡|去死|没用的东西|什么玩意|啥玩意|破机器人|sb|fuck|stupid|idiot"
)
_ASKS = re.compile(r"怎么|什么|如何|哪|多少|吗|几")
# 啊啊啊啊, 一个字打满一行; laughter and emoji are not nonsense, and English words are questions (how to cook rice)
_NONSENSE = re.compile(r"^[啊阿呃额]{4,}$|^([^哈呵嘿😂👍])\1{5,}$")


def read_abuse(normalized: str, vocab: Vocabulary) -> bool:
    """Say whether a normalised message is an insult or nonsense (啊啊啊啊, asdfgh) rather than a question."""
    bare = re.sub(r"[\s!?.,。，？！…~]+", "", normalized.lower())
    if not bare or len(bare) > 20 or any(r in bare for r in vocab.roles):
        return False
    if _ABUSE.search(bare):  # 垃圾分类怎么做 asks something; 你怎么这么笨 does not
        return not _ASKS.search(bare.replace("怎么这么", "这么"))
    return bool(_NONSENSE.search(bare)) and not any(w in bare for w in vocab.aliases)
