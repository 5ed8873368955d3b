"""Traditional replies: the reader's region and words, the right characters, titles as published (issue 29)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rolebot.conversation.render import render_passages, render_result
from rolebot.conversation.service import Service
from rolebot.engine.engine import Result
from rolebot.kb.records import Record
from rolebot.language.glossary import glossary
from rolebot.language.script import SIMPLIFIED, TRADITIONAL, Reader, detect_region, reader_of
from tests.helpers.traditional import (
    HK_QUESTION,
    differences,
    entry_cards,
    faq_records,
    mainland_quotes,
    mainland_words,
    plain_traditional,
    simplified_texts,
    taiwan_reader,
    taiwan_wording,
    wrong_forms,
)

TW = glossary().region_words("tw")
HK = glossary().region_words("hk")


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return faq_records()


READERS = [
    pytest.param(Reader(TRADITIONAL, "tw"), id="taiwan-characters-only"),
    pytest.param(Reader(TRADITIONAL, "tw", TW), id="taiwan-wording"),
    pytest.param(Reader(TRADITIONAL, "hk", HK), id="hong-kong"),
]


@pytest.mark.parametrize("reader", READERS)
def test_every_shipped_text_round_trips_and_has_no_wrong_form(reader: Reader) -> None:
    """Every answer, question, passage, button and UI string, converted back, says what ours says (the glossary
    aside), and shows no known-wrong form."""
    trips, wrong = {}, {}
    for key, text in simplified_texts():
        shown = reader.write(text)
        if diff := differences(text, shown):
            trips[key] = sorted(diff)
        if bad := wrong_forms(shown, reader.region):
            wrong[key] = bad
    assert (trips, wrong) == ({}, {})


@pytest.mark.parametrize(
    "question_of, expect_words",
    [pytest.param(taiwan_wording, True, id="taiwan-wording"), pytest.param(plain_traditional, False, id="plain")],
)
def test_every_answer_for_a_taiwan_reader(
    records: list[Record], service: Service, question_of, expect_words: bool
) -> None:
    """Issue 29's acceptance over the 49 answers: no wrong character, mainland word or “ ”; the round trip holds."""
    readers = {r.id: reader_of(question_of(str(r.data["question"]))) for r in records}
    cards = list(entry_cards(service, records, readers))
    assert len(cards) == len(records) >= 49
    wrong = [(c.entry_id, w) for c in cards for _, t in c.texts() for w in wrong_forms(t, "tw")]
    trips = [c.entry_id for c in cards if any(differences(s, t) for s, t in c.texts())]
    quotes = sum(mainland_quotes(t) for c in cards for _, t in c.texts())
    # a plain reader who wrote 營銷 gets 營銷 back; every other glossary word is Taiwan's for both
    words = [(c.entry_id, w) for c in cards for _, t in c.texts() for w in mainland_words(t) if w in c.reader.words]
    assert (wrong, trips, quotes, words) == ([], [], 0, [])
    if expect_words:
        assert all(c.reader.words == TW for c in cards)


def test_known_wrong_forms_are_what_opencc_writes() -> None:
    """The correction table is needed: without it OpenCC writes these in our knowledge."""
    import opencc

    raw = " ".join(str(opencc.OpenCC("s2tw").convert(t)) for _, t in simplified_texts())
    assert {"錶達", "籤單", "製定", "推广部"} <= {w for w in glossary().wrong_forms("tw") if w in raw}
    hk = " ".join(str(opencc.OpenCC("s2hk").convert(t)) for _, t in simplified_texts())
    assert "説" in hk and "裏" in hk


def test_phrases_are_not_rewritten() -> None:
    """OpenCC's s2twp rewrote these as 計程車兵, 物件, 聯絡, 型別, 使用者."""
    text = Reader(TRADITIONAL, "tw", TW).write("冲在前线的士兵；对象是企业；区别和联系；类型；用户")
    assert text == "衝在前線的士兵；對象是企業；區別和聯繫；類型；用戶"


@pytest.mark.parametrize(
    "question, region, roles",
    [
        pytest.param("行銷和業務有什麼不同", "tw", {"营销", "销售", "运营"}, id="xingxiao-yewu"),
        pytest.param("營運是做什麼的", "tw", {"营销", "销售", "运营"}, id="yingyun"),
        pytest.param("營銷和銷售的區別", "tw", {"运营"}, id="mainland-words-in-traditional"),
        pytest.param("銷售額怎麼算", "tw", {"营销", "销售", "运营"}, id="kept-phrase-is-no-mainland-word"),
        pytest.param("行销和业务有什么不同", "cn", set(), id="simplified"),
        pytest.param("市場推廣同營銷有咩分別", "hk", set(), id="hong-kong"),
    ],
)
def test_reader_of_a_question(question: str, region: str, roles: set[str]) -> None:
    reader = reader_of(question)
    assert reader.region == region
    assert {w.mainland for w in glossary().roles()} & reader.words == roles
    if region == "tw":
        assert reader.words - {w.mainland for w in glossary().roles()} == TW - {"营销", "销售", "运营"}


def test_role_words_are_written_back_as_the_reader_wrote_them() -> None:
    text = "营销让产品好卖，销售把产品卖好；运营管留存，渠道要铺"
    assert Reader(TRADITIONAL).write(text) == "營銷讓產品好賣，銷售把產品賣好；運營管留存，渠道要鋪"
    assert reader_of("行銷跟業務差在哪").write(text) == "行銷讓產品好賣，業務把產品賣好；營運管留存，通路要鋪"
    assert reader_of("營銷跟業務差在哪").write(text) == "營銷讓產品好賣，業務把產品賣好；營運管留存，通路要鋪"


def test_kept_compounds_and_published_titles_keep_their_words() -> None:
    reader = Reader(TRADITIONAL, "tw", TW)
    assert reader.write("运营销售两头跑") == "營運業務兩頭跑"  # not 運 + 行銷 + 售
    assert reader.write("销售额和销售渠道由销售部负责") == "銷售額和銷售通路由業務部負責"
    assert reader.write("来源：《营销、销售和运营的区别》") == "來源：《营销、销售和运营的区别》"


def test_source_titles_are_shown_as_published(service: Service) -> None:
    answer = service.ask("行銷和業務有什麼不同", record=False)
    title = answer.result.sources[0]["title"]
    assert f"《{title}》" in answer.reply.plain and f"《{title}》" in answer.reply.html


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
    answer = service.ask(HK_QUESTION, record=False)
    assert answer.result.reader.region == "hk" and answer.result.topic == "promotion-vs-marketing"
    text = answer.reply.plain
    assert "營銷" in text and "渠道" in text  # Hong Kong keeps these; Taiwan writes 行銷, 通路
    assert not [w.tw for w in glossary().words if w.tw and w.tw != w.hk and w.tw in text]
    assert wrong_forms(text, "hk") == [] and mainland_quotes(text) == 0
    reply = service.ask("用户運營係做咩嘅", record=False).reply
    assert "户" in reply.plain and "戶" not in reply.plain  # Hong Kong's glyph, as s2hk writes it


def test_our_own_reply_reads_back_as_the_same_reader(service: Service) -> None:
    """A button press finds the reader from the message it was pressed on."""
    for question in (
        "行銷和業務有什麼不同",
        "用户運營係做咩嘅",
        "營運是做什麼的",
        "營銷和銷售的區別",
        "市場營銷策劃和銷售策劃有什麼區別",
    ):
        answer = service.ask(question, record=False)
        assert reader_of(answer.reply.plain) == answer.result.reader, question


def test_xingxiao_question_buttons_and_menus_use_taiwan_words(service: Service) -> None:
    answer = service.ask("行銷是什麼", record=False)
    reader = answer.result.reader
    labels = [b.label for b in answer.reply.flat_buttons()]
    menu = [b.label for b in service.welcome(reader).flat_buttons()]
    listing = service.browse("营销", reader)
    assert listing is not None
    items = [b.label for b in listing.flat_buttons()]
    assert menu[:4] == ["行銷", "業務", "市場", "營運"]
    assert [w for t in [*labels, *menu, *items, listing.plain] for w in mainland_words(t)] == []
    assert any("行銷" in t for t in labels)


def test_every_reply_kind_is_rendered_for_the_reader(service: Service) -> None:
    reader = taiwan_reader()
    decline = render_result(Result(False, "decline", reader), browse=["营销", "运营"])
    assert "這個問題" in decline.plain
    off_topic = render_result(Result(False, "decline", reader), browse=["营销", "运营"], off_topic=True)
    assert "行銷" in off_topic.plain and "營運" in off_topic.plain
    assert [b.label for b in decline.flat_buttons()] == ["行銷", "營運"]
    assert "業務部" in service.help(reader).plain and "營運" in service.welcome(reader).plain
    talk = service.ask("謝謝", record=False)
    assert talk.result.reader.traditional and talk.reply.plain.startswith("不客氣")


def test_passages_rendered_for_the_reader() -> None:
    passages = [{"title": "营销是战略", "text": "销售是战术，渠道是“路”", "sources": [{"title": "营销和销售"}]}]
    reply = render_passages(passages, Reader(TRADITIONAL, "tw", TW))
    assert reply.plain == "行銷是戰略\n• 業務是戰術，通路是「路」\n來源：《营销和销售》"


@pytest.mark.parametrize(
    "script, region, has",
    [
        pytest.param("simplified", "cn", "营销", id="simplified"),
        pytest.param("traditional", "tw", "營銷", id="traditional"),
        pytest.param("tw", "tw", "行銷", id="taiwan"),
        pytest.param("hk", "hk", "營銷", id="hong-kong"),
    ],
)
def test_a_group_setting_overrides_the_reader(service: Service, script: str, region: str, has: str) -> None:
    answer = service.ask("营销和销售有什么区别", record=False, script=script)
    assert answer.result.reader.region == region and has in answer.reply.plain
    assert answer.result.reader.script == (SIMPLIFIED if script == "simplified" else TRADITIONAL)


def test_cli_answers_in_the_readers_words(cli, db_path: Path) -> None:
    res = cli("ask", "行銷和業務有什麼不同", "--db", str(db_path))
    assert res.exit_code == 0, res.output
    answer = res.stdout.split("來源")[0]
    assert "行銷" in answer and "業務" in answer
    assert "營銷" not in answer and "营销" not in answer


def test_cli_json_is_rendered_for_the_reader(cli, db_path: Path) -> None:
    res = cli("ask", "行銷和業務有什麼不同", "--json", "--db", str(db_path))
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["script"], data["region"]) == ("traditional", "taiwan")
    assert "行銷" in data["question"] and "行銷" in data["answer"] and "营销" not in data["answer"]
    assert all("营" not in f["question"] for f in data["follow_ups"])
    assert data["sources"][0]["title"] == "营销、销售、市场和运营的区别是什么？"  # as published
    simple = json.loads(cli("ask", "营销和销售有什么区别", "--json", "--db", str(db_path)).stdout)
    assert (simple["script"], simple["region"], simple["topic"]) == ("simplified", "mainland", data["topic"])
    hk = json.loads(cli("ask", HK_QUESTION, "--json", "--db", str(db_path)).stdout)
    assert (hk["script"], hk["region"]) == ("traditional", "hong-kong")


def test_rendering_does_not_change_what_is_answered(service: Service) -> None:
    """The reader changes the words shown, never the entry chosen."""
    simple = service.ask("营销和销售有什么区别", record=False).result
    shown = service.ask("行銷和業務有什麼區別", record=False).result
    assert (shown.topic, shown.entry_id, shown.answer) == (simple.topic, simple.entry_id, simple.answer)
    assert replace(shown, reader=simple.reader).to_json()["answer"] == simple.to_json()["answer"]


def test_the_settings_panel_offers_taiwan_and_hong_kong_words() -> None:
    from rolebot.conversation.groups import GroupSettings
    from rolebot.conversation.render import render_settings

    reply = render_settings(GroupSettings(script="tw"))
    labels = [b.label for b in reply.flat_buttons()]
    assert "✅ 臺灣用語" in labels and "香港用語" in labels and "文字：臺灣用語" in reply.plain
    assert GroupSettings().with_change("script=hk") == GroupSettings(script="hk")
    assert GroupSettings.from_dict({"script": "tw"}).script_override() == "tw"
