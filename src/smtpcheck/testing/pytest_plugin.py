"""The pytest plugin of smtpcheck: a ``mail_world`` fixture.

pytest loads this module in every run of anyone who installs smtpcheck, so it imports
nothing heavy: the world (and aiosmtpd) is imported when a test asks for the fixture, and
the test is skipped with a clear message when the ``testing`` extra is not installed.

Example:
    A test of an application's sign-up flow::

        import smtpcheck

        def test_unknown_mailbox(mail_world):
            result = smtpcheck.verify("nobody@ok.test", resolver=mail_world.resolver)
            assert result.verdict is smtpcheck.Verdict.UNDELIVERABLE
            assert [c.verb for c in mail_world.commands("mx.ok.test")][-1] == "QUIT"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from smtpcheck.testing._world import MailWorld

__all__ = ["mail_world"]


@pytest.fixture
def mail_world() -> Iterator[MailWorld]:
    """The default mail world (:meth:`smtpcheck.testing.MailWorld.default`), running.

    Its servers listen on loopback for the test; teardown stops them and fails the test
    if smtpcheck sent any of DATA, BDAT, VRFY or EXPN. Usable from sync tests and from
    tests that run an event loop (start and stop never block on the caller's loop).
    The process's shared memory (see :class:`smtpcheck.Memory`) starts empty: what an
    earlier test's world taught is forgotten.
    """
    try:
        from smtpcheck.testing._world import MailWorld  # noqa: PLC0415 - keep pytest start light
    except ImportError as error:  # pragma: no cover - depends on the environment
        pytest.skip(
            f"the mail_world fixture needs smtpcheck's testing extra "
            f"(pip install 'smtpcheck[testing]'): {error}"
        )
    from smtpcheck._api import forget_shared_memory  # noqa: PLC0415 - keep pytest start light

    forget_shared_memory()
    world = MailWorld.default().start()
    try:
        yield world
    finally:
        world.stop()
    world.check()
