"""Traditional replies: characters converted only, the reader's own Taiwan words, titles as published."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import opencc
import pytest

from rolebot.conversation.render import render_passages, render_result
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import shipped_paths
from rolebot.kb.records import Record, load_records
from rolebot.language.script import TRADITIONAL, Reader, detect_region, glossary, reader_of
from rolebot.language.vocabulary import vocabulary

T2S = opencc.OpenCC("t2s")
ALL_WORDS = frozenset(w.simplified for w in glossary().words)
# a glossary word and what its local form converts back to (营销 / 行销) count as the same word
_SLOTS = {x: chr(0xE000 + i) for i, w in enumerate(glossary().words) for x in (w.simplified, T2S.convert(w.local))}
_SLOT_RE = re.compile("|".join(sorted(map(re.escape, _SLOTS), key=len, reverse=True)))


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return load_records(shipped_paths())


def shipped_texts(records: list[Record]) -> list[tuple[str, str]]:
    """Every answer, question (also a button label), passage text and title we ship, with an id."""
    out = []
    for r in records:
        fields = ("question", "answer") if r.kind == "faq" else ("title", "text")
        out += [(f"{r.id}.{f}", str(r.data[f])) for f in fields if r.data.get(f)]
    out += [(f"browse.{c}", c) for c in vocabulary().browse]  # the browse buttons
    return out


def _slots(text: str) -> str:
    return _SLOT_RE.sub(lambda m: _SLOTS[m.group(0)], text)


def differences(simplified: str, traditional: str, *, local: bool = False) -> set[tuple[str, str]]:
    """Return what differs between a text and its Traditional rendering converted back (`local`: glossary aside)."""
    back = T2S.convert(traditional)
    if local:
        simplified, back = _slots(simplified), _slots(back)
    ops = difflib.SequenceMatcher(None, simplified, back, autojunk=False).get_opcodes()
    return {(simplified[i1:i2], back[j1:j2]) for op, i1, i2, j1, j2 in ops if op != "equal"}


@pytest.mark.parametrize("region", ["tw", "hk"])
@pytest.mark.parametrize("words", [frozenset(), ALL_WORDS], ids=["no-local-words", "all-local-words"])
def test_traditional_round_trips_every_shipped_text(records: list[Record], region: str, words: frozenset[str]) -> None:
    reader = Reader(TRADITIONAL, region, words)
    allowed = {("着", "著")}
    wrong = {
        key: sorted(d - allowed)
        for key, text in shipped_texts(records)
        if (d := differences(text, reader.write(text), local=bool(words))) - allowed
    }
    assert wrong == {}


def test_round_trip_covers_what_the_bot_shows(records: list[Record], service: Service) -> None:
    """Whole rendered replies (answer card, buttons, passages) convert back too."""
    reader = Reader(TRADITIONAL, "tw", ALL_WORDS)
    allowed = {("着", "著")}
    bad = []
    for r in records:
        if r.kind != "faq":
            continue
        simple = service.topic(str(r.data["topic"]))
        shown = service.topic(str(r.data["topic"]), reader)
        assert simple is not None and shown is not None
        pairs = [(simple.reply.plain, shown.reply.plain)]
        pairs += zip(
            [b.label for b in simple.reply.flat_buttons()], [b.label for b in shown.reply.flat_buttons()], strict=True
        )
        more_s, more_t = service.more(r.id), service.more(r.id, reader)
        if more_s and more_t:
            pairs.append((more_s.plain, more_t.plain))
        bad += [(r.id, d - allowed) for s, t in pairs if (d := differences(s, t, local=True)) - allowed]
    assert bad == []


def test_shipped_simplified_knowledge_has_no_traditional_characters(records: list[Record]) -> None:
    mixed = {key: text for key, text in shipped_texts(records) if T2S.convert(text) != text}
    sources = {
        (r.id, s["title"])
        for r in records
        for s in r.data.get("sources") or []
        if T2S.convert(s["title"]) != s["title"]
    }
    assert (mixed, sources) == ({}, set())


def test_phrases_are_not_rewritten() -> None:
    """OpenCC's s2twp rewrote these as 計程車兵, 物件, 聯絡, 型別, 使用者."""
    text = Reader(TRADITIONAL).write("冲在前线的士兵；对象是企业；区别和联系；类型；用户")
    assert text == "衝在前線的士兵；對象是企業；區別和聯繫；類型；用戶"


@pytest.mark.parametrize(
    "question, words",
    [
        pytest.param("行銷和業務有什麼不同", {"营销", "销售"}, id="xingxiao-yewu"),
        pytest.param("營運是做什麼的", {"运营"}, id="yingyun"),
        pytest.param("營銷和銷售的區別", set(), id="mainland-words-in-traditional"),
        pytest.param("行销和业务有什么不同", set(), id="simplified"),
    ],
)
def test_reader_remembers_the_local_words_used(question: str, words: set[str]) -> None:
    assert reader_of(question).words == words


def test_local_words_only_for_the_reader_who_used_them() -> None:
    text = "营销让产品好卖，销售把产品卖好；运营管留存"
    assert Reader(TRADITIONAL).write(text) == "營銷讓產品好賣，銷售把產品賣好；運營管留存"
    used = reader_of("行銷跟業務差在哪，營運呢")
    assert used.write(text) == "行銷讓產品好賣，業務把產品賣好；營運管留存"


def test_kept_compounds_and_published_titles_keep_their_words() -> None:
    reader = Reader(TRADITIONAL, "tw", ALL_WORDS)
    assert reader.write("运营销售两头跑") == "營運業務兩頭跑"  # not 運 + 行銷 + 售
    assert reader.write("销售额和销售渠道由销售部负责") == "銷售額和銷售渠道由業務部負責"
    assert reader.write("来源：《营销、销售和运营的区别》") == "來源：《營銷、銷售和運營的區別》"


@pytest.mark.parametrize(
    "question, region",
    [
        pytest.param("營銷和銷售有什麼區別", "tw", id="taiwan-default"),
        pytest.param("市場推廣同銷售有咩分別", "hk", id="cantonese-me"),
        pytest.param("做營運係咪好辛苦", "hk", id="cantonese-hai"),
        pytest.param("營銷和銷售是什麼關係", "tw", id="guanxi-is-not-cantonese"),
        pytest.param("用户運營裏面做什麼", "hk", id="hong-kong-forms"),
        pytest.param("用戶運營裡面做什麼", "tw", id="taiwan-forms"),
    ],
)
def test_region(question: str, region: str) -> None:
    assert detect_region(question) == region


def test_hong_kong_reader_gets_hong_kong_forms(service: Service) -> None:
    reply = service.ask("用户運營係做咩嘅", record=False).reply
    assert reply.plain and "户" in reply.plain and "戶" not in reply.plain


def test_our_own_reply_reads_back_as_the_same_reader(service: Service) -> None:
    """A button press finds the reader from the message it was pressed on."""
    for question in ("行銷和業務有什麼不同", "用户運營係做咩嘅", "營運是做什麼的"):
        answer = service.ask(question, record=False)
        assert reader_of(answer.reply.plain) == answer.result.reader, question


def test_passages_rendered_for_the_reader() -> None:
    passages = [{"title": "营销是战略", "text": "销售是战术", "sources": [{"title": "营销和销售"}]}]
    reply = render_passages(passages, Reader(TRADITIONAL, "tw", ALL_WORDS))
    assert reply.plain == "行銷是戰略\n業務是戰術\n來源：《營銷和銷售》"


def test_cli_answers_in_the_readers_words(cli, db_path: Path) -> None:
    res = cli("ask", "行銷和業務有什麼不同", "--db", str(db_path))
    assert res.exit_code == 0, res.output
    answer = res.stdout.split("來源")[0]
    assert "行銷" in answer and "業務" in answer
    assert "營銷" not in answer and "营销" not in answer


def test_decline_in_traditional_is_converted() -> None:
    from rolebot.engine.engine import Result

    reply = render_result(Result(False, "decline", reader_of("今天天氣如何")), browse=["营销", "运营"])
    assert "這個問題" in reply.plain and [b.label for b in reply.flat_buttons()] == ["營銷", "運營"]
