"""Commands validate on construction and serialise to exactly one CRLF-ended line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import smtpcheck.protocol as p
from smtpcheck._errors import LocalProtocolError


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(p) if n.isidentifier() and not n.startswith("_")}
    public -= {"annotations"}

    def isort_style(name: str) -> tuple[bool, bool, str]:  # as ruff's RUF022 sorts
        return (not name.isupper(), not name[0].isupper(), name)

    assert sorted(p.__all__, key=isort_style) == p.__all__
    assert set(p.__all__) == public


def test_protocol_imports_nothing_that_does_io() -> None:
    # Read the imports rather than importing: smtpcheck/__init__ (the drivers) may
    # import asyncio, but nothing in the protocol package may.
    allowed = {
        "__future__",
        "collections",
        "collections.abc",
        "dataclasses",
        "enum",
        "importlib",
        "re",
        "types",
        "typing",
    }
    # smtpcheck._address owns the rule of a sendable path; it is pure too (test_public_api
    # reads its imports).
    # smtpcheck._public gives the names their public module (it imports only inspect).
    allowed |= {"smtpcheck._errors", "smtpcheck._address", "smtpcheck._public"}
    allowed |= {"smtpcheck.protocol"}
    found = set()
    for path in Path(p.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0
                found.add(str(node.module))
    top = {name.split(".")[0] for name in found}
    assert top <= {
        "__future__",
        "collections",
        "dataclasses",
        "enum",
        "importlib",
        "re",
        "types",
        "typing",
        "smtpcheck",
    }
    smtpcheck_modules = {n for n in found if n.startswith("smtpcheck")}
    assert all(
        n in {"smtpcheck._errors", "smtpcheck._address", "smtpcheck._public"}
        or n.startswith("smtpcheck.protocol")
        for n in smtpcheck_modules
    )
    assert {n for n in found if not n.startswith("smtpcheck.protocol")} <= allowed


@pytest.mark.parametrize(
    ("command", "wire"),
    [
        (p.Ehlo("client.example.org"), b"EHLO client.example.org\r\n"),
        (p.Ehlo("[192.0.2.1]"), b"EHLO [192.0.2.1]\r\n"),
        (p.Helo("client.example.org"), b"HELO client.example.org\r\n"),
        (p.MailFrom(""), b"MAIL FROM:<>\r\n"),
        (p.MailFrom("a@example.org"), b"MAIL FROM:<a@example.org>\r\n"),
        (
            p.MailFrom("a@example.org", size=10, body="8BITMIME"),
            b"MAIL FROM:<a@example.org> SIZE=10 BODY=8BITMIME\r\n",
        ),
        (p.MailFrom("a@example.org", body="7BIT"), b"MAIL FROM:<a@example.org> BODY=7BIT\r\n"),
        (
            p.MailFrom("jöhn@exämple.org", smtputf8=True),
            "MAIL FROM:<jöhn@exämple.org> SMTPUTF8\r\n".encode(),
        ),
        (p.MailFrom('"john doe"@example.org'), b'MAIL FROM:<"john doe"@example.org>\r\n'),
        (p.RcptTo("someone@example.com"), b"RCPT TO:<someone@example.com>\r\n"),
        (p.RcptTo("jöhn@example.com"), "RCPT TO:<jöhn@example.com>\r\n".encode()),
        (p.RcptTo("Postmaster"), b"RCPT TO:<Postmaster>\r\n"),
        (p.Rset(), b"RSET\r\n"),
        (p.Noop(), b"NOOP\r\n"),
        (p.Quit(), b"QUIT\r\n"),
        (p.StartTLS(), b"STARTTLS\r\n"),
    ],
)
def test_serialisation(command: p.Command, wire: bytes) -> None:
    assert command.to_bytes() == wire


BAD_TEXT = ["a\r\nDATA", "a\rb", "a\nb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b"]


@pytest.mark.parametrize("text", BAD_TEXT)
@pytest.mark.parametrize(
    "make",
    [
        p.Ehlo,
        p.Helo,
        lambda t: p.MailFrom(f"x{t}@example.org"),
        lambda t: p.MailFrom(f"x{t}@example.org", smtputf8=True),
        lambda t: p.RcptTo(f"x{t}@example.org"),
    ],
)
def test_control_characters_are_refused(make: object, text: str) -> None:
    with pytest.raises(LocalProtocolError):
        make(text)  # type: ignore[operator]


@pytest.mark.parametrize(
    "make",
    [
        lambda: p.Ehlo(""),
        lambda: p.Helo(""),
        lambda: p.Ehlo("client example"),
        lambda: p.Ehlo("exämple.org"),
        lambda: p.MailFrom("a<b@example.org"),
        lambda: p.MailFrom("a@example.org> SIZE=1"),
        lambda: p.MailFrom("jöhn@example.org"),
        lambda: p.MailFrom("a@example.org", size=-1),
        lambda: p.MailFrom("a@example.org", body="8bitmime"),
        lambda: p.MailFrom("a@example.org", body="BINARY"),
        lambda: p.RcptTo(""),
        lambda: p.RcptTo("<a@example.org>"),
        lambda: p.RcptTo("a@example.org>"),
    ],
)
def test_bad_arguments_are_refused(make: object) -> None:
    with pytest.raises(LocalProtocolError):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("make", "fixed"),
    [
        (lambda n: p.Ehlo("a" * n), len("EHLO \r\n")),
        (lambda n: p.Helo("a" * n), len("HELO \r\n")),
        (lambda n: p.MailFrom("a" * n), len("MAIL FROM:<>\r\n")),
        (lambda n: p.RcptTo("a" * n), len("RCPT TO:<>\r\n")),
    ],
)
def test_line_limit_is_512_octets_with_crlf(make: object, fixed: int) -> None:
    longest = p.MAX_COMMAND_LINE - fixed
    assert len(make(longest).to_bytes()) == 512  # type: ignore[operator]
    with pytest.raises(LocalProtocolError, match="longer than 512"):
        make(longest + 1)  # type: ignore[operator]


def test_line_limit_counts_utf8_octets() -> None:
    fixed = len("MAIL FROM:<> SMTPUTF8\r\n")
    with pytest.raises(LocalProtocolError):
        p.MailFrom("é" * ((512 - fixed) // 2 + 1), smtputf8=True)


def test_commands_are_frozen_values() -> None:
    assert p.RcptTo("a@example.org") == p.RcptTo("a@example.org")
    assert hash(p.Quit()) == hash(p.Quit())
    command = p.RcptTo("a@example.org")
    with pytest.raises(AttributeError):
        command.address = "b\r\nDATA"  # type: ignore[misc]
