"""A mail world on loopback, for tests that must not touch the internet.

Install it with the ``testing`` extra (``pip install 'smtpcheck[testing]'``: aiosmtpd
and trustme). A :class:`MailWorld` runs real SMTP servers (aiosmtpd) on loopback, each
configured by data (the domains it serves, its mailboxes, a :class:`Behaviour`), and
answers for their domains through :attr:`MailWorld.resolver` (in process) or through a
loopback DNS server. Every server records what it heard; DATA, BDAT, VRFY and EXPN are
refused and make :meth:`MailWorld.check` fail.

An application's test, with the pytest fixture this package installs::

    import smtpcheck

    def test_sign_up_refuses_unknown_mailbox(mail_world):
        result = smtpcheck.verify("nobody@ok.test", resolver=mail_world.resolver)
        assert result.verdict is smtpcheck.Verdict.UNDELIVERABLE

Without pytest::

    from smtpcheck.testing import MailWorld

    with MailWorld.default() as world:
        ...  # world.resolver, world.address("mx.ok.test"), world.commands()

The names are imported on first use, so that importing this package (as pytest does
for the plugin) costs nothing and needs no extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from smtpcheck._public import publish as _publish

if TYPE_CHECKING:
    from smtpcheck.testing._catalogue import DEFAULT_RAW_SERVERS, DEFAULT_SERVERS
    from smtpcheck.testing._record import FORBIDDEN_COMMANDS, Command, ServerStats
    from smtpcheck.testing._resolver import WorldResolver
    from smtpcheck.testing._servers import TLS, Behaviour, Block, RawEnd, RawScript, ReplyStyle
    from smtpcheck.testing._world import MailWorld, ManualClock, ServerInfo

__all__ = [
    "DEFAULT_RAW_SERVERS",
    "DEFAULT_SERVERS",
    "FORBIDDEN_COMMANDS",
    "TLS",
    "Behaviour",
    "Block",
    "Command",
    "MailWorld",
    "ManualClock",
    "RawEnd",
    "RawScript",
    "ReplyStyle",
    "ServerInfo",
    "ServerStats",
    "WorldResolver",
]

_HOME = {
    "FORBIDDEN_COMMANDS": "_record",
    "Command": "_record",
    "ServerStats": "_record",
    "TLS": "_servers",
    "Behaviour": "_servers",
    "Block": "_servers",
    "RawEnd": "_servers",
    "RawScript": "_servers",
    "ReplyStyle": "_servers",
    "DEFAULT_RAW_SERVERS": "_catalogue",
    "DEFAULT_SERVERS": "_catalogue",
    "MailWorld": "_world",
    "ManualClock": "_world",
    "ServerInfo": "_world",
    "WorldResolver": "_resolver",
}


# Hidden from type checkers, which see the names through the TYPE_CHECKING imports: a
# module __getattr__ would make any misspelt name type-check.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        home = _HOME.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = _publish(__name__, getattr(importlib.import_module(f"{__name__}.{home}"), name))
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
