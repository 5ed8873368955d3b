"""Turn engine results into replies: text and buttons, for Telegram (HTML) and the terminal alike."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from rolebot.conversation.actions import (
    MAX_BYTES,
    Action,
    ActionTooLong,
    Browse,
    ChangeSetting,
    More,
    NoneOfThese,
    ShowTopic,
    Vote,
    decode,
    encode,
    entry_ref,
)
from rolebot.conversation.groups import LENGTHS, MODES, SCRIPTS, THRESHOLDS, GroupSettings
from rolebot.engine.result import Missing, Result
from rolebot.language.script import SIMPLIFIED_READER, Reader
from rolebot.store.schema import PassageRow, Source

CB_LIMIT = MAX_BYTES


@dataclass(frozen=True)
class Button:
    """A button: a label and either a callback action or a URL."""

    label: str
    action: str = ""
    url: str = ""


@dataclass
class Reply:
    """A message to show: HTML for Telegram, plain text for the terminal, rows of buttons."""

    html: str
    plain: str
    buttons: list[list[Button]] = field(default_factory=list)

    def flat_buttons(self) -> list[Button]:
        """Return every button, row by row."""
        return [b for row in self.buttons for b in row]


def action(kind: str, value: str = "") -> str:
    """Return validated compact data for a prefix and value; raise ActionTooLong when it is not an action."""
    decoded = decode(f"{kind}:{value}" if value else kind)
    if decoded is None:
        raise ActionTooLong(f"not an action within {MAX_BYTES} bytes: {kind}:{value}")
    return encode(decoded)


def _button(label: str, act: Action) -> Button | None:
    """Return a button for an action, or None when its data would not fit."""
    try:
        return Button(label, encode(act))
    except ActionTooLong:
        return None


def format_source(src: Source) -> str:
    """Return '《title》 author · site' for one source."""
    extra = " · ".join(v for v in (src.get("author"), src.get("site")) if v)
    return f"《{src['title']}》" + (f"（{extra}）" if extra else "")


def _convert(reply: Reply, reader: Reader, limit: int | None = None) -> Reply:
    """Write a reply, its button labels too, for a reader of Traditional (titles in 《》 keep their words)."""
    if not reader.traditional:
        return reply
    rows = [[Button(reader.write(b.label), b.action, b.url) for b in row] for row in reply.buttons]
    text, plain = reader.write(reply.html), _fit(reader.write(reply.plain), limit)
    if limit is not None and units(shown := visible(text)) > limit:
        # a glossary word longer than the word it replaces can push a full reply over: send the
        # text cut and without its tags rather than HTML cut inside a tag
        text = html.escape(_fit(shown, limit))
    return Reply(text, plain, rows)


def units(text: str) -> int:
    """Return the length of a text in UTF-16 code units, as Telegram counts it (an emoji is 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _fit(text: str, limit: int | None) -> str:
    """Cut a text to `limit` UTF-16 code units (None: no limit), ending in … when cut, never inside a pair."""
    if limit is None or units(text) <= limit:
        return text
    room = max(limit - 1, 0)
    # utf-16 bytes cut at an even offset; a half pair at the end is dropped by errors="ignore"
    return text.encode("utf-16-le")[: 2 * room].decode("utf-16-le", errors="ignore") + "…"


def visible(html_text: str) -> str:
    """Return what Telegram shows of our HTML (tags gone, entities read): what its limit counts."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


def _escape_fit(text: str, limit: int | None) -> str:
    """Escape text for HTML after cutting it to `limit` units: Telegram counts the text after parsing, &amp; as 1."""
    return html.escape(_fit(text, limit))


def _less(limit: int | None, *parts: str) -> int | None:
    """Return what is left of a limit once the visible parts are counted."""
    return None if limit is None else max(limit - sum(units(p) for p in parts), 0)


def _short(answer: str, lines: int = 3) -> str:
    """Return the gist and first points of an answer, for groups."""
    parts = [ln for ln in answer.splitlines() if ln.strip()]
    return "\n".join(parts[:lines]) + ("\n…" if len(parts) > lines else "")


def render_result(
    result: Result,
    *,
    short: bool = False,
    deep_link: str | None = None,
    browse: list[str] | None = None,
    limit: int | None = None,
) -> Reply:
    """Render what the engine decided: an answer, a choice, or an honest decline; text within `limit` units."""
    if result.kind in ("answer", "passage") and result.answer:
        reply = _render_answer(result, short=short, deep_link=deep_link, limit=limit)
    elif result.kind == "unsure" and result.candidates:
        reply = _render_unsure(result)
    elif result.kind == "related" and result.candidates:
        reply = _render_related(result)
    elif result.kind == "empty":
        text = "我没读懂这条消息😅 可以直接用文字问我，比如「营销和销售有什么区别？」"
        reply = Reply(html.escape(text), text, _browse_rows(browse or []))
    elif result.missing is not None:
        # about our roles, asking what we have no material on: say which part, then what there is to browse
        text = f"{missing_phrase(result.missing)}我这里没有资料，也不想乱答。可以从下面的话题里看看我讲得了的部分。"
        reply = Reply(html.escape(text), text, _browse_rows(browse or []))
    else:
        text = (
            "这个问题我不太确定，也不想乱答。我只懂营销、销售、市场、运营这些岗位的区别和关系，"
            "可以换个问法，或者从下面的话题里挑一个看看。"
        )
        reply = Reply(html.escape(text), text, _browse_rows(browse or []))
    return _convert(reply, result.reader, limit)


# how a reply names what a question asks that the knowledge does not cover (the aspect reader's kinds)
MISSING_NAMES = {
    "salary": "薪资（工资、提成、待遇）",
    "interview": "面试",
    "resume": "简历",
    "certificate": "证书和考证",
    "tools": "工具和软件",
    "workload": "工作强度和加班",
    "education": "学历、专业和考研",
    "age": "年龄和转行时机",
    "industry": "行业选择",
    "city": "在哪个城市发展",
    "employment": "劳动合同、社保和福利",
    "company": "具体某家公司的情况",
    "other-job": "别的职业",
    "near-role": "相邻的岗位",
    "theory-detail": "这部分理论的细节",
    "how-to": "具体的操作方法",
}


# aspects of a role itself (its pay, its interviews …), named with the role; the others are named by the words
ASPECTS_OF_ROLES = frozenset(
    (
        "salary",
        "interview",
        "resume",
        "certificate",
        "tools",
        "workload",
        "education",
        "age",
        "industry",
        "city",
        "employment",
    )
)


def missing_phrase(missing: Missing) -> str:
    """Return "关于运营的薪资（…），" or "关于「字节跳动」，": what the question asks that we have no material on."""
    roles = "、".join(missing.roles)
    name = MISSING_NAMES.get(missing.aspect or "")
    words = "、".join(f"「{w}」" for w in missing.words)
    if name and missing.aspect in (
        "salary",
        "interview",
        "resume",
        "certificate",
        "tools",
        "workload",
        "education",
        "age",
        "industry",
        "city",
        "employment",
    ):
        return f"关于{roles}的{name}，" if roles else f"关于{name}，"
    if words:
        return f"关于{words}{('（' + name + '）') if name else ''}，"
    return f"关于{roles}的{name}，" if name and roles else "关于这一点，"


def _render_answer(result: Result, *, short: bool, deep_link: str | None, limit: int | None) -> Reply:
    answer = _short(result.answer or "") if short else (result.answer or "")
    title = result.question or ""
    sources = "；".join(format_source(s) for s in result.sources)
    source_line = f"来源：{sources}" if sources else ""
    body_plain = "\n\n".join(p for p in (title, answer, source_line) if p)
    title, source_line = _fit(title, 300), _fit(source_line, 600)
    head = f"<b>{html.escape(title)}</b>\n\n" if title else ""
    tail = f"\n\n<i>{html.escape(source_line)}</i>" if source_line else ""
    room = _less(limit, title, "\n\n" if title else "", "\n\n" if source_line else "", source_line)
    body_html = head + _escape_fit(answer, room) + tail
    rows: list[list[Button]] = []
    if short:
        if deep_link:
            rows.append([Button("详细", url=deep_link)])
    else:
        for f in result.follow_ups[:3]:
            if (b := _button(f["question"], ShowTopic(f["topic"]))) is not None:
                rows.append([b])
        tail_row = []
        # an id too long for a button travels as its digest (the service finds the entry again)
        ref = entry_ref(result.entry_id) if result.entry_id else ""
        if result.has_more and ref and (b := _button("📖 更多", More(ref))):
            tail_row.append(b)
        if ref:
            for label, kind in (("👍", "u"), ("👎", "d")):
                if (b := _button(label, Vote(ref, kind == "u"))) is not None:
                    tail_row.append(b)
        if tail_row:
            rows.append(tail_row)
    return Reply(body_html, _fit(body_plain, limit), rows)


def _render_unsure(result: Result) -> Reply:
    text = "你是想问下面哪一个？"
    rows = []
    for c in result.candidates[:3]:
        label = c.get("question") or c["topic"]
        if (b := _button(label, ShowTopic(c["topic"]))) is not None:
            rows.append([b])
    rows.append([Button("都不是", encode(NoneOfThese()))])
    return Reply(html.escape(text), text, rows)


def _render_related(result: Result) -> Reply:
    """Say plainly that no entry answers this, and offer the nearest topics."""
    text = (
        f"{missing_phrase(result.missing)}我这里没有资料；最接近的是下面这些，也许有帮助："
        if result.missing is not None
        else "这个问题我没有现成的答案；最接近的是下面这些，也许有帮助："
    )
    rows = [
        [b] for c in result.candidates[:3] if (b := _button(c.get("question") or c["topic"], ShowTopic(c["topic"])))
    ]
    return Reply(html.escape(text), text, rows)


def _browse_rows(categories: list[str]) -> list[list[Button]]:
    buttons = [b for c in categories if (b := _button(c, Browse(c))) is not None]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def render_welcome(categories: list[str], reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render the /start welcome with the browse menu."""
    text = (
        "你好！我是 rolebot，专门解释营销、销售、市场、运营这些岗位有什么不同、怎么配合、怎么选。\n"
        "直接发问题给我，比如「营销和运营有什么区别？」，或者从下面的话题开始看。"
    )
    return _convert(Reply(html.escape(text), text, _browse_rows(categories)), reader)


SMALL_TALK_REPLIES = {
    "greeting": "你好！我是 rolebot，可以问我营销、销售、市场、运营这些岗位的区别和关系，比如「营销和运营有什么区别？」",
    "thanks": "不客气！还有想了解的，随时问我 😊",
    "identity": "我是 rolebot，专门解释营销、销售、市场、运营这些岗位有什么不同、怎么配合、怎么选。直接发问题给我就好。",
    "ack": "好的！还有想问的直接发给我，或者从下面的话题里挑一个。",
    "bye": "再见！有问题随时来问 👋",
    "nothing-to-expand": "想详细了解哪个问题？先问我一个问题，再说「详细说说」就能看到更多。",
}


def render_small_talk(kind: str, categories: list[str], reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render a short friendly reply to small talk, with the browse menu."""
    text = SMALL_TALK_REPLIES.get(kind, SMALL_TALK_REPLIES["greeting"])
    return _convert(Reply(html.escape(text), text, _browse_rows(categories)), reader)


def render_help(reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render /help."""
    text = (
        "怎么用：\n"
        "• 直接发问题，例如「市场部和销售部有什么区别？」（简体、繁體都可以）\n"
        "• /topics 浏览所有话题\n"
        "• /ask 问题 —— 在群里请用这个方式问我\n"
        "• 回答下面的按钮可以继续追问、看原文摘要，或者告诉我答得好不好"
    )
    return _convert(Reply(html.escape(text), text), reader)


def render_topic_list(category: str, topics: list[tuple[str, str]], reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render the questions under one browse category."""
    text = f"「{category}」相关的问题："
    rows = [[b] for topic, question in topics if (b := _button(question, ShowTopic(topic))) is not None]
    return _convert(Reply(html.escape(text), text, rows), reader)


def render_passages(passages: list[PassageRow], reader: Reader = SIMPLIFIED_READER, limit: int | None = None) -> Reply:
    """Render the passage digests behind an answer (📖 更多), within `limit` UTF-16 units."""
    if not passages:
        text = "这个话题暂时没有更多原文摘要。"
        return _convert(Reply(html.escape(text), text), reader)
    blocks_html, blocks_plain = [], []
    room = None if limit is None else limit // min(len(passages), 3) - 4  # 4: the blank lines between blocks
    for p in passages[:3]:
        title = str(p.get("title") or "")
        srcs = p.get("sources") or []
        src = "；".join(format_source(s) for s in srcs) if isinstance(srcs, list) else ""
        plain = "\n".join(x for x in (title, str(p["text"]), f"来源：{src}" if src else "") if x)
        blocks_plain.append(plain)
        title, src = _fit(title, 200), _fit(src, 300)
        head = f"<b>{html.escape(title)}</b>\n" if title else ""
        tail = f"\n<i>来源：{html.escape(src)}</i>" if src else ""
        text_room = _less(room, title, "\n" if title else "", f"\n来源：{src}" if src else "")
        blocks_html.append(head + _escape_fit(str(p["text"]), text_room) + tail)
    return _convert(Reply("\n\n".join(blocks_html), _fit("\n\n".join(blocks_plain), limit)), reader, limit)


def render_json(result: Result) -> dict[str, Any]:
    """Return the `rolebot ask --json` contract, its question, answer and follow-ups written for the reader.

    It adds the reader's `region` (mainland, taiwan, hong-kong) beside `script`; sources stay as published.
    """
    data: dict[str, Any] = result.to_json()
    write = result.reader.write
    data["question"] = write(result.question) if result.question else result.question
    data["answer"] = write(result.answer) if result.answer else result.answer
    data["follow_ups"] = [{**f, "question": write(f["question"])} for f in result.follow_ups]
    data["region"] = result.reader.region_name
    return data


def render_plain(reply: Reply) -> str:
    """Render a reply for the terminal: text, then buttons as numbered choices."""
    lines = [reply.plain]
    buttons = reply.flat_buttons()
    if buttons:
        lines.append("")
        lines += [f"  [{i}] {b.label}" for i, b in enumerate(buttons, 1)]
    return "\n".join(lines)


_LABELS = {
    "addressed": "只在被点名时回答",
    "auto": "也主动回答有把握的问题",
    "auto_script": "跟随提问者",
    "simplified": "简体",
    "traditional": "繁體",
    "tw": "臺灣用語",
    "hk": "香港用語",
    "short": "简短",
    "full": "完整",
}


def render_settings(settings: GroupSettings) -> Reply:
    """Render the /settings panel for group admins."""
    text = (
        "群设置（仅管理员可改）\n"
        f"• 模式：{_LABELS[settings.mode]}\n"
        f"• 主动回答的把握：≥ {settings.threshold}\n"
        f"• 文字：{_LABELS['auto_script' if settings.script == 'auto' else settings.script]}\n"
        f"• 回答长度：{_LABELS[settings.length]}\n"
        "提示：「主动回答」需要在 @BotFather 里关闭隐私模式（/setprivacy → Disable），或把我设为管理员，"
        "否则我收不到没有点名我的消息。"
    )

    def mark(on: bool, label: str) -> str:
        return ("✅ " if on else "") + label

    rows = [
        [Button(mark(settings.mode == m, _LABELS[m]), encode(ChangeSetting(f"mode={m}"))) for m in MODES],
        [Button(mark(settings.threshold == t, f"≥{t}"), encode(ChangeSetting(f"threshold={t}"))) for t in THRESHOLDS],
        [
            Button(
                mark(settings.script == sc, _LABELS["auto_script" if sc == "auto" else sc]),
                encode(ChangeSetting(f"script={sc}")),
            )
            for sc in SCRIPTS
        ],
        [Button(mark(settings.length == ln, _LABELS[ln]), encode(ChangeSetting(f"length={ln}"))) for ln in LENGTHS],
    ]
    return Reply(html.escape(text), text, rows)
