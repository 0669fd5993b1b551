"""The catalogue of the ready-made world: one ``.test`` domain per behaviour.

:meth:`MailWorld.default() <smtpcheck.testing.MailWorld.default>` is a world built from
these tables; ``smtpcheck demo`` and the documentation list them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtpcheck._mailhosts import DomainStatus
from smtpcheck.testing._servers import TLS, Behaviour, Block, RawScript, ReplyStyle

if TYPE_CHECKING:
    from smtpcheck.testing._world import MailWorld

__all__ = ["DEFAULT_RAW_SERVERS", "DEFAULT_SERVERS", "furnish"]


#: The servers of :meth:`MailWorld.default`: (domain, behaviour, what it shows). Each is
#: ``mx.<domain>`` with mailboxes ``alice`` and ``bob``.
DEFAULT_SERVERS: tuple[tuple[str, Behaviour, str], ...] = (
    ("ok.test", Behaviour(), "known mailbox 250, unknown 550 5.1.1 (Postfix)"),
    ("catchall.test", Behaviour(catch_all=True), "every recipient 250"),
    ("full.test", Behaviour(mailbox_full=True), "known mailbox 552 5.2.2, unknown 550"),
    ("disabled.test", Behaviour(mailbox_disabled=True), "known mailbox 550 5.2.1"),
    ("greylist.test", Behaviour(greylist_seconds=300), "450 4.7.1 for 300 s per triple"),
    ("blocked.test", Behaviour(block=Block.RCPT), "554 5.7.1 Spamhaus block at RCPT"),
    ("blocked-connect.test", Behaviour(block=Block.CONNECT), "554 banner, then 503"),
    ("sender-refused.test", Behaviour(refuse_sender=True), "550 5.7.1 at MAIL FROM"),
    ("starttls.test", Behaviour(tls=TLS.REQUIRED), "530 5.7.0 until STARTTLS"),
    ("tls.test", Behaviour(tls=TLS.STARTTLS), "STARTTLS offered, not required"),
    ("implicit-tls.test", Behaviour(tls=TLS.IMPLICIT), "TLS from the first byte"),
    ("tarpit.test", Behaviour(banner_delay=1.0, reply_delay=1.0), "1 s before every reply"),
    ("slow.test", Behaviour(banner_delay=0.05, reply_delay=0.05), "a distant server: 50 ms"),
    ("drop.test", Behaviour(drop_after_ehlo=True), "closes on EHLO without a reply"),
    ("busy.test", Behaviour(max_connections=0), "421 4.7.0 too many connections"),
    ("limit.test", Behaviour(max_recipients=2), "452 4.5.3 after 2 RCPT per transaction"),
    ("gmail.test", Behaviour(style=ReplyStyle.GMAIL), "Gmail's wording, multi-line 550"),
    ("outlook.test", Behaviour(style=ReplyStyle.OUTLOOK), "Outlook, no enhanced codes"),
    ("plain.test", Behaviour(style=ReplyStyle.PLAIN), "sendmail-like, no enhanced codes"),
    ("ascii.test", Behaviour(smtputf8=False, pipelining=False), "no SMTPUTF8, no PIPELINING"),
)

#: The hostile raw servers of :meth:`MailWorld.default`: (domain, script).
DEFAULT_RAW_SERVERS: tuple[tuple[str, RawScript], ...] = (
    ("garbage.test", RawScript.garbage()),
    ("endless.test", RawScript.endless_reply()),
    ("reset.test", RawScript.reset_mid_reply()),
    ("silent.test", RawScript.silent()),
)


def furnish(world: MailWorld) -> MailWorld:
    """Add the catalogue's servers and domains to ``world`` (not started) and return it.

    Every server is ``mx.<domain>`` with mailboxes ``alice`` and ``bob`` (and ``jörg`` on
    ``ok.test``), plus the domains whose DNS alone is the point: an implicit MX, a null
    MX, no mail server, SERVFAIL, NXDOMAIN, an MX without an address, dead hosts.
    """
    for domain, behaviour, _ in DEFAULT_SERVERS:
        mailboxes = ["alice", "bob", "jörg"] if domain == "ok.test" else ["alice", "bob"]
        world.add_server(f"mx.{domain}", domains=[domain], mailboxes=mailboxes, behaviour=behaviour)
    world.add_server(
        "implicit.test", domains=["implicit.test"], mailboxes=["alice", "bob"], publish_mx=False
    )
    world.add_domain("implicit.test", implicit="implicit.test")
    world.add_domain("nullmx.test", status=DomainStatus.NULL_MX)
    world.add_domain("nomail.test", status=DomainStatus.NO_MAIL_SERVER, spf="v=spf1 -all")
    world.add_domain("servfail.test", status=DomainStatus.DNS_FAILURE)
    world.add_domain("nxdomain.test", status=DomainStatus.NO_SUCH_DOMAIN)
    world.add_domain("noaddress.test", mx=["mx.nowhere.test"])
    world.add_dead_host("mx.dead.test", domains=["dead.test"])
    world.add_dead_host("mx1.backup.test", domains=["backup.test"], preference=10)
    world.add_server(
        "mx2.backup.test", domains=["backup.test"], mailboxes=["alice", "bob"], preference=20
    )
    for domain, script in DEFAULT_RAW_SERVERS:
        world.add_raw_server(f"mx.{domain}", script, domains=[domain])
    return world
