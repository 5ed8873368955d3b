"""The engine's parts, each alone: snapshot, retriever, featurizer, ranker by names, policy."""

from __future__ import annotations

import dataclasses

import pytest

from rolebot.engine.engine import Engine
from rolebot.engine.features import FEATURES, FeatureTable, Featurizer
from rolebot.engine.heuristic import Scored
from rolebot.engine.policy import Decision, Policy
from rolebot.engine.ranker import Thresholds
from rolebot.engine.retriever import SCORED_TOPICS
from rolebot.language.understand import understand
from rolebot.language.vocabulary import vocabulary
from rolebot.store.index import Candidate

VOCAB = vocabulary()
LINES = Thresholds(answer=0.74, margin=0.05, choice=0.2, related=0.02)


def decide(text: str, probs: list[float], exact: list[int] | None = None, just: int = -1) -> Decision:
    """Return the policy's decision for made-up probabilities of shortlisted topics."""
    return Policy(LINES).decide(
        understand(text, VOCAB), probs, [50.0] * len(probs), exact or [], lambda i: i <= just, []
    )


@pytest.mark.parametrize(
    ("probs", "kind", "topics"),
    [
        pytest.param([0.9, 0.1], "answer", (0,), id="sure"),
        pytest.param([0.1, 0.9, 0.05], "answer", (1,), id="best-is-not-first-by-hand"),
        pytest.param([0.8, 0.78], "unsure", (0, 1), id="too-close-to-call"),
        pytest.param([0.5, 0.3, 0.1], "unsure", (0, 1), id="two-likely"),
        pytest.param([0.1, 0.03], "related", (0, 1), id="about-our-roles-no-entry"),
        pytest.param([0.01, 0.005], "decline", (), id="nothing-near"),
    ],
)
def test_the_policy_draws_its_lines(probs: list[float], kind: str, topics: tuple[int, ...]) -> None:
    got = decide("营销和销售哪个更适合新人", probs)
    assert (got.kind, got.topics) == (kind, topics)
    assert got.probability == max(probs)


def test_the_policy_answers_a_stored_wording_and_offers_several() -> None:
    assert decide("营销和销售有什么区别", [0.3, 0.6], exact=[0]) == Decision("answer", (0,), LINES.answer)
    assert decide("营销和销售有什么区别", [0.3, 0.6], exact=[0, 1]).topics == (1, 0)


def test_roles_without_a_question_are_the_askers_choice() -> None:
    # several topics are about exactly 营销 and 销售: however sure the ranker is, the asker picks
    assert decide("营销和销售", [0.95, 0.02, 0.01], just=1) == Decision("unsure", (0, 1), 0.95)
    assert decide("营销和销售", [0.95, 0.02, 0.01], just=0).kind == "answer"


def test_a_passage_answers_only_when_no_entry_comes_close() -> None:
    query = understand("私域流量运营是什么", VOCAB)
    passage = Scored(Candidate("passage", "p1", None, "私域", ("私域",), -1.0), 90.0)
    policy = Policy(LINES)
    assert policy.decide(query, [0.1], [30.0], [], lambda i: False, [passage]).kind == "passage"
    assert policy.decide(query, [0.1], [60.0], [], lambda i: False, [passage]).kind != "passage"


def test_a_fold_snapshot_hides_its_phrasings_and_the_live_one_does_not(engine: Engine) -> None:
    question = "营销和运营有什么区别？"
    hidden = frozenset({question})
    fold = engine.fold(hidden)
    assert engine.pipeline.snapshot.exact_entry(question) is not None
    assert fold.snapshot.exact_entry(question) is None
    shortlisted = fold.retriever.shortlist(understand(question, VOCAB))
    assert all(s.candidate.text != question for s in shortlisted.bests)
    assert engine.pipeline.snapshot.hidden == frozenset()  # the live engine is untouched


def test_the_retriever_keeps_the_best_topics_by_hand(engine: Engine) -> None:
    shortlist = engine.pipeline.retriever.shortlist(understand("用户运营和内容运营怎么分工", VOCAB))
    assert 0 < len(shortlist.topics) <= SCORED_TOPICS
    assert len({t.topic for t in shortlist.topics}) == len(shortlist.topics)
    assert [b.candidate.topic for b in shortlist.bests] == [t.topic for t in shortlist.topics]


def test_the_featurizer_names_its_columns(engine: Engine) -> None:
    pipeline = engine.pipeline
    query = understand("做市场和做运营，新人选哪个更好", VOCAB)
    found = pipeline.retriever.shortlist(query).topics
    table = pipeline.featurizer.table(query, found)
    assert table.names == FEATURES and len(table.rows) == len(found)
    assert all(len(r) == len(FEATURES) for r in table.rows)
    assert table.column("has_roles") == [1.0] * len(found)
    # without a classifier the votes are zero and it knows no topic
    bare = Featurizer(pipeline.snapshot, pipeline.roles, engine.model.space, frozenset(), None)
    assert set(bare.table(query, found).column("classifier_knows")) == {0.0}


def test_the_ranker_takes_its_columns_by_name(engine: Engine) -> None:
    table = engine.pairs("营销和运营哪个更偏对外")[2]
    reversed_names = tuple(reversed(table.names))
    shuffled = FeatureTable(reversed_names, [list(reversed(r)) for r in table.rows])
    assert engine.model.probabilities(shuffled) == engine.model.probabilities(table)
    fewer = FeatureTable(table.names[1:], [r[1:] for r in table.rows])
    with pytest.raises(KeyError, match="heuristic"):
        engine.model.probabilities(fewer)


def test_a_new_model_makes_a_new_pipeline_without_touching_the_live_one(engine: Engine) -> None:
    strict = dataclasses.replace(engine.model, thresholds=dataclasses.replace(engine.model.thresholds, answer=1.01))
    fold = engine.fold(frozenset(), strict)
    question = "请问做市场和做运营，新人选哪个更好呢"
    assert engine.ask(question).answered
    assert not fold.answer(question).answered  # no probability reaches an answer line above 1
    assert engine.pipeline.model is engine.model and engine.ask(question).answered


def test_another_trades_job_with_our_title_is_never_answered_outright() -> None:
    query = understand("财务总监跟营销总监差在哪", VOCAB)
    policy = Policy(LINES)
    assert policy.decide(query, [0.9, 0.1], [50.0, 20.0], [], lambda i: False, []).kind == "answer"
    assert policy.decide(query, [0.9, 0.1], [50.0, 20.0], [], lambda i: False, [], another_job=True).kind != "answer"


@pytest.mark.parametrize(
    ("text", "another"),
    [
        pytest.param("财务总监跟营销总监差在哪", True, id="finance-director"),
        pytest.param("项目经理和产品经理的职责有什么不同", True, id="project-manager"),
        pytest.param("营销总监和运营总监的区别", False, id="our-directors"),
        pytest.param("市场经理是做什么的", False, id="no-comparison"),
    ],
)
def test_the_pipeline_tells_another_trades_job(engine: Engine, text: str, another: bool) -> None:
    assert engine.pipeline._another_job(understand(text, VOCAB)) is another
