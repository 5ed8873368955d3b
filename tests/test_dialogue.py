"""Dialogue without Telegram: a scripted `rolebot chat`, premises, 📖 更多 on a phone, help, the readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolebot.conversation.dialogue import read_request
from rolebot.conversation.premises import load_premises, read_premise
from rolebot.conversation.render import CALM, DECLINES, LINE, NOTES, render_passages
from rolebot.conversation.service import Service
from rolebot.language.normalize import normalize
from rolebot.terminal.chat import run_chat
from tests.test_cli import scripted


def chat(service: Service, lines: list[str]) -> list[str]:
    """Play lines in `rolebot chat` and return what it wrote after the welcome."""
    read, written = scripted(lines)
    run_chat(service, read=read, write=written.append)
    return [w for w in written[1:] if w]


def test_scripted_chat_session(store) -> None:
    svc = Service(store, salt="s")
    out = chat(
        svc,
        ["营销和运营有什么区别", "它们谁更重要", "它俩怎么配合", "再简单点", "举个例子", "换成繁体说一遍",
         "运营是什么", "和销售比呢", "今天天气怎么样", "运营的工资一般多少", "你好笨啊", "BD是做什么的",
         "市场部是赚钱的部门吧", "/help", "/topics", "q", "never read"],
    )  # fmt: skip
    (_, important, together, simpler, example, traditional, ops, versus, weather, pay, insult, bd, premise, help_,
     topics) = out  # fmt: skip
    for reply in (important, together):
        assert "营销和运营之间如何配合？" in reply
    assert simpler.startswith("营销和运营之间如何配合？\n\n一句话：") and "\n• " not in simpler
    assert example.startswith("举个资料里的例子") and "来源：《" in example
    assert traditional.startswith("營銷和運營之間如何配合？") and "來源：" in traditional
    assert ops.startswith("运营是什么？") and versus.startswith("销售和运营有什么区别？")
    assert weather.startswith(DECLINES["off-topic"])
    assert "运营的薪资" in pay and "[1] " in pay
    assert insult.startswith(CALM)
    assert "商务拓展（BD）" in bd and "来源：《" in bd
    assert premise.startswith("不是这样：") and "市场部和销售部有什么区别？" in premise
    assert "q、quit、exit" in help_ and "再简单点" in help_
    assert "你好" not in topics and "[1] 营销" in topics
    assert svc.store.unanswered() and all("笨" not in str(r["text"]) for r in svc.store.unanswered())


def test_insults_are_not_in_review(cli, db_path: Path) -> None:
    for question in ("你好笨啊", "啊啊啊啊啊", "今天天气怎么样"):
        res = cli("ask", "--db", str(db_path), "--log", question)
        assert res.exit_code == 0, res.output
    review = cli("review", "--db", str(db_path))
    assert "天气" in review.stdout, "the marker: an off-topic question is in the review"
    assert "笨" not in review.stdout and "啊啊啊" not in review.stdout


PREMISES = [
    pytest.param("市场部是赚钱的部门吧", "market-earns-money", "market-vs-sales", id="market-earns"),
    pytest.param("营销就是销售吧", "marketing-is-sales", "marketing-vs-sales", id="marketing-is-sales"),
    pytest.param("营销和销售是一回事吗", "marketing-is-sales", "marketing-vs-sales", id="one-thing"),
    pytest.param("营销是销售的附属品吗", "marketing-serves-sales", "marketing-vs-sales", id="appendage"),
    pytest.param("市场是一个岗位吗", "market-is-a-job", "what-is-market", id="market-a-job"),
    pytest.param("营销是不是比运营低级", "marketing-below-operations", "marketing-vs-operations", id="lower"),
    pytest.param("市场部就是销售部吧", "market-dept-is-sales-dept", "department-structure", id="same-department"),
    pytest.param("市場部是賺錢的部門吧", "market-earns-money", "market-vs-sales", id="traditional"),
]


@pytest.mark.parametrize(("question", "premise", "topic"), PREMISES)
def test_premise_is_corrected_in_one_sentence_then_answered(
    service: Service, question: str, premise: str, topic: str
) -> None:
    [wanted] = [p for p in load_premises() if p.id == premise]
    answer = service.ask(question, record=False)
    first, _, rest = answer.reply.plain.partition("\n\n")
    assert first == answer.result.reader.write(wanted.correction)
    assert first.count("。") == 1 and first.endswith("。")
    assert answer.result.topic == topic and rest.startswith(answer.result.reader.write(answer.result.question or ""))


def test_premises_rest_on_claims_that_deny_them(service: Service) -> None:
    claims = {p.id: p for p in service.points}
    premises = load_premises()
    assert len(premises) >= 5
    for p in premises:
        assert p.claim in claims, p.id
        assert service.engine.topic_question(p.topic or claims[p.claim].topic), p.id


@pytest.mark.parametrize(
    "question",
    ["市场部是做什么的", "市场部花钱吗", "营销和销售有什么区别", "市场部赚钱的方式有哪些"],
)
def test_questions_without_a_false_premise_are_left_alone(service: Service, question: str) -> None:
    assert read_premise(normalize(question, service.vocab).text, load_premises()) is None


def test_more_fits_a_phone(service: Service) -> None:
    topics = {p.topic for p in service.points}
    shown = 0
    for topic in sorted(topics):
        passages = service.store.topic_passages(topic)
        if not passages:
            continue
        reply = render_passages(passages)
        long = [ln for ln in reply.plain.splitlines() if len(ln) > LINE]
        assert not long, (topic, long)
        assert "\n• " in reply.plain, "a passage is shown as bullets"
        shown += 1
    assert shown >= 10


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("再简单点", "simpler", id="simpler"),
        pytest.param("说人话", "simpler", id="plain-words"),
        pytest.param("换成繁体说一遍", "traditional", id="traditional"),
        pytest.param("能不能举个例子", "example", id="example"),
        pytest.param("和销售比呢", "compare", id="compare"),
        pytest.param("前者需要什么能力", "refer", id="former"),
        pytest.param("翻译成英文", "unservable", id="unservable"),
        pytest.param("你确定吗", "doubt", id="doubt"),
    ],
)
def test_requests_are_read(service: Service, text: str, kind: str) -> None:
    request = read_request(normalize(text, service.vocab).text, service.vocab, ("营销", "运营"))
    assert request is not None and request.kind == kind


def test_questions_of_their_own_are_not_requests(service: Service) -> None:
    for text in ("营销和销售有什么区别", "其他岗位呢", "其它岗位有哪些", "运营是什么", "销售需要什么能力"):
        assert read_request(normalize(text, service.vocab).text, service.vocab, ("营销", "运营")) is None


def test_a_request_without_a_last_answer_says_so(service: Service) -> None:
    for text in ("再简单点", "举个例子", "换成繁体说一遍", "它们谁更重要"):
        answer = service.ask(text, record=False, context=("t", 1))
        assert answer.reply.plain.startswith(NOTES["no-last-answer"])


@pytest.mark.parametrize(
    ("text", "calm"),
    [
        pytest.param("你好笨啊", True, id="insult"),
        pytest.param("你怎么这么笨", True, id="insult-how"),
        pytest.param("啊啊啊啊啊", True, id="nonsense"),
        pytest.param("哈哈哈哈", False, id="laughter"),
        pytest.param("垃圾分类怎么做", False, id="off-topic-question"),
        pytest.param("how to cook rice", False, id="english-question"),
        pytest.param("销售好累吧", False, id="names-a-role"),
    ],
)
def test_insults_and_nonsense_are_told_from_questions(service: Service, text: str, calm: bool) -> None:
    answer = service.ask(text, record=False)
    assert (answer.reply.plain == CALM) is calm, answer.reply.plain


def test_known_questions_are_not_read_as_requests_or_premises(service: Service) -> None:
    """The near-domain and depth banks: no question of its own is taken for an insult, a request or a premise."""
    import json

    rows = [
        json.loads(line)
        for name in ("near.jsonl", "depth.jsonl")
        for line in (Path(__file__).parent / "data" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(rows) > 100
    for row in rows:
        question = str(row["q"])
        answer = service.ask(question, record=False)
        assert answer.result.kind not in ("abuse", "request"), question
        assert read_premise(normalize(question, service.vocab).text, load_premises()) is None, question


def test_off_topic_is_told_from_near_domain(service: Service) -> None:
    """The out-of-scope bank: life questions are "not my field"; questions of the trade are not told that."""
    import yaml

    bank = yaml.safe_load((Path(__file__).parents[1] / "knowledge" / "out_of_scope.yaml").read_text(encoding="utf-8"))
    off: dict[str, list[bool]] = {}
    for row in bank["questions"]:
        reply = service.ask(str(row["q"]), record=False).reply.plain
        off.setdefault(str(row["kind"]), []).append(reply.startswith(DECLINES["off-topic"]))
    # measured: life 32/36; theory-detail 2/42, how-to 1/47, near-role 2/30, salary 0/32, interview 1/30
    assert sum(off["life"]) >= 0.8 * len(off["life"])
    for kind in ("theory-detail", "how-to", "near-role", "salary", "interview"):
        assert sum(off[kind]) <= 0.1 * len(off[kind]), kind
