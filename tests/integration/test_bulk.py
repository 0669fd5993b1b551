"""verify_many and averify_many against the mail world on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest

import smtpcheck
from smtpcheck import Policy, PolicyError, Reason, Result, Verdict
from smtpcheck._bulk import averify_many, verify_many
from smtpcheck._resolver import DomainStatus, MailHost, MailHosts
from smtpcheck.testing import Behaviour, Command, MailWorld

POLICY = Policy(
    allow_special_use=True,
    helo_name="client.test",
    timeout=5,
    reply_timeout=3,
    rate_limit_delay=0.01,
)

# Domains of the default world that answer at once (no tarpit, no silent server).
QUICK = (
    "ok.test",
    "catchall.test",
    "full.test",
    "disabled.test",
    "greylist.test",
    "blocked.test",
    "blocked-connect.test",
    "sender-refused.test",
    "starttls.test",
    "tls.test",
    "drop.test",
    "busy.test",
    "limit.test",
    "gmail.test",
    "outlook.test",
    "plain.test",
    "ascii.test",
    "garbage.test",
    "reset.test",
)


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    with MailWorld.default() as started:
        yield started


def rcpts(world: MailWorld, server: str) -> list[Command]:
    return [c for c in world.commands(server) if c.verb == "RCPT"]


def local_part(command: Command) -> str:
    return command.line.split("<", 1)[1].split("@", 1)[0].lower()


def one_domain(behaviour: Behaviour, mailboxes: list[str]) -> MailWorld:
    return MailWorld().add_server(
        "mx.one.test", domains=["one.test"], mailboxes=mailboxes, behaviour=behaviour
    )


# -- every input, exactly once -------------------------------------------------------------


def test_every_input_gets_exactly_one_result(world: MailWorld) -> None:
    given = [f"{local}@{domain}" for domain in QUICK for local in ("alice", "bob", "nobody")]
    given += ["alice@ok.test", "ALICE@ok.test", "not an address", "@x", "x@nowhere.test"] * 2
    results = list(verify_many(given, policy=POLICY, resolver=world.resolver))
    assert Counter(r.address for r in results) == Counter(given)
    by_address = {r.address: r for r in results}
    assert by_address["alice@ok.test"].verdict is Verdict.DELIVERABLE
    assert by_address["nobody@ok.test"].reason is Reason.MAILBOX_NOT_FOUND
    assert by_address["alice@catchall.test"].reason is Reason.CATCH_ALL
    assert by_address["not an address"].reason is Reason.INVALID_SYNTAX
    assert by_address["x@nowhere.test"].reason is Reason.NO_SUCH_DOMAIN
    # The same answers as one verify() each.
    for address in ("alice@full.test", "nobody@limit.test", "bob@busy.test", "bob@drop.test"):
        alone = smtpcheck.verify(address, policy=POLICY, resolver=world.resolver)
        assert (by_address[address].verdict, by_address[address].reason) == (
            alone.verdict,
            alone.reason,
        ), address


def test_addresses_objects_and_empty_input(world: MailWorld) -> None:
    parsed = smtpcheck.parse_address("alice@ok.test", allow_special_use=True)
    [result] = verify_many([parsed], policy=POLICY, resolver=world.resolver)
    assert result.address == "alice@ok.test"
    assert result.verdict is Verdict.DELIVERABLE
    assert list(verify_many([], policy=POLICY, resolver=world.resolver)) == []
    with pytest.raises(PolicyError, match="iterable of addresses"):
        verify_many("alice@ok.test", policy=POLICY)


def test_an_error_of_the_input_comes_after_the_results_read_before_it(world: MailWorld) -> None:
    def addresses() -> Iterator[str]:
        yield "alice@ok.test"
        yield "not an address"
        raise OSError("the disk went away")

    seen: list[Result] = []
    with pytest.raises(OSError, match="disk went away"):
        seen.extend(verify_many(addresses(), policy=POLICY, resolver=world.resolver))
    assert sorted(r.address for r in seen) == ["alice@ok.test", "not an address"]


# -- sessions ------------------------------------------------------------------------------


def test_too_many_recipients_are_asked_in_new_sessions_once_each() -> None:
    mailboxes = [f"user{n}" for n in range(10)]
    given = [f"user{n}@one.test" for n in range(20)]
    with one_domain(Behaviour(max_recipients=2), mailboxes) as world:
        results = list(verify_many(given, policy=POLICY, resolver=world.resolver))
        commands = rcpts(world, "mx.one.test")
    assert Counter(r.address for r in results) == Counter(given)
    for result in results:
        number = int(result.address.split("@")[0].removeprefix("user"))
        expected = Verdict.DELIVERABLE if number < 10 else Verdict.UNDELIVERABLE
        assert result.verdict is expected, result
    # Replay the server: once a transaction has two accepted recipients, it answers 452.
    answered: Counter[str] = Counter()
    accepted: Counter[int] = Counter()
    for command in commands:
        if accepted[command.session] >= 2:
            continue  # 452 4.5.3: asked again in another session
        answered[local_part(command)] += 1
        accepted[command.session] += local_part(command) in mailboxes
    real = Counter({k: v for k, v in answered.items() if k.startswith("user")})
    assert real == Counter(f"user{n}" for n in range(20))
    assert sum(v for k, v in answered.items() if not k.startswith("user")) == 1  # the probe


def test_a_host_taking_one_recipient_a_transaction_is_remembered_across_batches() -> None:
    # Issue 19: Microsoft consumer hosts answer 452 4.5.3 to any second RCPT TO. The probe
    # gets a session of its own, and the limit holds for the domain's later batches.
    given = [f"user{n}@one.test" for n in range(20)]
    with one_domain(Behaviour(max_recipients=1), [f"user{n}" for n in range(20)]) as world:
        results = list(verify_many(given, policy=POLICY, resolver=world.resolver))
        commands = rcpts(world, "mx.one.test")
    assert Counter(r.address for r in results) == Counter(given)
    assert {(r.verdict, r.catch_all) for r in results} == {(Verdict.DELIVERABLE, False)}
    # Replay the server: after one accepted recipient, a transaction answers 452.
    accepted: Counter[int] = Counter()
    too_many = 0
    for command in commands:
        if accepted[command.session]:
            too_many += 1
        else:
            accepted[command.session] += local_part(command).startswith("user")
    # Only the first session ran into the limit: the probe and the 8 others of its batch.
    assert too_many == 9


def test_without_the_probe_a_full_session_carries_max_recipients_addresses() -> None:
    # Issue 14: the session capacity is decided once, in the verifier; bulk used to
    # reserve a place for a probe it would not ask and opened 2 sessions for these 10.
    mailboxes = [f"user{n}" for n in range(5)]
    given = [f"user{n}@one.test" for n in range(10)]
    policy = POLICY.replace(catch_all_probe=False, max_recipients=10)
    with one_domain(Behaviour(), mailboxes) as world:
        results = list(verify_many(given, policy=policy, resolver=world.resolver))
        stats = world.stats("mx.one.test")
        commands = rcpts(world, "mx.one.test")
    assert Counter(r.address for r in results) == Counter(given)
    assert stats.connections == 1
    assert len(commands) == 10


def test_identical_inputs_in_flight_share_one_verification() -> None:
    given = ["alice@one.test"] * 500 + ["Alice@one.test", "bob@one.test"] * 3
    with one_domain(Behaviour(), ["alice", "bob"]) as world:
        results = list(verify_many(given, policy=POLICY, resolver=world.resolver))
        commands = rcpts(world, "mx.one.test")
    assert Counter(r.address for r in results) == Counter(given)
    assert {r.verdict for r in results} == {Verdict.DELIVERABLE}
    asked = Counter(local_part(c) for c in commands)
    # "alice" and "Alice" are two mailboxes (local parts keep their case), each asked
    # once; bob once; the probe once.
    assert asked["alice"] == 2
    assert asked["bob"] == 1
    assert sum(asked.values()) == 4


class _DroppingServer:
    """Answers like Postfix, then says ``421`` and hangs up on the RCPT after ``limit``."""

    def __init__(self, mailboxes: set[str], limit: int) -> None:
        self.mailboxes = mailboxes
        self.limit = limit
        self.rcpts: list[tuple[int, str, int]] = []  # (session, address, code)
        self.sessions = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        session, count = self.sessions, 0
        writer.write(b"220 mx.drop.test ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(
                        b"250-mx.drop.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"
                    )
                elif verb == b"MAIL":
                    writer.write(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    address = line.decode().split("<", 1)[1].split(">", 1)[0].lower()
                    count += 1
                    if count > self.limit:
                        self.rcpts.append((session, address, 421))
                        writer.write(b"421 4.7.0 mx.drop.test Error: too many errors\r\n")
                        await writer.drain()
                        break
                    code = 250 if address.split("@")[0] in self.mailboxes else 550
                    self.rcpts.append((session, address, code))
                    writer.write(
                        b"250 2.1.5 Ok\r\n" if code == 250 else b"550 5.1.1 User unknown\r\n"
                    )
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 5.5.2 Error: command not recognized\r\n")
                await writer.drain()
        finally:
            writer.close()


class _PostscreenServer(_DroppingServer):
    """Like Postfix's postscreen after its deep tests: the first session of a new client
    gets ``450 4.3.2 Service currently unavailable`` at RCPT; later ones get through."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.sessions > 0:
            await super().handle(reader, writer)
            return
        self.sessions += 1
        writer.write(b"220 mx.drop.test ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-mx.drop.test\r\n250 PIPELINING\r\n")
                elif verb == b"RCPT":
                    writer.write(b"450 4.3.2 Service currently unavailable\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 2.0.0 Ok\r\n")
                await writer.drain()
        finally:
            writer.close()


def test_a_temporary_failure_is_asked_again_after_the_back_off() -> None:
    async def main() -> tuple[list[Result], _DroppingServer]:
        server = _PostscreenServer({"user0", "user2"}, limit=10)
        policy = POLICY.replace(rate_limit_delay=0.05, rate_limit_retries=1)
        async with server as port:
            given = [f"user{n}@drop.test" for n in range(4)]
            results = [r async for r in averify_many(given, policy=policy, resolver=_OneHost(port))]
        return results, server

    results, server = asyncio.run(main())
    verdicts = {r.address: r.verdict for r in results}
    assert verdicts == {
        "user0@drop.test": Verdict.DELIVERABLE,
        "user1@drop.test": Verdict.UNDELIVERABLE,
        "user2@drop.test": Verdict.DELIVERABLE,
        "user3@drop.test": Verdict.UNDELIVERABLE,
    }
    assert server.sessions == 2


class _OneHost:
    """A resolver whose every domain is served by one loopback host."""

    def __init__(self, port: int) -> None:
        self.port = port

    def mail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        host = MailHost(
            name="mx.drop.test", preference=10, addresses=("127.0.0.1",), port=self.port
        )
        return MailHosts(domain=ascii_domain, status=DomainStatus.OK, hosts=(host,))

    async def amail_hosts(self, ascii_domain: str, **_: object) -> MailHosts:
        return self.mail_hosts(ascii_domain)


def test_a_server_that_hangs_up_after_some_recipients_is_asked_again() -> None:
    async def main() -> tuple[list[Result], _DroppingServer]:
        server = _DroppingServer({f"user{n}" for n in range(0, 30, 2)}, limit=3)
        async with server as port:
            given = [f"user{n}@drop.test" for n in range(30)]
            results = [r async for r in averify_many(given, policy=POLICY, resolver=_OneHost(port))]
        return results, server

    results, server = asyncio.run(main())
    assert len(results) == 30
    for result in results:
        number = int(result.address.split("@")[0].removeprefix("user"))
        expected = Verdict.DELIVERABLE if number % 2 == 0 else Verdict.UNDELIVERABLE
        assert result.verdict is expected, result
    answered = Counter(a for _, a, code in server.rcpts if code != 421 and a.startswith("user"))
    assert answered == Counter(f"user{n}@drop.test" for n in range(30))
    assert server.sessions >= 10


def test_a_crash_in_one_batch_loses_no_input(world: MailWorld) -> None:
    class Broken:
        def mail_hosts(self, ascii_domain: str, **kwargs: object) -> MailHosts:
            raise NotImplementedError

        async def amail_hosts(self, ascii_domain: str, **kwargs: object) -> MailHosts:
            if ascii_domain == "boom.test":
                return None  # type: ignore[return-value]  # breaks the plan
            return await world.resolver.amail_hosts(ascii_domain, **kwargs)  # type: ignore[arg-type]

    given = ["a@boom.test", "b@boom.test", "alice@ok.test"]
    results = {r.address: r for r in verify_many(given, policy=POLICY, resolver=Broken())}
    assert results["a@boom.test"].reason is Reason.INTERNAL_ERROR  # a bug, not the server
    assert results["b@boom.test"].verdict is Verdict.UNKNOWN
    assert "AttributeError" in (results["b@boom.test"].detail or "")
    assert results["alice@ok.test"].verdict is Verdict.DELIVERABLE


# -- politeness ----------------------------------------------------------------------------


def test_greylisted_addresses_are_asked_again_after_the_delay() -> None:
    given = ["alice@one.test", "bob@one.test", "nobody@one.test"]
    behaviour = Behaviour(greylist_seconds=0.2)
    with one_domain(behaviour, ["alice", "bob"]) as world:
        once = {r.address: r for r in verify_many(given, policy=POLICY, resolver=world.resolver)}
        world.reset()
    with one_domain(behaviour, ["alice", "bob"]) as world:
        policy = POLICY.replace(greylist_retries=3, greylist_delay=0.1)
        again = {r.address: r for r in verify_many(given, policy=policy, resolver=world.resolver)}
    assert {r.reason for r in once.values()} == {Reason.GREYLISTED}
    assert again["alice@one.test"].verdict is Verdict.DELIVERABLE
    assert again["bob@one.test"].verdict is Verdict.DELIVERABLE
    assert again["nobody@one.test"].reason is Reason.MAILBOX_NOT_FOUND


def test_connections_per_host_are_capped_and_the_probe_is_asked_once() -> None:
    mailboxes = [f"user{n}" for n in range(0, 300, 3)]
    given = [f"user{n}@one.test" for n in range(300)]
    behaviour = Behaviour(reply_delay=0.005)
    with one_domain(behaviour, mailboxes) as world:
        policy = POLICY.replace(host_concurrency=2, concurrency=10)
        results = list(verify_many(given, policy=policy, resolver=world.resolver))
        stats = world.stats("mx.one.test")
        probes = [c for c in rcpts(world, "mx.one.test") if not local_part(c).startswith("user")]
    assert len(results) == 300
    assert sum(r.verdict is Verdict.DELIVERABLE for r in results) == 100
    assert stats.peak == 2
    assert stats.connections >= 300 // policy.max_recipients
    assert len(probes) == 1


def test_the_overall_cap_holds_across_domains() -> None:
    world = MailWorld()
    for n in range(6):
        world.add_server(
            f"mx.d{n}.test",
            domains=[f"d{n}.test"],
            mailboxes=["alice"],
            behaviour=Behaviour(reply_delay=0.01),
        )
    given = [f"u{i}@d{n}.test" for i in range(30) for n in range(6)]
    peak = 0
    lock = threading.Lock()
    with world:
        policy = POLICY.replace(concurrency=3, host_concurrency=2)

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                with lock:
                    now = sum(world.stats(f"mx.d{n}.test").active for n in range(6))
                    peak = max(peak, now)
                done.wait(0.001)

        done = threading.Event()
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            results = list(verify_many(given, policy=policy, resolver=world.resolver))
        finally:
            done.set()
            watcher.join()
        probes = Counter(
            c.server
            for c in world.commands()
            if c.verb == "RCPT" and not re.fullmatch(r"u\d+", local_part(c))
        )
    assert len(results) == len(given)
    assert 1 <= peak <= 3
    assert probes == Counter({f"mx.d{n}.test": 1 for n in range(6)})


def test_a_rate_limiting_host_is_backed_off_and_asked_again(world: MailWorld) -> None:
    policy = POLICY.replace(rate_limit_delay=0.05, rate_limit_retries=1)
    world.reset()
    started = time.monotonic()
    results = list(verify_many(["alice@busy.test"], policy=policy, resolver=world.resolver))
    took = time.monotonic() - started
    assert [r.reason for r in results] == [Reason.RATE_LIMITED]
    assert world.stats("mx.busy.test").connections == 2  # asked once more, after 50 ms
    assert took >= 0.05


# -- how it is driven ----------------------------------------------------------------------


def test_the_blocking_iterator_works_inside_a_running_event_loop(world: MailWorld) -> None:
    async def main() -> list[Result]:
        return list(
            verify_many(["alice@ok.test", "bob@ok.test"], policy=POLICY, resolver=world.resolver)
        )

    results = asyncio.run(main())
    assert {r.verdict for r in results} == {Verdict.DELIVERABLE}


def test_stopping_early_leaves_no_thread_running(world: MailWorld) -> None:
    before = threading.active_count()
    given = (f"user{n}@{domain}" for n in range(100_000) for domain in QUICK[:4])
    results = verify_many(given, policy=POLICY, resolver=world.resolver)
    for count, _ in enumerate(results):
        if count == 10:
            break
    assert threading.active_count() > before  # the engine runs until the iterator closes
    results.close()
    assert threading.active_count() == before
    with contextlib.closing(verify_many(given, policy=POLICY, resolver=world.resolver)) as more:
        next(iter(more))
    assert threading.active_count() == before


def test_averify_many_takes_an_async_iterable(world: MailWorld) -> None:
    async def addresses() -> AsyncIterator[str]:
        for local in ("alice", "bob", "nobody"):
            await asyncio.sleep(0)
            yield f"{local}@ok.test"
        yield "not an address"

    async def main() -> list[Result]:
        async with contextlib.aclosing(
            averify_many(addresses(), policy=POLICY, resolver=world.resolver)
        ) as results:
            return [r async for r in results]

    results = {r.address: r for r in asyncio.run(main())}
    assert results["alice@ok.test"].verdict is Verdict.DELIVERABLE
    assert results["nobody@ok.test"].verdict is Verdict.UNDELIVERABLE
    assert results["not an address"].reason is Reason.INVALID_SYNTAX
    assert len(results) == 4


def test_a_slow_async_source_is_not_held_back_waiting_for_more(world: MailWorld) -> None:
    """An address whose domain gets no company is sent after a short linger."""

    async def main() -> float:
        gate = asyncio.Event()

        async def addresses() -> AsyncIterator[str]:
            yield "alice@ok.test"
            await gate.wait()  # the source waits until the first result is out

        async with contextlib.aclosing(
            averify_many(addresses(), policy=POLICY, resolver=world.resolver)
        ) as results:
            started = time.monotonic()
            first = await anext(results)
            assert first.verdict is Verdict.DELIVERABLE
            took = time.monotonic() - started
            gate.set()
            assert [r async for r in results] == []
        return took

    assert asyncio.run(main()) < 2.0
