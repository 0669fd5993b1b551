"""smtpcheck doctor: the self-audit, against sandbox SMTP servers and a loopback DNS server.

Every check is driven by data: the records the loopback DNS server serves (PTR, A, TXT for
SPF and DMARC, blocklist zones) and the behaviour of the sandbox server connected to (one
that names the client's address in its EHLO reply, one that does not, a dead host, one
that refuses the session). A filtered port (a silent drop) and a missing route cannot be
made on loopback, so those cases drive the audit's sans-IO plan by hand and hand it the
driver's outcome. Nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import importlib.util
import json
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from smtpcheck import Policy, PolicyError
from smtpcheck._cli._doctor import add_parser, main, run
from smtpcheck._doctor import (
    DEFAULT_BLOCKLISTS,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    GUIDE_URL,
    Audit,
    Blocklist,
    CheckStatus,
    aaudit,
    audit,
    render_text,
)
from smtpcheck._doctor._audit import Talk, plan_audit
from smtpcheck._probe import Connect, Failed, FailureKind
from smtpcheck._resolver import Resolver
from smtpcheck.testing import Behaviour, Block, MailWorld
from smtpcheck.testing._dns import DNSServer, Record

PASS, WARN, FAIL, UNKNOWN = (
    CheckStatus.PASS,
    CheckStatus.WARN,
    CheckStatus.FAIL,
    CheckStatus.UNKNOWN,
)
HAS_SPF = importlib.util.find_spec("spf") is not None
needs_spf = pytest.mark.skipif(not HAS_SPF, reason="pyspf (smtpcheck[doctor]) is not installed")

HELO = "mail.sender.test"
SENDER = "check@sender.test"
PTR = "1.0.0.127.in-addr.arpa"
LISTED = "1.0.0.127.bl.test"

# A host set up right: PTR and HELO name agree, SPF allows it, DMARC published, not listed.
GOOD: dict[str, list[Record]] = {
    PTR: [("PTR", f"{HELO}.")],
    HELO: [("A", "127.0.0.1")],
    "sender.test": [("TXT", '"v=spf1 ip4:127.0.0.1 -all"')],
    "_dmarc.sender.test": [("TXT", '"v=DMARC1; p=reject"')],
}


def records(**changes: Sequence[Record]) -> dict[str, list[Record]]:
    """GOOD with some names replaced (``name=[]`` removes one); ``__`` stands for ``.``."""
    out = dict(GOOD)
    for key, value in changes.items():
        name = key.replace("__", ".")
        if value:
            out[name] = list(value)
        else:
            out.pop(name, None)
    return out


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    built = (
        MailWorld()
        .add_server(
            "mx.echo.test", domains=["echo.test"], behaviour=Behaviour(echo_client_address=True)
        )
        .add_server("mx.quiet.test", domains=["quiet.test"])
        .add_server(
            "mx.blocked.test", domains=["blocked.test"], behaviour=Behaviour(block=Block.CONNECT)
        )
        .add_dead_host("mx.dead.test", domains=["dead.test"])
    )
    with built:
        yield built


def policy(**changes: Any) -> Policy:
    values: dict[str, Any] = {
        "helo_name": HELO,
        "mail_from": SENDER,
        "connect_timeout": 5.0,
        "reply_timeout": 5.0,
        "dns_timeout": 5.0,
    }
    values.update(changes)
    return Policy(**values)


def run_audit(
    world: MailWorld,
    data: Mapping[str, Sequence[Record]] | None = None,
    *,
    server: str = "mx.echo.test",
    behaviours: Mapping[str, str] | None = None,
    blocklists: Sequence[Blocklist | str] = ("bl.test",),
    **kwargs: Any,
) -> Audit:
    kwargs.setdefault("policy", policy())
    with DNSServer(GOOD if data is None else data, behaviours=behaviours) as dns:
        report = audit(
            target=kwargs.pop("target", world.address(server)),
            nameservers=[dns.host],
            dns_port=dns.port,
            blocklists=blocklists,
            **kwargs,
        )
        assert not dns.errors
    return report


# -- the whole report --------------------------------------------------------------------------


@needs_spf
def test_a_host_set_up_right_passes_every_check(world: MailWorld) -> None:
    world.reset()
    report = run_audit(world)
    assert [(c.name, c.status) for c in report.checks] == [
        ("outbound_smtp", PASS),
        ("public_ip", PASS),
        ("reverse_dns", PASS),
        ("helo_name", PASS),
        ("spf", PASS),
        ("dmarc", PASS),
        ("blocklist:bl.test", PASS),
    ]
    assert report.public_ip == "127.0.0.1"
    assert "named by the mail host" in report["public_ip"].summary
    assert report.exit_status == EXIT_OK
    assert report.ok
    # One EHLO and a QUIT, nothing else: the doctor never asks for a mailbox.
    assert [c.verb for c in world.commands("mx.echo.test")] == ["EHLO", "QUIT"]
    assert world.commands("mx.echo.test")[0].line == f"EHLO {HELO}"


def test_the_report_is_json_and_has_an_exit_status(world: MailWorld) -> None:
    report = run_audit(world, records(**{PTR.replace(".", "__"): []}))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["public_ip"] == "127.0.0.1"
    assert data["target"]["address"] == "127.0.0.1"
    assert data["guide"] == GUIDE_URL
    by_name = {c["name"]: c for c in data["checks"]}
    assert by_name["reverse_dns"]["status"] == "fail"
    assert by_name["reverse_dns"]["fix"]
    assert data["exit_status"] == EXIT_FAILED == report.exit_status
    assert data["counts"]["fail"] >= 1
    with pytest.raises(KeyError):
        report["nothing"]


def test_nothing_failed_but_something_unknown_exits_3(world: MailWorld) -> None:
    report = run_audit(world, behaviours={LISTED: "servfail"})
    assert report.count(FAIL) == 0, render_text(report, verbose=True)
    assert report["blocklist:bl.test"].status is UNKNOWN
    assert report.exit_status == EXIT_INCOMPLETE


# -- outbound SMTP -----------------------------------------------------------------------------


def test_refused_is_told_apart(world: MailWorld) -> None:
    report = run_audit(world, server="mx.dead.test", public_ip="127.0.0.1")
    check = report["outbound_smtp"]
    assert check.status is FAIL
    assert check.summary.startswith("Refused")
    assert check.fix is not None
    assert "firewall" in check.fix
    # The other checks still run on the IP given.
    assert report["public_ip"].status is PASS
    assert "as given" in report["public_ip"].summary
    assert report["reverse_dns"].status is PASS


def audit_failing_to_connect(failure: Failed, dns: DNSServer, **kwargs: Any) -> Audit:
    """Drive the audit's plan by hand: DNS from ``dns``, the connection fails so.

    A filtered port (a silent drop) or a missing route cannot be made on loopback; the
    plan is sans-IO, so the driver's outcome for one is handed to it directly.
    """
    resolver = Resolver(nameservers=[dns.host], port=dns.port, timeout=5.0)
    plan = plan_audit(kwargs.pop("policy"), helo_name=HELO, **kwargs)
    step = next(plan)
    while True:
        if isinstance(step, Talk):
            assert isinstance(next(step.steps), Connect)
            with pytest.raises(StopIteration) as stop:
                step.steps.send(failure)
            outcome = stop.value.value
        else:
            outcome = tuple(resolver.records(q.name, q.rdtype) for q in step)
        try:
            step = plan.send(outcome)
        except StopIteration as done:
            report: Audit = done.value
            return report


def test_filtered_is_told_apart() -> None:
    timed_out = Failed(FailureKind.CONNECT, "no connection in time", errno.ETIMEDOUT)
    with DNSServer(GOOD) as dns:
        report = audit_failing_to_connect(
            timed_out,
            dns,
            policy=policy(connect_timeout=0.5),
            domain=None,
            target="127.0.0.1:25",
            public_ip="127.0.0.1",
            blocklists=(),
        )
    check = report["outbound_smtp"]
    assert check.status is FAIL
    assert check.summary.startswith("Filtered")
    assert "0.5 s" in check.summary
    assert check.fix is not None
    assert "port 25" in check.fix
    assert report.target is not None
    assert report.target.port == 25
    assert report["reverse_dns"].status is PASS  # the rest runs on the IP given


def test_unreachable_is_told_apart() -> None:
    no_route = Failed(FailureKind.CONNECT, "Network is unreachable (errno 101)", errno.ENETUNREACH)
    with DNSServer(GOOD) as dns:
        report = audit_failing_to_connect(
            no_route,
            dns,
            policy=policy(),
            domain=None,
            target="[::1]:2525",
            public_ip=None,
            blocklists=(),
        )
    assert report["outbound_smtp"].summary.startswith("Unreachable")
    assert report.target is not None
    assert (report.target.address, report.target.port) == ("::1", 2525)
    assert report["public_ip"].status is UNKNOWN


@needs_spf
def test_aaudit_is_the_twin_of_audit(world: MailWorld) -> None:
    with DNSServer(GOOD) as dns:
        twin = asyncio.run(
            aaudit(
                policy=policy(),
                target=world.address("mx.echo.test"),
                nameservers=[dns.host],
                dns_port=dns.port,
                blocklists=("bl.test",),
            )
        )
    report = run_audit(world)
    assert [(c.name, c.status, c.summary) for c in twin.checks] == [
        (c.name, c.status, c.summary) for c in report.checks
    ]
    assert twin.public_ip == report.public_ip == "127.0.0.1"


def test_the_doctor_connects_from_the_policys_source_address(world: MailWorld) -> None:
    # The conversation goes through the verifier's driver, which binds the source address.
    report = run_audit(world, policy=policy(source_address="127.0.0.2"))
    assert report["outbound_smtp"].status is PASS
    assert "from 127.0.0.2" in report["outbound_smtp"].details[0]
    assert report.public_ip == "127.0.0.2"  # the server named the address it saw


def test_the_doctor_connects_through_the_policys_proxy(world: MailWorld) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # nothing listens there once the socket is closed
    world.reset()
    report = run_audit(
        world, policy=policy(proxy=f"socks5://127.0.0.1:{closed}"), public_ip="127.0.0.1"
    )
    check = report["outbound_smtp"]
    assert check.status is FAIL
    assert "proxy" in check.summary
    assert world.commands("mx.echo.test") == []  # never reached without the proxy


def test_a_session_refused_at_connect_is_a_warning(world: MailWorld) -> None:
    report = run_audit(world, server="mx.blocked.test")
    check = report["outbound_smtp"]
    assert check.status is WARN
    assert "554" in check.summary
    assert [c.verb for c in world.commands("mx.blocked.test")][-1] == "QUIT"


@needs_spf
def test_the_default_target_is_the_first_mx_of_a_domain() -> None:
    world = MailWorld(shared_port=0).add_server(
        "mx.echo.test", domains=["echo.test"], behaviour=Behaviour(echo_client_address=True)
    )
    with world:
        data: dict[str, Sequence[Record]] = {**world.dns_records(), **GOOD}
        assert world.port is not None
        with DNSServer(data) as dns:
            report = audit(
                policy=policy(port=world.port),
                domain="echo.test",
                nameservers=[dns.host],
                dns_port=dns.port,
                blocklists=(),
            )
    assert report.target is not None
    assert report.target.domain == "echo.test"
    assert report.target.host == "mx.echo.test"
    assert report["outbound_smtp"].status is PASS
    assert "(MX of echo.test)" in str(report.target)
    assert report.public_ip is not None


def test_a_domain_without_mail_hosts_cannot_be_tried() -> None:
    with DNSServer({"nomx.test": [("TXT", '"nothing"')]}) as dns:
        report = audit(
            policy=policy(),
            domain="nomx.test",
            nameservers=[dns.host],
            dns_port=dns.port,
            blocklists=(),
        )
    assert report["outbound_smtp"].status is UNKNOWN
    assert report.target is None


def test_an_invalid_domain_cannot_be_tried() -> None:
    with DNSServer(GOOD) as dns:
        report = audit(
            policy=policy(),
            domain="bad..name",
            blocklists=(),
            nameservers=[dns.host],
            dns_port=dns.port,
        )
    assert report["outbound_smtp"].status is UNKNOWN
    assert "could not be looked up" in report["outbound_smtp"].summary


def test_a_target_name_is_resolved_with_the_given_dns(world: MailWorld) -> None:
    host, port = world.address("mx.echo.test")
    report = run_audit(
        world, records(mx__target__test=[("A", host)]), target=f"mx.target.test:{port}"
    )
    assert report["outbound_smtp"].status is PASS
    assert report.target is not None
    assert report.target.address == host
    missing = run_audit(world, target=f"nowhere.test:{port}")
    assert missing["outbound_smtp"].status is UNKNOWN


# -- the public IP -----------------------------------------------------------------------------


def test_public_ip_unknown_makes_the_rest_unknown(world: MailWorld) -> None:
    report = run_audit(world, server="mx.quiet.test")
    assert report["outbound_smtp"].status is PASS
    assert report["public_ip"].status is UNKNOWN
    for name in ("reverse_dns", "spf", "blocklist:bl.test"):
        assert report[name].status is UNKNOWN
    assert report.exit_status == EXIT_INCOMPLETE


def test_the_address_the_server_saw_wins_over_the_one_given(world: MailWorld) -> None:
    report = run_audit(world, public_ip="192.0.2.1")
    assert report["public_ip"].status is WARN
    assert report.public_ip == "127.0.0.1"


def test_a_public_ip_that_is_not_an_address_is_a_usage_error() -> None:
    with pytest.raises(PolicyError):
        audit(public_ip="my laptop", blocklists=())


# -- reverse DNS and HELO ----------------------------------------------------------------------


def test_no_ptr_fails(world: MailWorld) -> None:
    report = run_audit(world, records(**{PTR.replace(".", "__"): []}))
    assert report["reverse_dns"].status is FAIL
    assert "no reverse DNS" in report["reverse_dns"].summary
    assert report["helo_name"].status is WARN  # resolves, but matches no PTR


def test_a_ptr_that_does_not_resolve_back_fails(world: MailWorld) -> None:
    report = run_audit(world, records(**{PTR.replace(".", "__"): [("PTR", "other.test.")]}))
    assert report["reverse_dns"].status is FAIL
    assert "does not resolve back" in report["reverse_dns"].summary


def test_a_generic_ptr_is_a_warning(world: MailWorld) -> None:
    name = "127-0-0-1.dynamic.isp.test"
    data = records(**{PTR.replace(".", "__"): [("PTR", f"{name}.")]})
    data[name] = [("A", "127.0.0.1")]
    report = run_audit(world, data)
    assert report["reverse_dns"].status is WARN
    assert report["helo_name"].status is WARN  # the HELO name is not the PTR name


def test_reverse_dns_failure_is_unknown(world: MailWorld) -> None:
    report = run_audit(world, behaviours={PTR: "servfail"})
    assert report["reverse_dns"].status is UNKNOWN


@pytest.mark.parametrize(
    ("helo", "data", "status", "words"),
    [
        ("localhost", GOOD, FAIL, "not a fully qualified"),
        ("mailhost", GOOD, FAIL, "not a fully qualified"),
        ("[127.0.0.1]", GOOD, WARN, "address literal"),
        ("unknown.sender.test", GOOD, FAIL, "does not resolve"),
        ("elsewhere.test", {**GOOD, "elsewhere.test": [("A", "192.0.2.9")]}, FAIL, "not to"),
        ("alias.test", {**GOOD, "alias.test": [("A", "127.0.0.1")]}, WARN, "does not match"),
    ],
)
def test_helo_name(
    world: MailWorld, helo: str, data: dict[str, list[Record]], status: CheckStatus, words: str
) -> None:
    report = run_audit(world, data, policy=policy(helo_name=helo))
    check = report["helo_name"]
    assert check.status is status, check
    assert words in check.summary
    assert check.fix


# -- SPF and DMARC -----------------------------------------------------------------------------


@needs_spf
@pytest.mark.parametrize(
    ("record", "status"),
    [
        ("v=spf1 -all", FAIL),
        ("v=spf1 ~all", WARN),
        ("v=spf1 ?all", WARN),
        ("v=spf1 include:spf.provider.test -all", PASS),
        ("v=spf1 a:mail.sender.test -all", PASS),
        ("v=spf1 ip4:127.0.0.1 bogus -all", FAIL),
    ],
)
def test_spf_is_evaluated_by_pyspf_against_our_dns(
    world: MailWorld, record: str, status: CheckStatus
) -> None:
    data = records(sender__test=[("TXT", f'"{record}"')])
    data["spf.provider.test"] = [("TXT", '"v=spf1 ip4:127.0.0.0/8 -all"')]
    report = run_audit(world, data)
    check = report["spf"]
    assert check.status is status, check
    assert any(record in d for d in check.details)


@needs_spf
def test_no_spf_record_fails(world: MailWorld) -> None:
    report = run_audit(world, records(sender__test=[]))
    assert report["spf"].status is FAIL
    assert report["spf"].fix is not None
    assert "v=spf1 ip4:127.0.0.1 -all" in report["spf"].fix


@needs_spf
def test_spf_dns_failure_is_unknown(world: MailWorld) -> None:
    report = run_audit(world, behaviours={"sender.test": "servfail"})
    assert report["spf"].status is UNKNOWN


@needs_spf
def test_with_the_null_sender_spf_is_that_of_the_helo_name(world: MailWorld) -> None:
    data = records(mail__sender__test=[("A", "127.0.0.1"), ("TXT", '"v=spf1 a -all"')])
    report = run_audit(world, data, policy=policy(mail_from=""))
    assert report["spf"].status is PASS
    assert any("HELO name" in d for d in report["spf"].details)
    assert report["dmarc"].status is WARN  # the null sender has no domain for DMARC


def test_without_pyspf_spf_could_not_be_checked(
    world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "spf", None)  # makes "import spf" raise ImportError
    check = run_audit(world)["spf"]
    assert check.status is UNKNOWN
    assert check.fix is not None
    assert "smtpcheck[doctor]" in check.fix


def test_missing_dmarc_is_a_warning(world: MailWorld) -> None:
    report = run_audit(world, records(_dmarc__sender__test=[]))
    assert report["dmarc"].status is WARN


def test_dmarc_of_a_parent_domain_counts(world: MailWorld) -> None:
    report = run_audit(world, policy=policy(mail_from="check@bounces.sender.test"))
    assert report["dmarc"].status is PASS
    assert "sender.test" in report["dmarc"].summary


def test_two_dmarc_records_fail(world: MailWorld) -> None:
    two = [("TXT", '"v=DMARC1; p=none"'), ("TXT", '"v=DMARC1; p=reject"')]
    report = run_audit(world, records(_dmarc__sender__test=two))
    assert report["dmarc"].status is FAIL


# -- blocklists --------------------------------------------------------------------------------


def test_a_listed_ip_fails_with_the_lists_reason(world: MailWorld) -> None:
    data = records()
    data[LISTED] = [("A", "127.0.0.2"), ("TXT", '"Listed for spam, see bl.test/1"')]
    check = run_audit(world, data)["blocklist:bl.test"]
    assert check.status is FAIL
    assert "Reason: Listed for spam, see bl.test/1" in check.details


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("127.255.255.254", UNKNOWN, "public or open resolver"),
        ("127.255.255.255", UNKNOWN, "too many queries"),
        ("127.255.255.252", UNKNOWN, "malformed"),
        ("127.0.0.4", FAIL, "XBL"),
        ("127.0.0.11", FAIL, "PBL"),
        ("198.51.100.7", UNKNOWN, "outside 127.0.0.0/8"),
    ],
)
def test_spamhaus_codes_are_read_right(
    world: MailWorld, code: str, status: CheckStatus, words: str
) -> None:
    # The zone's name picks the known data; the loopback DNS server answers for it.
    data: dict[str, Sequence[Record]] = {**GOOD, "1.0.0.127.zen.spamhaus.org": [("A", code)]}
    check = run_audit(world, data, blocklists=["zen.spamhaus.org"])["blocklist:zen.spamhaus.org"]
    assert check.status is status
    assert any(words in d for d in check.details), check.details


@pytest.mark.parametrize(
    ("answer", "behaviour", "status"),
    [
        (None, None, PASS),  # NXDOMAIN: not listed
        (None, "servfail", UNKNOWN),
        (None, "refused", UNKNOWN),
        ("127.255.255.1", None, UNKNOWN),  # an error code of an unknown list
        ("127.0.0.3", None, FAIL),
    ],
)
def test_blocklist_answers(
    world: MailWorld, answer: str | None, behaviour: str | None, status: CheckStatus
) -> None:
    data = records()
    if answer is not None:
        data[LISTED] = [("A", answer)]
    report = run_audit(world, data, behaviours={LISTED: behaviour} if behaviour else None)
    assert report["blocklist:bl.test"].status is status


def test_blocklist_data() -> None:
    assert [b.zone for b in DEFAULT_BLOCKLISTS] == [
        "zen.spamhaus.org",
        "bl.spamcop.net",
        "b.barracudacentral.org",
        "psbl.surriel.com",
    ]
    generic = Blocklist(zone="bl.example")
    assert generic.read("127.0.0.1")[0] == "unexpected"
    assert generic.read("not an ip")[0] == "unexpected"


# -- the command line --------------------------------------------------------------------------


def cli_args(world: MailWorld, dns: DNSServer, *more: str) -> list[str]:
    host, port = world.address("mx.echo.test")
    return [
        "--target",
        f"{host}:{port}",
        "--nameserver",
        dns.host,
        "--dns-port",
        str(dns.port),
        "--blocklist",
        "bl.test",
        "--helo-name",
        HELO,
        "--mail-from",
        SENDER,
        "--timeout",
        "5",
        *more,
    ]


@needs_spf
def test_cli_json(world: MailWorld, capsys: pytest.CaptureFixture[str]) -> None:
    with DNSServer(GOOD) as dns:
        status = main(cli_args(world, dns, "--json"))
    data = json.loads(capsys.readouterr().out)
    assert status == EXIT_OK
    assert data["ok"] is True
    assert [c["status"] for c in data["checks"]] == ["pass"] * 7


def test_cli_text_names_the_fix_and_links_the_guide(
    world: MailWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    with DNSServer(records(**{PTR.replace(".", "__"): []})) as dns:
        status = main(cli_args(world, dns, "--verbose"))
    out = capsys.readouterr().out
    assert status == EXIT_FAILED
    assert "FAIL    reverse_dns" in out
    assert "fix: Ask the owner of the IP" in out
    assert GUIDE_URL in out


def test_cli_no_blocklists(world: MailWorld, capsys: pytest.CaptureFixture[str]) -> None:
    with DNSServer(GOOD) as dns:
        main(cli_args(world, dns, "--no-blocklists", "--json"))
    names = [c["name"] for c in json.loads(capsys.readouterr().out)["checks"]]
    assert not [n for n in names if n.startswith("blocklist")]


@pytest.mark.parametrize(
    "argv",
    [
        ["--public-ip", "my laptop"],
        ["--target", "mx.example:99999"],
        ["--target", "[::1"],
        ["--domain", "a.test", "--target", "b.test"],
        ["--timeout", "0"],
        ["--helo-name", "bad\rname"],
    ],
)
def test_cli_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--no-blocklists"]) == EXIT_USAGE
    assert "error" in capsys.readouterr().err


def test_add_parser_plugs_into_a_command_line(
    world: MailWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="smtpcheck")
    commands = parser.add_subparsers(dest="command")
    add_parser(commands)
    with DNSServer(GOOD) as dns:
        args = parser.parse_args(["doctor", *cli_args(world, dns, "--json")])
        assert args.command == "doctor"
        status = run(args)
    assert status in {EXIT_OK, EXIT_INCOMPLETE}  # SPF is unknown without pyspf
    assert json.loads(capsys.readouterr().out)["public_ip"] == "127.0.0.1"
