"""The button-action protocol: every action round-trips, fits 64 bytes, and junk decodes to nothing."""

from __future__ import annotations

import pytest

from rolebot.conversation.actions import (
    Action,
    ActionTooLong,
    AddPhrasing,
    Browse,
    ChangeSetting,
    ConfirmImport,
    More,
    NoneOfThese,
    ShowTopic,
    Vote,
    decode,
    encode,
    matches,
)


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(ShowTopic("marketing-vs-sales"), id="topic"),
        pytest.param(More("e-12"), id="more"),
        pytest.param(Browse("职业发展"), id="browse-chinese"),
        pytest.param(Vote("e-12", True), id="up"),
        pytest.param(Vote("e-12", False), id="down"),
        pytest.param(NoneOfThese(), id="none"),
        pytest.param(ChangeSetting("mode=auto"), id="setting"),
        pytest.param(AddPhrasing("0123456789", "what-is-marketing"), id="add-phrasing"),
        pytest.param(ConfirmImport("a1b2c3d4e5f6"), id="confirm-import"),
    ],
)
def test_round_trip(action: Action) -> None:
    data = encode(action)
    assert len(data.encode("utf-8")) <= 64
    assert decode(data) == action
    assert matches(type(action))(data)


def test_too_long_is_refused_in_bytes_not_characters() -> None:
    with pytest.raises(ActionTooLong):
        encode(Browse("长" * 21))  # 2 + 63 bytes
    assert encode(Browse("长" * 20))


@pytest.mark.parametrize("data", ["", "zz:1", "t:", "u:", "a:onlykey", "x" * 64, "t:" + "x" * 63, None, 5])
def test_junk_decodes_to_nothing(data: object) -> None:
    assert decode(data) is None


def test_matches_tells_kinds_apart() -> None:
    assert not matches(ShowTopic)(encode(More("e-1")))
    assert matches(Vote)("d:e-1") and not matches(Vote)("t:e-1")
