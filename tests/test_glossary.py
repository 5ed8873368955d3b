"""The regional glossary and the converter's corrections (knowledge/glossary.yaml, knowledge/corrections.yaml)."""

from __future__ import annotations

import opencc
import pytest

from rolebot.language.glossary import glossary
from rolebot.language.script import TRADITIONAL, Reader
from tests.helpers.traditional import accepted, disagreements, simplified_texts

T2S = opencc.OpenCC("t2s")
WORDS = glossary().words


def region_reader(region: str) -> Reader:
    return Reader(TRADITIONAL, region, glossary().region_words(region))


@pytest.mark.parametrize("word", WORDS, ids=[w.mainland for w in WORDS])
def test_every_entry_reads_as_its_test_sentence_says(word) -> None:
    """Each word has a sample sentence, and each region that writes it its own way reads the sample as reviewed."""
    assert word.sample and word.mainland in word.sample
    expect = dict(word.expect)
    for region in ("tw", "hk"):
        assert (region in expect) == bool(word.local(region)), region
        if region in expect:
            shown = region_reader(region).write(word.sample)
            assert shown == expect[region]
            assert word.local(region) in shown


def test_a_word_inside_another_word_or_a_name_is_left_alone() -> None:
    reader = region_reader("tw")
    assert reader.write("沟渠道路") == "溝渠道路"  # 沟渠 + 道路: no 渠道 in it
    assert reader.write("信息化") == "信息化"  # one word of jieba's: not 信息 + 化
    assert reader.write("渠道") == "通路" and reader.write("营销渠道") == "行銷通路"


def test_a_role_word_is_rewritten_inside_a_compound() -> None:
    reader = region_reader("tw")
    assert reader.write("营销部、营销学和销售员") == "行銷部、行銷學和業務員"
    assert reader.write("运营销售") == "營運業務"  # cut as 运营 + 销售, never 运 + 营销 + 售


def test_marks_of_traditional_text() -> None:
    reader = Reader(TRADITIONAL, "tw")
    assert reader.write("“营销”和‘销售’") == "「營銷」和『銷售』"
    assert reader.write('老板说"这个不好"') == "老闆說「這個不好」"
    assert reader.write('"4P" and "STP"') == '"4P" and "STP"'  # straight quotes around Latin text stay


@pytest.mark.parametrize("fix", glossary().corrections, ids=[c.wrong for c in glossary().corrections])
def test_a_correction_keeps_the_simplified_text(fix) -> None:
    """A correction changes how a character is written, never what it says: both read back the same."""
    assert fix.wrong != fix.right and T2S.convert(fix.wrong) == T2S.convert(fix.right)
    assert set(fix.regions) <= {"tw", "hk"} and fix.why


@pytest.mark.parametrize("region", ["tw", "hk"])
def test_every_converter_disagreement_is_reviewed(region: str) -> None:
    """Where OpenCC (with our corrections) and zhconv-rs still write a character differently, it was reviewed.

    New knowledge text with a new disagreement fails here until it is corrected or accepted in corrections.yaml
    (scripts/review_conversion.py lists them).
    """
    pytest.importorskip("zhconv_rs")
    left = {
        (d.ours, d.theirs, d.context) for d in disagreements(region, simplified_texts(), Reader(TRADITIONAL, region))
    }
    assert {x for x in left if x[:2] not in accepted()} == set()
