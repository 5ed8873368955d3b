"""Rendering replies: escaping, Telegram's limits, Traditional script, sources lines, buttons."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from rolebot.conversation.groups import GroupSettings
from rolebot.conversation.render import (
    CB_LIMIT,
    Reply,
    action,
    render_help,
    render_passages,
    render_plain,
    render_result,
    render_settings,
    render_topic_list,
    render_welcome,
    units,
)
from rolebot.conversation.service import Service
from rolebot.engine.engine import Result
from rolebot.language.script import SIMPLIFIED_READER, TRADITIONAL, Reader
from rolebot.tg.limits import MESSAGE_UNITS as LIMIT

SOURCE = {"title": "营销、销售、市场和运营的区别是什么？", "author": "柠檬黄", "site": "知乎专栏"}
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
}
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def answer(
    text: str = "一句话：销售是营销的一部分。",
    *,
    question: str = "营销和销售有什么区别？",
    reader: Reader = SIMPLIFIED_READER,
    sources: list[dict[str, str]] | None = None,
    **over: object,
) -> Result:
    r = Result(
        True,
        "answer",
        reader,
        topic="marketing-vs-sales",
        entry_id="marketing-vs-sales",
        score=97,
        question=question,
        answer=text,
        sources=[SOURCE] if sources is None else sources,
        follow_ups=[
            {"topic": "what-is-marketing", "question": "营销是什么？"},
            {"topic": "what-is-sales", "question": "销售是什么？"},
        ],
        has_more=True,
    )
    for k, v in over.items():
        setattr(r, k, v)
    return r


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def assert_telegram_html(text: str) -> None:
    """Assert text is what Telegram's HTML parse mode accepts: known tags, balanced, only real entities."""
    shown = html.unescape(re.sub(r"<[^>]*>", "", text))  # what Telegram counts: the text after parsing
    assert units(shown) <= LIMIT, f"{units(shown)} UTF-16 code units"
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    for m in re.finditer("&", text):
        assert ENTITY.match(text, m.start()), (
            f"bare or broken entity at {m.start()}: {text[m.start() : m.start() + 8]!r}"
        )
    stripped = re.sub(r"<[^>]*>", "", text)
    assert "<" not in stripped and ">" not in stripped


def assert_buttons_fit(reply: Reply) -> None:
    for b in reply.flat_buttons():
        assert b.action or b.url
        assert len(b.action.encode("utf-8")) <= CB_LIMIT, b.action


# -- escaping ---------------------------------------------------------------------------------------


def test_answer_html_is_escaped() -> None:
    r = render_result(
        answer(
            "用 <b>粗体</b> & <script>x</script> 说明",
            question="A<B & C>D？",
            sources=[{"title": "<i>标题</i> & 来源", "author": "作者<script>"}],
        )
    )
    assert "&lt;b&gt;粗体&lt;/b&gt;" in r.html
    assert "&lt;script&gt;" in r.html and "<script>" not in r.html
    assert "<b>A&lt;B &amp; C&gt;D？</b>" in r.html
    assert "&lt;i&gt;标题&lt;/i&gt; &amp; 来源" in r.html
    assert "<b>粗体</b>" in r.plain  # the terminal shows the text as written
    assert_telegram_html(r.html)


def test_passages_are_escaped() -> None:
    r = render_passages([{"title": "<b>题</b>", "text": "a < b & c > d", "sources": [{"title": "源&"}]}])
    assert "&lt;b&gt;题&lt;/b&gt;" in r.html and "a &lt; b &amp; c &gt; d" in r.html
    assert_telegram_html(r.html)


def test_unsure_labels_are_plain_button_text() -> None:
    r = Result(
        False,
        "unsure",
        SIMPLIFIED_READER,
        score=55,
        candidates=[
            {"topic": "what-is-sales", "score": 55, "question": "销售 <是> 什么？"},
            {"topic": "what-is-marketing", "score": 50, "question": "营销是什么？"},
        ],
    )
    reply = render_result(r)
    assert [b.label for b in reply.flat_buttons()] == ["销售 <是> 什么？", "营销是什么？", "都不是"]
    assert [b.action for b in reply.flat_buttons()] == ["t:what-is-sales", "t:what-is-marketing", "n"]
    assert_telegram_html(reply.html)


# -- Telegram's limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(answer("营销" * 3000), id="long-answer"),
        pytest.param(answer("营销" * 3000, reader=Reader(TRADITIONAL)), id="long-answer-traditional"),
        pytest.param(answer("营销\n" * 2000), id="many-lines"),
        pytest.param(answer("x", sources=[SOURCE] * 40), id="many-sources"),
        pytest.param(answer("<b>" * 2000), id="escaping-grows-text"),
        pytest.param(answer("答案", question="问" * 5000), id="long-question"),
    ],
)
def test_answer_never_over_limit(result: Result) -> None:
    reply = render_result(result, limit=LIMIT)
    assert units(reply.plain) <= LIMIT
    assert_telegram_html(reply.html)


def test_short_answer_for_groups() -> None:
    reply = render_result(
        answer("第一行\n第二行\n第三行\n第四行\n第五行"), short=True, deep_link="https://t.me/x?start=t"
    )
    assert "第三行" in reply.plain and "第四行" not in reply.plain and "…" in reply.plain
    assert [(b.label, b.url) for b in reply.flat_buttons()] == [("详细", "https://t.me/x?start=t")]


@pytest.mark.parametrize("length", [pytest.param(n, id=f"text-{n}") for n in (1200, 1290, 1310, 1330, 1360)])
def test_long_passages_stay_valid_html(length: int) -> None:
    passages = [{"title": f"标题{i}", "text": "文" * length, "sources": [SOURCE]} for i in range(3)]
    reply = render_passages(passages, limit=LIMIT)
    assert units(reply.plain) <= LIMIT
    assert_telegram_html(reply.html)


def test_long_passages_are_cut_outside_tags() -> None:
    for length in range(1200, 1400):
        for text in ("文" * length, "&" * (length // 5)):
            passages = [{"title": "标题", "text": text, "sources": [SOURCE]} for _ in range(3)]
            assert_telegram_html(render_passages(passages, limit=LIMIT).html)


def test_callback_data_limit() -> None:
    assert action("t", "marketing-director-vs-operations-director") == "t:marketing-director-vs-operations-director"
    with pytest.raises(ValueError):
        action("t", "长" * 30)  # 92 bytes in UTF-8
    long_id = "x" * 70
    r = answer(
        entry_id=long_id,
        follow_ups=[
            {"topic": long_id, "question": "太长的话题"},
            {"topic": "what-is-sales", "question": "销售是什么？"},
        ],
    )
    reply = render_result(r)
    assert_buttons_fit(reply)
    labels = [b.label for b in reply.flat_buttons()]
    assert "太长的话题" not in labels and "销售是什么？" in labels
    # 👍/👎/更多 name the over-long id by its digest (tests/test_limits.py presses them)
    assert {"👍", "👎"} <= set(labels)


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        pytest.param("😀" * 3000, False, id="emoji-3000-chars-6000-units"),
        pytest.param("营销😀" * 1000, True, id="2000-chars-3000-units"),
        pytest.param("&<>" * 1300, True, id="dense-in-escapes"),
        pytest.param("a" * 4000, True, id="just-under"),
    ],
)
def test_limit_is_utf16_units_of_the_parsed_text(text: str, whole: bool) -> None:
    reply = render_result(answer(text, question="问题", sources=[]), limit=LIMIT)
    assert_telegram_html(reply.html)
    shown = html.unescape(re.sub(r"<[^>]*>", "", reply.html))
    assert (text in shown) is whole and ("…" in shown) is not whole
    if not whole:
        assert units(shown) > LIMIT - 3  # cut at the limit, not long before it


def test_every_reply_of_the_service_fits(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "text_limit", LIMIT)  # as the Telegram edge sets it
    replies = [service.welcome(), service.help(), render_settings(GroupSettings())]
    for category in service.categories:
        reply = service.browse(category)
        assert reply is not None
        replies.append(reply)
    for topic, _, _ in service.store.topics():
        shown = service.topic(topic)
        assert shown is not None
        replies.append(shown.reply)
        more = service.more(shown.result.entry_id or "")
        assert more is not None
        replies.append(more)
    for reply in replies:
        assert_telegram_html(reply.html)
        assert units(reply.plain) <= LIMIT
        assert_buttons_fit(reply)


# -- Traditional ----------------------------------------------------------------------------------


def test_traditional_rendering() -> None:
    reply = render_result(answer("一句话：销售是营销的一部分。", reader=Reader(TRADITIONAL)))
    assert "銷售是營銷的一部分" in reply.html
    assert "來源：" in reply.plain and "来源" not in reply.plain
    labels = [b.label for b in reply.flat_buttons()]
    assert "營銷是什麼？" in labels
    assert [b.action for b in reply.flat_buttons()][:2] == ["t:what-is-marketing", "t:what-is-sales"]


def test_traditional_decline_and_welcome() -> None:
    decline = render_result(Result(False, "decline", Reader(TRADITIONAL)), browse=["营销", "销售"])
    assert "這個問題" in decline.plain
    assert [b.label for b in decline.flat_buttons()] == ["營銷", "銷售"]
    assert [b.action for b in decline.flat_buttons()] == ["b:营销", "b:销售"]  # data stays as stored
    assert "營銷" in render_welcome(["营销"], Reader(TRADITIONAL)).plain
    assert "簡體" in render_help(Reader(TRADITIONAL)).plain or "繁體" in render_help(Reader(TRADITIONAL)).plain


def test_service_reply_follows_question_script(service: Service) -> None:
    reply = service.ask("營銷和銷售的區別", record=False).reply
    assert "來源：" in reply.plain and "營銷" in reply.html
    forced = service.ask("营销和销售有什么区别", record=False, script=TRADITIONAL).reply
    assert "來源：" in forced.plain


# -- sources line -----------------------------------------------------------------------------------


def test_answer_has_sources_line() -> None:
    reply = render_result(answer(sources=[SOURCE, {"title": "市场营销与销售的区别意义"}]))
    assert (
        "来源：《营销、销售、市场和运营的区别是什么？》（柠檬黄 · 知乎专栏）；《市场营销与销售的区别意义》"
        in reply.plain
    )
    assert "<i>来源：" in reply.html


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(Result(False, "decline", SIMPLIFIED_READER, score=20), id="decline"),
        pytest.param(Result(False, "empty", SIMPLIFIED_READER), id="empty"),
        pytest.param(
            Result(
                False,
                "unsure",
                SIMPLIFIED_READER,
                score=50,
                candidates=[
                    {"topic": "a", "score": 50, "question": "甲？"},
                    {"topic": "b", "score": 48, "question": "乙？"},
                ],
            ),
            id="unsure",
        ),
    ],
)
def test_no_sources_line_without_an_answer(result: Result) -> None:
    reply = render_result(result, browse=["营销"])
    assert "来源" not in reply.plain and "来源" not in reply.html
    assert_telegram_html(reply.html)


def test_decline_offers_browse_and_honesty() -> None:
    reply = render_result(Result(False, "decline", SIMPLIFIED_READER), browse=["营销", "销售", "市场", "运营"])
    assert "没有现成的答案" in reply.plain
    assert [len(row) for row in reply.buttons] == [3, 1]
    off = render_result(Result(False, "decline", SIMPLIFIED_READER), browse=["营销"], off_topic=True)
    assert off.plain.startswith("这个不在我能聊的范围里") and "营销、销售、市场、运营" in off.plain


def test_related_says_no_ready_answer_and_offers_the_nearest() -> None:
    r = Result(
        False,
        "related",
        SIMPLIFIED_READER,
        score=12,
        candidates=[
            {"topic": "content-operations", "score": 12, "question": "内容运营是做什么的？"},
            {"topic": "career-paths", "score": 4, "question": "营销、销售、运营以后的发展路径分别是什么？"},
        ],
    )
    reply = render_result(r, browse=["营销"])
    assert reply.plain.startswith("这个问题我没有现成的答案；最接近的是")
    assert [b.action for b in reply.flat_buttons()] == ["t:content-operations", "t:career-paths"]
    traditional = render_result(Result(False, "related", Reader(TRADITIONAL), candidates=r.candidates))
    assert "這個問題我沒有現成的答案" in traditional.plain
    assert_telegram_html(reply.html)


def test_answer_buttons() -> None:
    reply = render_result(answer())
    rows = [[b.action for b in row] for row in reply.buttons]
    assert rows == [
        ["t:what-is-marketing"],
        ["t:what-is-sales"],
        ["m:marketing-vs-sales", "u:marketing-vs-sales", "d:marketing-vs-sales"],
    ]


def test_render_plain_numbers_buttons() -> None:
    text = render_plain(render_result(answer()))
    assert text.splitlines()[-5:] == [
        "  [1] 营销是什么？",
        "  [2] 销售是什么？",
        "  [3] 📖 更多",
        "  [4] 👍",
        "  [5] 👎",
    ]


def test_topic_list_and_settings() -> None:
    reply = render_topic_list("营销", [("what-is-marketing", "营销是什么？")])
    assert [b.action for b in reply.flat_buttons()] == ["t:what-is-marketing"]
    settings = render_settings(GroupSettings(mode="auto", threshold=70))
    assert "✅ 也主动回答有把握的问题" in [b.label for b in settings.flat_buttons()]
    assert "✅ ≥70" in [b.label for b in settings.flat_buttons()]
    assert_buttons_fit(settings)
