"""Reply and EnhancedStatus: the values every layer above reads."""

from __future__ import annotations

import pytest

from smtpcheck.protocol import EnhancedStatus, Reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5.1.1 User unknown", EnhancedStatus(5, 1, 1)),
        ("4.7.606 Access denied", EnhancedStatus(4, 7, 606)),
        ("2.0.0", EnhancedStatus(2, 0, 0)),
        ("User unknown", None),
        ("3.1.1 not a class", None),
        ("5.1.1000 too long", None),
        ("5.1.1x glued", None),
    ],
)
def test_enhanced_status_parse(text: str, expected: EnhancedStatus | None) -> None:
    assert EnhancedStatus.parse(text) == expected


@pytest.mark.parametrize(("klass", "subject", "detail"), [(3, 1, 1), (5, 1000, 1), (5, 1, -1)])
def test_enhanced_status_validates(klass: int, subject: int, detail: int) -> None:
    with pytest.raises(ValueError, match="enhanced status"):
        EnhancedStatus(klass, subject, detail)


def test_enhanced_status_str_and_order() -> None:
    assert str(EnhancedStatus(5, 7, 1)) == "5.7.1"
    assert EnhancedStatus(4, 9, 9) < EnhancedStatus(5, 0, 0)


@pytest.mark.parametrize(
    ("reply", "enhanced", "text", "kind"),
    [
        (Reply(250, ("2.1.5 Ok",)), EnhancedStatus(2, 1, 5), "Ok", "positive"),
        (Reply(354, ("go on",)), None, "go on", "positive"),
        (
            Reply(450, ("4.2.1 slow down", "4.2.1 please")),
            EnhancedStatus(4, 2, 1),
            "slow down please",
            "transient",
        ),
        (Reply(550, ("5.1.1",)), EnhancedStatus(5, 1, 1), "", "permanent"),
        (Reply(550, ("2.1.1 class mismatch",)), None, "class mismatch", "permanent"),
        (Reply(550, ("No such user!",)), None, "No such user!", "permanent"),
    ],
)
def test_reply_properties(
    reply: Reply, enhanced: EnhancedStatus | None, text: str, kind: str
) -> None:
    assert reply.enhanced == enhanced
    assert reply.text == text
    assert (reply.is_positive, reply.is_transient, reply.is_permanent) == (
        kind == "positive",
        kind == "transient",
        kind == "permanent",
    )


def test_reply_validates() -> None:
    with pytest.raises(ValueError, match="200 to 599"):
        Reply(600)
    with pytest.raises(ValueError, match="at least one line"):
        Reply(250, ())


def test_reply_str_and_explicit_enhanced() -> None:
    assert str(Reply(250, ("a", ""))) == "250 a / 250"
    assert Reply(550, ("x",), EnhancedStatus(5, 1, 1)).enhanced == EnhancedStatus(5, 1, 1)
