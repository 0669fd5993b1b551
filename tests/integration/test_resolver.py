"""smtpcheck._resolver against a real DNS server on loopback (smtpcheck.testing._dns)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

import smtpcheck
from smtpcheck._resolver import (
    AsyncMailHostResolver,
    DomainStatus,
    Kind,
    MailHostResolver,
    MailHosts,
    Resolver,
)
from smtpcheck.testing._dns import DNSServer, Records

WORLD: Records = {
    # Preference order, equal preferences, IPv4 and IPv6.
    "order.test": [
        ("MX", "30 c.order.test"),
        ("MX", "10 a.order.test"),
        ("MX", "20 b.order.test"),
    ],
    "a.order.test": [("A", "127.0.0.1"), ("AAAA", "::1")],
    "b.order.test": [("A", "127.0.0.2")],
    "c.order.test": [("A", "127.0.0.3")],
    "equal.test": [("MX", "10 one.equal.test"), ("MX", "10 two.equal.test")],
    "one.equal.test": [("A", "127.0.1.1")],
    "two.equal.test": [("A", "127.0.1.2")],
    # No MX, an address: the implicit MX.
    "implicit.test": [("A", "127.0.2.1"), ("AAAA", "::2")],
    # Null MX, alone, among others, and with a non-zero preference.
    "null.test": [("MX", "0 ."), ("A", "127.0.3.1")],
    "nullmixed.test": [("MX", "0 ."), ("MX", "10 mx.nullmixed.test")],
    "mx.nullmixed.test": [("A", "127.0.3.2")],
    "null10.test": [("MX", "10 .")],
    # Exists, but nowhere to deliver.
    "nomail.test": [("TXT", '"hello"')],
    # CNAMEs: an MX host that is an alias, and a domain that is one.
    "cname.test": [("MX", "10 alias.cname.test")],
    "alias.cname.test": [("CNAME", "real.cname.test")],
    "real.cname.test": [("A", "127.0.4.1")],
    "domainalias.test": [("CNAME", "order.test")],
    # MX to an IP literal, alone and beside a good host.
    "mxip.test": [("MX", "10 192.0.2.1.")],
    "mxipmixed.test": [("MX", "10 192.0.2.1."), ("MX", "20 good.mxipmixed.test")],
    "good.mxipmixed.test": [("A", "127.0.5.1")],
    # MX hosts without addresses.
    "noaddr.test": [("MX", "10 gone.noaddr.test"), ("MX", "20 live.noaddr.test")],
    "live.noaddr.test": [("A", "127.0.6.1")],
    "allnoaddr.test": [("MX", "10 gone.allnoaddr.test"), ("MX", "20 empty.allnoaddr.test")],
    "empty.allnoaddr.test": [("TXT", '"no address here"')],
    # MX hosts whose address look-up fails.
    "hostfail.test": [("MX", "10 broken.hostfail.test"), ("MX", "20 fine.hostfail.test")],
    "fine.hostfail.test": [("A", "127.0.7.1")],
    "allhostfail.test": [("MX", "10 broken.allhostfail.test")],
    # Many hosts, for max_hosts.
    "many.test": [
        ("MX", "10 m1.many.test"),
        ("MX", "20 m2.many.test"),
        ("MX", "30 m3.many.test"),
        ("MX", "40 m4.many.test"),
    ],
    "m2.many.test": [("A", "127.0.8.2")],
    "m3.many.test": [("A", "127.0.8.3")],
    "m4.many.test": [("A", "127.0.8.4")],
    # IDN: bücher.test in A-labels.
    "xn--bcher-kva.test": [("MX", "10 mx.xn--bcher-kva.test")],
    "mx.xn--bcher-kva.test": [("A", "127.0.9.1")],
    # SPF and DMARC.
    "spf.test": [
        ("MX", "10 mx.spf.test"),
        ("TXT", '"v=spf1 ip4:127.0.0.0/8 " "-all"'),
        ("TXT", '"google-site-verification=abc"'),
    ],
    "mx.spf.test": [("A", "127.0.10.1")],
    "_dmarc.spf.test": [("TXT", '"v=DMARC1; p=reject"'), ("TXT", '"unrelated"')],
    "twospf.test": [("MX", "10 mx.spf.test"), ("TXT", '"v=spf1 -all"'), ("TXT", '"v=spf1 +all"')],
    # TTLs for the cache tests.
    "ttl.test": [("MX", "10 mx.ttl.test", 60)],
    "mx.ttl.test": [("A", "127.0.11.1", 120)],
}


@pytest.fixture(scope="module")
def server() -> Iterator[DNSServer]:
    behaviours = {"servfail.test": "servfail", "refused.test": "refused", "drop.test": "drop"}
    with DNSServer(WORLD, behaviours=behaviours, negative_ttl=30) as running:
        running.set_behaviour("broken.hostfail.test", "servfail")
        running.set_behaviour("broken.allhostfail.test", "servfail")
        yield running
        assert running.errors == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(server: DNSServer, **kwargs: object) -> Resolver:
    kwargs.setdefault("timeout", 2.0)
    return Resolver(nameservers=[server.host], port=server.port, **kwargs)  # type: ignore[arg-type]


def both(resolver: Resolver, domain: str, **kwargs: object) -> MailHosts:
    """Look up with both drivers; they must agree (when the order is deterministic)."""
    sync = resolver.mail_hosts(domain, **kwargs)  # type: ignore[arg-type]
    async_ = asyncio.run(resolver.amail_hosts(domain, **kwargs))  # type: ignore[arg-type]
    assert sync == async_
    return sync


def names(result: MailHosts) -> list[str]:
    return [h.name for h in result.hosts]


# --- what DNS says ---------------------------------------------------------------------


def test_mx_hosts_come_in_preference_order_ipv4_first(server: DNSServer) -> None:
    result = both(make(server, cache=False), "order.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["a.order.test", "b.order.test", "c.order.test"]
    assert [h.preference for h in result.hosts] == [10, 20, 30]
    assert result.hosts[0].addresses == ("127.0.0.1", "::1")
    assert not result.hosts[0].implicit
    assert result.problems == ()


def test_prefer_ipv6_puts_ipv6_first(server: DNSServer) -> None:
    result = both(make(server), "order.test", prefer_ipv6=True)
    assert result.hosts[0].addresses == ("::1", "127.0.0.1")


def test_equal_preferences_are_shuffled(server: DNSServer) -> None:
    resolver = make(server, cache=False)
    trials = 200
    first_one = sum(
        names(resolver.mail_hosts("equal.test"))[0] == "one.equal.test" for _ in range(trials)
    )
    # Both orders appear, roughly balanced: P(either below 20%) is about 1e-18.
    assert 0.2 * trials <= first_one <= 0.8 * trials


def test_no_mx_but_an_address_is_the_implicit_mx(server: DNSServer) -> None:
    result = both(make(server), "implicit.test")
    assert result.status is DomainStatus.OK
    (host,) = result.hosts
    assert host.name == "implicit.test"
    assert host.preference == 0
    assert host.implicit
    assert host.addresses == ("127.0.2.1", "::2")
    assert result.detail is not None
    assert "implicit" in result.detail


def test_null_mx_needs_no_further_look_up(server: DNSServer) -> None:
    server.clear_queries()
    result = make(server).mail_hosts("null.test")
    assert result.status is DomainStatus.NULL_MX
    assert result.hosts == ()
    assert result.detail is not None
    assert result.problems == ()
    assert server.query_count() == 1  # the MX query only: its A record is never asked


def test_null_mx_among_other_mx_records_is_ignored(server: DNSServer) -> None:
    result = both(make(server), "nullmixed.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["mx.nullmixed.test"]
    assert any("null MX among other MX" in p for p in result.problems)


def test_a_lone_dot_mx_with_another_preference_is_still_a_null_mx(server: DNSServer) -> None:
    result = both(make(server), "null10.test")
    assert result.status is DomainStatus.NULL_MX
    assert len(result.problems) == 1


def test_nxdomain_is_no_such_domain(server: DNSServer) -> None:
    result = both(make(server), "absent.test")
    assert result.status is DomainStatus.NO_SUCH_DOMAIN
    assert result.detail is not None
    assert "absent.test" in result.detail


def test_a_name_with_neither_mx_nor_address_has_no_mail_server(server: DNSServer) -> None:
    result = both(make(server), "nomail.test")
    assert result.status is DomainStatus.NO_MAIL_SERVER
    assert result.detail is not None


def test_an_empty_non_terminal_has_no_mail_server(server: DNSServer) -> None:
    # "test" owns no record but names exist below it: NOERROR, no data.
    assert both(make(server), "test").status is DomainStatus.NO_MAIL_SERVER


@pytest.mark.parametrize("domain", ["servfail.test", "refused.test"])
def test_servfail_and_refused_are_dns_failures(server: DNSServer, domain: str) -> None:
    result = both(make(server, cache=False), domain)
    assert result.status is DomainStatus.DNS_FAILURE
    assert result.detail is not None
    assert ("SERVFAIL" if "servfail" in domain else "REFUSED") in result.detail


def test_unreachable_name_servers_are_a_dns_failure() -> None:
    # A port nothing listens on: refused, or (unconnected UDP) silent until the timeout.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    resolver = Resolver(nameservers=["127.0.0.1"], port=port, timeout=0.3)
    result = resolver.mail_hosts("order.test")
    assert result.status is DomainStatus.DNS_FAILURE


def test_a_server_that_never_answers_fails_within_the_lifetime(server: DNSServer) -> None:
    resolver = make(server, timeout=30.0, cache=False)
    lifetime = 0.5
    started = time.monotonic()
    result = resolver.mail_hosts("drop.test", lifetime=lifetime)
    sync_elapsed = time.monotonic() - started
    started = time.monotonic()
    async_result = asyncio.run(resolver.amail_hosts("drop.test", lifetime=lifetime))
    async_elapsed = time.monotonic() - started
    assert result.status is async_result.status is DomainStatus.DNS_FAILURE
    assert result.detail is not None
    assert "in time" in result.detail
    assert sync_elapsed < lifetime + 0.5
    assert async_elapsed < lifetime + 0.5


def test_the_lifetime_covers_all_queries_of_a_look_up(server: DNSServer) -> None:
    # The MX answer comes at once; the MX host's address queries go to a silent name and
    # share what is left of the one lifetime instead of getting a fresh one each.
    resolver = make(server, timeout=30.0, cache=False)
    server.set_records("slow.test", [("MX", "10 mx.slow.test")])
    server.set_records("mx.slow.test", [("A", "127.0.12.1")])
    server.set_behaviour("mx.slow.test", "drop")
    try:
        started = time.monotonic()
        result = resolver.mail_hosts("slow.test", lifetime=0.5)
        assert time.monotonic() - started < 1.0
    finally:
        server.set_behaviour("mx.slow.test", None)
    assert result.status is DomainStatus.DNS_FAILURE
    assert any("mx.slow.test" in p for p in result.problems)


def test_idn_domains_by_their_a_labels(server: DNSServer) -> None:
    result = both(make(server), "xn--bcher-kva.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["mx.xn--bcher-kva.test"]
    # Case and a trailing dot do not matter.
    assert make(server).mail_hosts("XN--BCHER-KVA.test.").domain == "xn--bcher-kva.test"


@pytest.mark.parametrize("bad", ["bücher.test", "", ".", "a..b", "x" * 64 + ".test"])
def test_non_ascii_or_invalid_domains_are_refused(server: DNSServer, bad: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        make(server).mail_hosts(bad)


@pytest.mark.parametrize("kwargs", [{"lifetime": 0}, {"max_hosts": 0}])
def test_out_of_range_arguments_are_refused(server: DNSServer, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        make(server).mail_hosts("order.test", **kwargs)  # type: ignore[arg-type]


def test_an_mx_host_that_is_a_cname_is_followed_and_reported(server: DNSServer) -> None:
    result = both(make(server), "cname.test")
    assert result.status is DomainStatus.OK
    (host,) = result.hosts
    assert host.name == "alias.cname.test"
    assert host.addresses == ("127.0.4.1",)
    assert any("alias (CNAME)" in p for p in result.problems)


def test_a_domain_that_is_a_cname_uses_its_target_mx(server: DNSServer) -> None:
    result = both(make(server, cache=False), "domainalias.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["a.order.test", "b.order.test", "c.order.test"]


def test_an_mx_pointing_to_an_ip_literal_is_skipped(server: DNSServer) -> None:
    server.clear_queries()
    result = both(make(server, cache=False), "mxip.test")
    assert result.status is DomainStatus.NO_MAIL_SERVER
    assert any("192.0.2.1" in p and "IP address" in p for p in result.problems)
    assert result.detail is not None
    assert "192.0.2.1" in result.detail
    # Neither looked up as a name nor used as an address; no fallback to the domain's A.
    assert server.query_count("192.0.2.1") == 0
    assert server.query_count("mxip.test", "A") == 0


def test_an_ip_literal_beside_a_good_mx_leaves_the_good_one(server: DNSServer) -> None:
    result = both(make(server), "mxipmixed.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["good.mxipmixed.test"]
    assert len(result.problems) == 1


def test_an_mx_host_without_address_is_skipped_and_reported(server: DNSServer) -> None:
    result = both(make(server), "noaddr.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["live.noaddr.test"]
    assert any("gone.noaddr.test" in p for p in result.problems)


def test_mx_hosts_all_without_address_mean_no_mail_server(server: DNSServer) -> None:
    result = both(make(server), "allnoaddr.test")
    assert result.status is DomainStatus.NO_MAIL_SERVER
    assert len(result.problems) == 2
    assert result.detail is not None


def test_a_failing_mx_host_look_up_is_a_problem_when_another_host_resolves(
    server: DNSServer,
) -> None:
    result = both(make(server, cache=False), "hostfail.test")
    assert result.status is DomainStatus.OK
    assert names(result) == ["fine.hostfail.test"]
    assert any("broken.hostfail.test" in p and "failed" in p for p in result.problems)


def test_failing_mx_host_look_ups_with_no_address_are_a_dns_failure(server: DNSServer) -> None:
    result = both(make(server, cache=False), "allhostfail.test")
    assert result.status is DomainStatus.DNS_FAILURE


def test_max_hosts_limits_the_hosts_resolved(server: DNSServer) -> None:
    server.clear_queries()
    result = make(server, cache=False).mail_hosts("many.test", max_hosts=2)
    # m1 has no address, so it does not count: m2 and m3 are the two hosts.
    assert names(result) == ["m2.many.test", "m3.many.test"]
    assert server.query_count("m4.many.test") == 0
    assert asyncio.run(make(server).amail_hosts("many.test", max_hosts=2)) == result
    assert len(make(server).mail_hosts("many.test").hosts) == 3


def test_spf_and_dmarc_when_asked(server: DNSServer) -> None:
    result = both(make(server), "spf.test", spf=True, dmarc=True)
    assert result.status is DomainStatus.OK
    assert result.spf == "v=spf1 ip4:127.0.0.0/8 -all"  # TXT strings joined (RFC 7208 §3.3)
    assert result.dmarc == "v=DMARC1; p=reject"
    plain = make(server).mail_hosts("spf.test")
    assert plain.spf is plain.dmarc is None


def test_two_spf_records_give_none_and_a_problem(server: DNSServer) -> None:
    result = both(make(server), "twospf.test", spf=True, dmarc=True)
    assert result.spf is None
    assert result.dmarc is None  # no _dmarc record: not a problem
    assert result.problems == ("2 SPF records were found where one is allowed.",)


def test_spf_of_a_failing_name_is_a_problem_not_a_failure(server: DNSServer) -> None:
    result = both(make(server, cache=False), "servfail.test", spf=True)
    assert result.status is DomainStatus.DNS_FAILURE
    assert any("SPF" in p for p in result.problems)


def test_sync_and_async_agree_everywhere(server: DNSServer) -> None:
    resolver = make(server, cache=False)
    for domain in [
        "order.test",
        "implicit.test",
        "null.test",
        "absent.test",
        "nomail.test",
        "servfail.test",
        "cname.test",
        "mxip.test",
        "noaddr.test",
        "spf.test",
    ]:
        both(resolver, domain, spf=True, dmarc=True)


def test_resolver_satisfies_both_protocols(server: DNSServer) -> None:
    resolver: MailHostResolver = make(server)
    assert resolver.mail_hosts("order.test").status is DomainStatus.OK
    aresolver: AsyncMailHostResolver = make(server)
    assert asyncio.run(aresolver.amail_hosts("order.test")).status is DomainStatus.OK


# --- the system's configuration ---------------------------------------------------------


@pytest.mark.parametrize("content", [None, "# no name server at all\n"])
def test_an_unusable_resolv_conf_is_a_dns_failure_not_an_exception(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "resolv.conf"
    if content is not None:
        path.write_text(content)
    resolver = Resolver(resolv_conf=path)  # building it reads nothing yet
    hosts = resolver.mail_hosts("order.test")
    assert hosts.status is DomainStatus.DNS_FAILURE
    assert hosts.detail is not None
    assert str(path) in hosts.detail
    assert "cannot be used" in hosts.detail
    for result in (
        smtpcheck.verify("someone@smtpcheck-tests.net", resolver=resolver),
        asyncio.run(smtpcheck.averify("someone@smtpcheck-tests.net", resolver=resolver)),
    ):
        assert result.reason is smtpcheck.Reason.DNS_FAILURE
        assert result.verdict is smtpcheck.Verdict.UNKNOWN
        assert result.detail is not None
        assert "DNS configuration" in result.detail
    assert resolver.records("order.test", "A").kind is Kind.FAILURE


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_resolv_conf_is_a_dns_failure(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.1\n")
    path.chmod(0)
    assert Resolver(resolv_conf=path).mail_hosts("order.test").status is DomainStatus.DNS_FAILURE


def test_a_bad_name_server_is_a_policy_error() -> None:
    with pytest.raises(smtpcheck.PolicyError, match="name server"):
        Resolver(nameservers=["not an address"])


def test_the_resolver_modules_and_the_doctor_import_no_dnspython() -> None:
    code = (
        "import sys, smtpcheck._resolver, smtpcheck.testing._resolver, smtpcheck._doctor; "
        "print(sorted(m for m in sys.modules if m == 'dns' or m.startswith('dns.')))"
    )
    out = subprocess.run(  # noqa: S603 - our own arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- the doctor's look-ups --------------------------------------------------------------


def test_records_answers_one_question_in_plain_text(server: DNSServer) -> None:
    resolver = make(server)
    answer = resolver.records("order.test", "MX")
    assert answer.kind is Kind.ANSWER
    assert sorted(answer.records) == ["10 a.order.test", "20 b.order.test", "30 c.order.test"]
    assert resolver.records("null.test", "mx").records == ("0 .",)
    assert asyncio.run(resolver.arecords("a.order.test", "AAAA")).records == ("::1",)
    assert resolver.records("nomail.test", "TXT").records == ("hello",)
    assert resolver.records("nomail.test", "A").kind is Kind.NODATA
    assert resolver.records("absent.test", "A").kind is Kind.NXDOMAIN
    with pytest.raises(smtpcheck.PolicyError, match="record type"):
        resolver.records("order.test", "SRV")


# --- the cache -------------------------------------------------------------------------


def test_positive_answers_are_cached_for_their_ttl(server: DNSServer) -> None:
    clock = Clock()
    resolver = make(server, clock=clock)
    server.clear_queries()
    first = resolver.mail_hosts("ttl.test")
    assert server.query_count() == 3  # MX, A, AAAA (no data: negative TTL 30 s)
    assert resolver.mail_hosts("ttl.test") == first
    assert asyncio.run(resolver.amail_hosts("ttl.test")) == first  # one cache for both
    assert server.query_count() == 3
    clock.now += 31  # the AAAA no-data answer expires
    resolver.mail_hosts("ttl.test")
    assert server.query_count("mx.ttl.test", "AAAA") == 2
    assert server.query_count() == 4
    clock.now += 30  # 61 s: the MX (TTL 60) expires, the A (TTL 120) does not
    resolver.mail_hosts("ttl.test")
    assert server.query_count("ttl.test", "MX") == 2
    assert server.query_count("mx.ttl.test", "A") == 1
    clock.now += 60  # 121 s: the A expires too
    resolver.mail_hosts("ttl.test")
    assert server.query_count("mx.ttl.test", "A") == 2


def test_changed_records_show_once_the_ttl_expires(server: DNSServer) -> None:
    clock = Clock()
    resolver = make(server, clock=clock)
    server.set_records("moving.test", [("A", "127.0.13.1", 10)])
    assert resolver.mail_hosts("moving.test").hosts[0].addresses == ("127.0.13.1",)
    server.set_records("moving.test", [("A", "127.0.13.2", 10)])
    assert resolver.mail_hosts("moving.test").hosts[0].addresses == ("127.0.13.1",)
    clock.now += 11
    assert resolver.mail_hosts("moving.test").hosts[0].addresses == ("127.0.13.2",)


def test_nxdomain_is_cached_for_the_negative_ttl(server: DNSServer) -> None:
    clock = Clock()
    resolver = make(server, clock=clock)
    server.clear_queries()
    for _ in range(3):
        assert resolver.mail_hosts("gone.test").status is DomainStatus.NO_SUCH_DOMAIN
    assert server.query_count() == 1
    clock.now += 29
    resolver.mail_hosts("gone.test")
    assert server.query_count() == 1
    clock.now += 2  # past the 30 s of the SOA (negative_ttl=30)
    resolver.mail_hosts("gone.test")
    assert server.query_count() == 2


def test_the_negative_ttl_is_the_soa_minimum_when_smaller() -> None:
    zone = """
    $TTL 300
    zone.test. 300 IN SOA ns.zone.test. admin.zone.test. 1 3600 600 86400 5
    mx.zone.test. IN A 127.0.14.1
    """
    clock = Clock()
    with DNSServer(zone, origin="zone.test") as server:
        resolver = Resolver(nameservers=[server.host], port=server.port, clock=clock)
        assert resolver.mail_hosts("nothing.zone.test").status is DomainStatus.NO_SUCH_DOMAIN
        assert resolver.mail_hosts("nothing.zone.test").status is DomainStatus.NO_SUCH_DOMAIN
        assert server.query_count() == 1
        clock.now += 6
        resolver.mail_hosts("nothing.zone.test")
        assert server.query_count() == 2
        # The zone's data answers too: mx.zone.test is its own implicit MX.
        assert resolver.mail_hosts("mx.zone.test").hosts[0].implicit


def test_servfail_is_cached_briefly_and_timeouts_never(server: DNSServer) -> None:
    clock = Clock()
    resolver = make(server, clock=clock, failure_ttl=10.0)
    server.clear_queries()
    resolver.mail_hosts("servfail.test")
    resolver.mail_hosts("servfail.test")
    assert server.query_count("servfail.test") == 1
    clock.now += 11
    resolver.mail_hosts("servfail.test")
    assert server.query_count("servfail.test") == 2
    uncached = make(server, clock=clock, failure_ttl=0)
    uncached.mail_hosts("servfail.test")
    uncached.mail_hosts("servfail.test")
    assert server.query_count("servfail.test") == 4
    resolver.mail_hosts("drop.test", lifetime=0.2)
    before = server.query_count("drop.test")
    resolver.mail_hosts("drop.test", lifetime=0.2)
    assert server.query_count("drop.test") > before


def test_the_cache_is_bounded(server: DNSServer) -> None:
    resolver = make(server, cache_size=2)
    server.clear_queries()
    resolver.mail_hosts("null.test")  # one entry (MX)
    resolver.mail_hosts("absent.test")  # two entries
    resolver.mail_hosts("gone.test")  # three: null.test's MX is dropped
    resolver.mail_hosts("null.test")
    assert server.query_count("null.test") == 2
    resolver.clear_cache()
    resolver.mail_hosts("null.test")
    assert server.query_count("null.test") == 3


def test_no_cache_asks_every_time(server: DNSServer) -> None:
    resolver = make(server, cache=False)
    server.clear_queries()
    resolver.mail_hosts("null.test")
    resolver.mail_hosts("null.test")
    assert server.query_count("null.test") == 2


# --- the server itself -----------------------------------------------------------------


def test_the_server_answers_over_tcp_too(server: DNSServer) -> None:
    query = dns.message.make_query("order.test", "MX")
    response = dns.query.tcp(query, server.host, port=server.port, timeout=2)
    assert response.rcode() == dns.rcode.NOERROR
    assert len(response.answer[0]) == 3
    assert server.queries[-1].tcp


def test_a_large_answer_is_truncated_over_udp_and_whole_over_tcp() -> None:
    records = {"big.test": [("TXT", f'"{"x" * 200} {i}"') for i in range(10)]}
    with DNSServer(records) as server:
        query = dns.message.make_query("big.test", "TXT")
        udp = dns.query.udp(query, server.host, port=server.port, timeout=2, ignore_trailing=True)
        assert udp.flags & dns.flags.TC
        answer = dns.query.udp_with_fallback(query, server.host, port=server.port, timeout=2)
        assert len(answer[0].answer[0]) == 10


def test_stop_leaves_nothing_running() -> None:
    server = DNSServer({"x.test": [("A", "127.0.0.1")]})
    server.start()
    port = server.port
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", port))  # the port is free again
    # And it starts again.
    with server:
        assert server.port > 0


def test_unknown_behaviours_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown behaviour"):
        DNSServer().set_behaviour("x.test", "explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown behaviour"):
        DNSServer(behaviours={"x.test": "explode"})
