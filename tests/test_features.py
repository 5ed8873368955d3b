"""What the scorer sees of a pair: words of the question the topic leaves unexplained."""

from __future__ import annotations

from rolebot.engine.features import FEATURES, CharSpace, Shortlisted, build_profile, pair_features, rarity
from rolebot.engine.heuristic import Parts
from rolebot.language import segment
from rolebot.language.understand import understand
from rolebot.language.vocabulary import vocabulary

PHRASINGS = ["营销总监和运营总监有什么区别", "营销总监跟运营总监差在哪"]
PLAIN_ANSWER = "营销总监管品牌和市场，运营总监管用户和数据。"
MENTIONING_ANSWER = "营销总监管品牌和市场，运营总监管用户和数据，两人都向总经理汇报。"


def _unexplained(question: str, answer: str) -> tuple[float, float]:
    """Return the question's unexplained share and rarest unexplained word against one topic."""
    vocab = vocabulary()
    segment.prepare(vocab)
    space = CharSpace({}, 1.0)
    phrasings = [(p, tuple(segment.words(p))) for p in PHRASINGS]
    profile = build_profile("directors", phrasings, [answer], space, vocab)
    query = understand(question, vocab)
    parts = Parts(50.0, entities=0.5, cover_q=0.5, cover_p=0.5, fuzzy=0.5, intent=1.0, unknown=1)
    found = [Shortlisted("directors", 50.0, parts, 0.0, [w for _, w in phrasings], -1.0)]
    row = pair_features(
        query, found, {"directors": profile}, space, vocab, lambda a, b: a == b, lambda w: False, frozenset()
    )[0]
    assert set(row) == set(FEATURES)  # every feature by name, none missing or extra
    return row["unexplained"], row["unexplained_max"]


def test_an_answer_mentioning_a_compared_thing_does_not_explain_the_comparison() -> None:
    # 总经理 is one side of what is asked; the answer naming it in passing does not compare it with anything
    asked = "总经理和运营总监有什么区别"
    assert _unexplained(asked, MENTIONING_ANSWER) == _unexplained(asked, PLAIN_ANSWER)
    share, rarest = _unexplained(asked, MENTIONING_ANSWER)
    assert share > 0 and rarest > 0


def test_an_answer_mentioning_a_word_that_is_not_compared_half_explains_it() -> None:
    asked = "运营总监要向总经理汇报吗"
    mentioned, _ = _unexplained(asked, MENTIONING_ANSWER)
    unmentioned, _ = _unexplained(asked, PLAIN_ANSWER)
    assert 0 < mentioned < unmentioned


def test_rarity_is_general_chinese_not_the_weight_that_cuts_a_domain_word_whole() -> None:
    segment.prepare(vocabulary())
    table, _ = segment.dictionary()
    assert table["项目经理"] >= 100000  # weighted so jieba keeps the title whole ...
    assert rarity("项目经理") > 0.5  # ... yet someone asking about project managers asks about something rare
    assert rarity("市场") < 0.1 and rarity("经理") < rarity("项目经理")
