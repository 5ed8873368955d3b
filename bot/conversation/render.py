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
    off_topic: bool = False,
) -> Reply:
    """Render what the engine decided: an answer, a choice, or an honest decline; text within `limit` units.

    `off_topic`: a decline of a question that is not about our field at all (what the bot is for, the menu).
    """
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
        text = DECLINES["off-topic" if off_topic else "near"]
        reply = Reply(html.escape(text), text, _browse_rows(browse or []))
    return _convert(reply, result.reader, limit)


# the declines that say why: not our field at all, or our field with no ready answer (related and missing aside)
DECLINES = {
    "off-topic": (
        "这个不在我能聊的范围里。我是专门解释营销、销售、市场、运营这些岗位的机器人：它们各做什么、有什么区别、"
        "怎么配合、怎么选。可以从下面的话题开始看看。"
    ),
    "near": "这个问题我没有现成的答案，也不想乱答。可以换个问法，或者从下面的话题里看看我讲得了的部分。",
}
# a reply to an insult or nonsense: short and calm, with the way back to a question
CALM = "抱歉没帮上忙。换个说法再问一次，我尽量答好；比如「营销和销售有什么区别？」"
# requests about the last answer that need one, or that we cannot do
NOTES = {
    "no-last-answer": "我还没回答过你的问题呢。先问我一个问题，比如「营销和运营有什么区别？」，再让我简化、举例或换成繁体。",
    "unservable": (
        "这个要求我做不到。对上一个回答，我能：说得更简单（再简单点）、举个例子、换成繁体或简体、"
        "详细说说，或者和别的岗位比一比（和销售比呢）。"
    ),
    "doubt": "我只按资料回答，不自己编：上一个回答下面写着它的来源，可以对照着看；觉得答得不对，点 👎 告诉我。",
    "no-example": "这个话题的资料里没有现成的例子，我不想编一个。可以点「📖 更多」看看原文摘要。",
}


def with_lead(reply: Reply, sentence: str, reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Put one sentence before a reply (a premise corrected, what a relation question fell back to)."""
    shown = reader.write(sentence)
    return Reply(f"{html.escape(shown)}\n\n{reply.html}", f"{shown}\n\n{reply.plain}", reply.buttons)


def render_note(kind: str, categories: list[str] | None = None, reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render a short plain reply: a calm one to an insult, or a note about a request on the last answer."""
    text = CALM if kind == "calm" else NOTES[kind]
    return _convert(Reply(html.escape(text), text, _browse_rows(categories or [])), reader)


def render_example(text: str, source: str, topic: str, question: str, reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render an example from the sources of the last answer, with its source and a way back to the answer."""
    body = f"举个资料里的例子：\n{text}"
    src = f"来源：《{source}》" if source else ""
    plain = body + (f"\n\n{src}" if src else "")
    shown = html.escape(body) + (f"\n\n<i>{html.escape(src)}</i>" if src else "")
    rows = [[b]] if (b := _button(question, ShowTopic(topic))) is not None else []
    return _convert(Reply(shown, plain, rows), reader)


def render_mentions(term: str, mentions: list[tuple[str, str, str, str]], reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render what the knowledge says about a role it mentions only in passing: (text, source, topic, question)."""
    lines = [f"我没有专门讲「{term}」的资料，资料里提到它的地方有："]
    parts_html = [html.escape(lines[0])]
    for text, source, _, _ in mentions:
        lines.append(f"• {text}\n  来源：《{source}》")
        parts_html.append(f"• {html.escape(text)}\n  <i>来源：《{html.escape(source)}》</i>")
    rows = [
        [b]
        for topic, question in dict.fromkeys((m[2], m[3]) for m in mentions)
        if (b := _button(question, ShowTopic(topic))) is not None
    ]
    return _convert(Reply("\n".join(parts_html), "\n".join(lines), rows), reader)


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
    if name and missing.aspect in ASPECTS_OF_ROLES:
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


def render_help(reader: Reader = SIMPLIFIED_READER, *, terminal: bool = False) -> Reply:
    """Render /help: what can be typed, here (`terminal`: the chat in a terminal) or in Telegram."""
    lines = [
        "可以这样用：",
        "• 直接发问题，例如「市场部和销售部有什么区别？」（简体、繁體都可以）",
        "• 接着上一个回答追问：那运营呢、和销售比呢、它们谁更重要、前者要什么能力",
        "• 对上一个回答：再简单点、举个例子、详细说说、换成繁体说一遍",
        "• /topics 浏览所有话题",
    ]
    if terminal:
        lines += ["• 输入按钮前的数字，等于点那个按钮", "• /help 看这段说明；q、quit、exit 或 Ctrl-D 退出"]
    else:
        lines += [
            "• /ask 问题 —— 在群里请用这个方式问我，或者回复我的消息",
            "• 回答下面的按钮可以继续追问、看原文摘要，或者告诉我答得好不好",
        ]
    text = "\n".join(lines)
    return _convert(Reply(html.escape(text), text), reader)


def render_topics(categories: list[str], reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render /topics: the browse menu alone, without the greeting."""
    text = "选一个方向看看相关的问题："
    return _convert(Reply(html.escape(text), text, _browse_rows(categories)), reader)


def render_topic_list(category: str, topics: list[tuple[str, str]], reader: Reader = SIMPLIFIED_READER) -> Reply:
    """Render the questions under one browse category."""
    text = f"「{category}」相关的问题："
    rows = [[b] for topic, question in topics if (b := _button(question, ShowTopic(topic))) is not None]
    return _convert(Reply(html.escape(text), text, rows), reader)


LINE = 80  # the longest line of 📖 更多, in characters: a phone shows it in two or three rows
_SENTENCE = re.compile(r"(?<=[。！？])")
_PIECE = re.compile(r"(?<=[；;])")
_CLAUSE = re.compile(r"(?<=[，、：])")


def _pack(pieces: list[str], width: int, split: re.Pattern[str] | None) -> list[str]:
    """Put pieces on lines of at most `width` characters, cutting a piece too long at `split`, else anywhere."""
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if len(piece) > width:
            if line:
                lines.append(line)
                line = ""
            if split is not None:
                lines += _pack([x for x in split.split(piece) if x], width, None if split is _CLAUSE else _CLAUSE)
            else:
                lines += [piece[i : i + width] for i in range(0, len(piece), width)]
            continue
        if len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    return [*lines, line] if line else lines


def wrap(text: str, width: int = LINE) -> list[str]:
    """Cut a text into lines of at most `width` characters: at a semicolon, else a comma, else anywhere."""
    return _pack([x for x in _PIECE.split(text.strip()) if x], width, _CLAUSE)


def _bullets(text: str, width: int = LINE) -> list[str]:
    """Write a passage as bullets, one per sentence (a long one goes on over indented lines)."""
    out: list[str] = []
    for sentence in (x.strip() for x in _SENTENCE.split(text.replace("\n", "")) if x.strip()):
        out += [("• " if i == 0 else "  ") + line for i, line in enumerate(wrap(sentence, width - 2))]
    return out


def _source_lines(sources: list[Source]) -> list[str]:
    """Write a passage's sources one a line, each within the line limit."""
    return [_fit(("来源：" if i == 0 else "　　　") + format_source(s), LINE) for i, s in enumerate(sources)]


def render_passages(passages: list[PassageRow], reader: Reader = SIMPLIFIED_READER, limit: int | None = None) -> Reply:
    """Render the passage digests behind an answer (📖 更多) as short bullets, within `limit` UTF-16 units."""
    if not passages:
        text = "这个话题暂时没有更多原文摘要。"
        return _convert(Reply(html.escape(text), text), reader)
    blocks_html, blocks_plain = [], []
    room = None if limit is None else limit // min(len(passages), 3) - 4  # 4: the blank lines between blocks
    for p in passages[:3]:
        title = _fit(str(p.get("title") or ""), LINE)
        srcs = p.get("sources") or []
        src_lines = _source_lines(srcs) if isinstance(srcs, list) else []
        body = _bullets(str(p["text"]))
        blocks_plain.append("\n".join([*([title] if title else []), *body, *src_lines]))
        head = f"<b>{html.escape(title)}</b>\n" if title else ""
        src = "\n".join(src_lines)
        tail = f"\n<i>{html.escape(src)}</i>" if src else ""
        text_room = _less(room, title, "\n" if title else "", f"\n{src}" if src else "")
        blocks_html.append(head + _escape_fit("\n".join(body), text_room) + tail)
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
