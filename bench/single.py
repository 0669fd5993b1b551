"""One verification, counted in network round trips.

Each sandbox server sits behind a loopback proxy that delays every chunk by d/2 in each
direction, so every round trip costs d, as with a distant server (a delay inside the
server would hide what pipelining saves). The figure printed is elapsed / d: the round
trips one verification costs, the TCP connect included, for smtpcheck with and without
PIPELINING, with STARTTLS, and for a plain smtplib conversation asking the same things
(EHLO, [STARTTLS, EHLO], MAIL FROM, RCPT TO the address, RCPT TO a random one, QUIT).

Run: .venv/bin/python bench/single.py [--rtt 0.05] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import ssl
import statistics
import time

import smtpcheck
from _proxy import DelayProxy
from smtpcheck._resolver import DomainStatus, MailHost, MailHosts
from smtpcheck.testing import TLS, Behaviour, MailWorld


class ProxiedResolver:
    """Every domain's one mail host is the proxy."""

    def __init__(self, port: int) -> None:
        self.port = port

    def mail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        host = MailHost(
            name=f"mx.{ascii_domain}", preference=10, addresses=("127.0.0.1",), port=self.port
        )
        return MailHosts(domain=ascii_domain, status=DomainStatus.OK, hosts=(host,))

    async def amail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        return self.mail_hosts(ascii_domain)


def with_smtplib(port: int, domain: str, *, starttls: bool) -> None:
    client = smtplib.SMTP("127.0.0.1", port, local_hostname="verifier.example.net", timeout=30)
    client.ehlo()
    if starttls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client.starttls(context=context)
        client.ehlo()
    client.mail("")
    client.rcpt(f"alice@{domain}")
    client.rcpt(f"q7x0m2k9d4w1b8z3@{domain}")
    client.quit()


def measure(label: str, rtt: float, repeat: int, run: object) -> None:
    assert callable(run)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"{label:48} {median * 1000:8.1f} ms  {median / rtt:5.2f} round trips")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.05, help="round-trip time d, seconds")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rtt, repeat = args.rtt, args.repeat

    world = (
        MailWorld()
        .add_server("mx.pipe.test", domains=["pipe.test"], mailboxes=["alice"])
        .add_server(
            "mx.nopipe.test",
            domains=["nopipe.test"],
            mailboxes=["alice"],
            behaviour=Behaviour(pipelining=False),
        )
        .add_server(
            "mx.tls.test",
            domains=["tls.test"],
            mailboxes=["alice"],
            behaviour=Behaviour(tls=TLS.STARTTLS),
        )
    )
    policy = smtpcheck.Policy(allow_special_use=True, helo_name="verifier.example.net")
    with world:
        print(
            f"d = {rtt * 1000:.0f} ms; median of {repeat}; TCP connect + greeting = 2 round trips"
        )
        for domain in ("pipe.test", "nopipe.test", "tls.test"):
            with DelayProxy(world.address(f"mx.{domain}"), rtt=rtt) as proxy:
                resolver = ProxiedResolver(proxy.port)
                address = f"alice@{domain}"

                def sync(address: str = address, resolver: ProxiedResolver = resolver) -> None:
                    result = smtpcheck.verify(address, policy=policy, resolver=resolver)
                    assert result.verdict is smtpcheck.Verdict.DELIVERABLE, result

                def asynchronous(
                    address: str = address, resolver: ProxiedResolver = resolver
                ) -> None:
                    result = asyncio.run(
                        smtpcheck.averify(address, policy=policy, resolver=resolver)
                    )
                    assert result.verdict is smtpcheck.Verdict.DELIVERABLE, result

                def plain(port: int = proxy.port, domain: str = domain) -> None:
                    with_smtplib(port, domain, starttls=domain == "tls.test")

                kind = {
                    "pipe.test": "PIPELINING",
                    "nopipe.test": "no PIPELINING",
                    "tls.test": "STARTTLS + PIPELINING",
                }[domain]
                measure(f"smtpcheck verify(), {kind}", rtt, repeat, sync)
                measure(f"smtpcheck averify(), {kind}", rtt, repeat, asynchronous)
                measure(f"smtplib, same checks, {kind}", rtt, repeat, plain)


if __name__ == "__main__":
    main()
