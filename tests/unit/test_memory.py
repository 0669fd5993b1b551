"""The memory: lifetimes, the typed records, the bounded in-process store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smtpcheck import PolicyError, Reason, Reply, Verdict
from smtpcheck._memory import DAY, HOUR, Fact, Lifetimes, identity
from smtpcheck._memory_store import InProcessStore, Memory

WHO = identity(helo_name="verifier.example.net", source_address=None, proxy=None)
BLOCKED = Reply(554, ("5.7.1 Service unavailable; client host [192.0.2.7] blocked",))
LIMITED = Reply(421, ("4.7.0 Too many connections, slow down",))
NO_SUCH = Reply(550, ("5.1.1 <q7x@example.com>: Recipient address rejected",))


class Clock:
    """Wall-clock seconds that move only when told."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def memory(clock: Clock) -> Memory:
    return Memory(clock=clock)


def test_lifetimes_defaults_and_validation() -> None:
    lifetimes = Lifetimes()
    assert lifetimes.refused == 6 * HOUR
    assert lifetimes.deliverable > lifetimes.undeliverable  # the cautious side is shorter
    assert lifetimes.for_verdict(Verdict.UNKNOWN) == 0
    assert all(value == 0 for value in vars_of(Lifetimes.off()))
    for bad in (-1, float("inf"), float("nan"), True, "1h", None):
        with pytest.raises(PolicyError, match=r"lifetimes\.refused"):
            Lifetimes(refused=bad)  # type: ignore[arg-type]


def vars_of(lifetimes: Lifetimes) -> list[float]:
    return [getattr(lifetimes, name) for name in Lifetimes.__dataclass_fields__]


def test_policy_takes_lifetimes() -> None:
    from smtpcheck import Policy

    assert Policy().lifetimes == Lifetimes()
    assert Policy(lifetimes=Lifetimes.off()).lifetimes.catch_all == 0
    with pytest.raises(PolicyError, match="lifetimes must be a Lifetimes"):
        Policy(lifetimes={"refused": 1})  # type: ignore[arg-type]


def test_identity_names_us_without_the_proxy_credentials() -> None:
    assert identity(helo_name=None, source_address=None, proxy=None) == "default"
    who = identity(helo_name="A.example", source_address="::1", proxy="socks5://u:pw@p.example:1")
    assert who == "helo=a.example source=::1 proxy=p.example:1"
    assert "pw" not in who


def test_a_refusal_is_remembered_for_its_cool_down(memory: Memory, clock: Clock) -> None:
    lifetimes = Lifetimes(refused=HOUR)
    memory.learn_host("MX.Example.com.", WHO, lifetimes, refused_us=Reason.BLOCKED, reply=BLOCKED)
    learned = clock.now
    refusal = memory.refusal("mx.example.com", WHO, lifetimes)
    assert refusal is not None
    assert (refusal.reason, refusal.reply) == (Reason.BLOCKED, BLOCKED)
    assert (refusal.learned_at, refusal.retry_at) == (learned, learned + HOUR)
    assert "refused us at" in refusal.detail("mx.example.com")
    assert "asked again after" in refusal.detail("mx.example.com")
    # Another identity (another HELO name) is a different client to the host.
    assert memory.refusal("mx.example.com", "helo=other.example", lifetimes) is None
    # A reader with a shorter lifetime sees it expire sooner.
    clock.now += HOUR / 2
    assert memory.refusal("mx.example.com", WHO, Lifetimes(refused=HOUR / 4)) is None
    assert memory.refusal("mx.example.com", WHO, lifetimes) is not None
    clock.now = learned + HOUR
    assert memory.refusal("mx.example.com", WHO, lifetimes) is None


def test_rate_limit_strikes_double_the_back_off_and_a_clean_session_forgives(
    memory: Memory, clock: Clock
) -> None:
    lifetimes = Lifetimes()
    delays = []
    for _ in range(5):
        memory.learn_host("mx.example.com", WHO, lifetimes, rate_limited=True, reply=LIMITED)
        backoff = memory.backoff("mx.example.com", WHO, lifetimes)
        assert backoff is not None
        assert backoff.reply == LIMITED
        delays.append(backoff.retry_at - clock.now)
    assert delays == [5.0, 10.0, 20.0, 40.0, 40.0]  # up to eight times the delay
    memory.learn_host("mx.example.com", WHO, lifetimes, pipelining=True)
    assert memory.backoff("mx.example.com", WHO, lifetimes) is None


def test_host_capabilities(memory: Memory, clock: Clock) -> None:
    lifetimes = Lifetimes(tls_failed=HOUR, capabilities=DAY)
    assert memory.host_facts("mx.example.com", WHO, lifetimes).pipelining is None
    memory.learn_host(
        "mx.example.com", WHO, lifetimes, tls_failed=True, pipelining=False, recipient_limit=3
    )
    facts = memory.host_facts("mx.example.com", WHO, lifetimes)
    assert (facts.tls_failed, facts.pipelining, facts.recipient_limit) == (True, False, 3)
    clock.now += HOUR
    facts = memory.host_facts("mx.example.com", WHO, lifetimes)
    assert (facts.tls_failed, facts.pipelining, facts.recipient_limit) == (False, False, 3)
    clock.now += DAY
    assert memory.host_facts("mx.example.com", WHO, lifetimes).recipient_limit is None


def test_catch_all_answers_are_kept_only_when_definite(memory: Memory) -> None:
    lifetimes = Lifetimes()
    memory.learn_catch_all("Example.com", Reply(450, ("4.7.1 greylisted",)), lifetimes)
    assert memory.catch_all("example.com", lifetimes) is None
    memory.learn_catch_all("Example.com", NO_SUCH, lifetimes)
    assert memory.catch_all("example.com", lifetimes) == NO_SUCH


def test_only_definite_results_are_remembered(memory: Memory, clock: Clock) -> None:
    lifetimes = Lifetimes()
    memory.learn_result("a@example.com", lifetimes, verdict=Verdict.UNKNOWN, reason=Reason.TIMEOUT)
    assert memory.result("a@example.com", lifetimes) is None
    memory.learn_result(
        "B@Example.com",
        lifetimes,
        verdict=Verdict.DELIVERABLE,
        reason=Reason.ACCEPTED,
        mx="mx.example.com",
        reply=Reply(250, ("2.1.5 Ok",)),
        catch_all=False,
    )
    assert memory.result("b@example.com", lifetimes) is None  # local parts keep their case
    found = memory.result("B@example.com", lifetimes)
    assert found is not None
    assert (found.verdict, found.reason, found.mx, found.catch_all) == (
        Verdict.DELIVERABLE,
        Reason.ACCEPTED,
        "mx.example.com",
        False,
    )
    assert found.reply == Reply(250, ("2.1.5 Ok",))
    assert found.learned_at == clock.now


def test_greylisting_says_when_a_retry_is_worth_making(memory: Memory, clock: Clock) -> None:
    lifetimes = Lifetimes()
    deferred = Reply(450, ("4.2.0 Greylisted, see https://example.com/grey",))
    memory.learn_greylisted("a@example.com", lifetimes, reply=deferred, retry_after=300)
    found = memory.greylisting("a@example.com", lifetimes)
    assert found is not None
    assert (found.reply, found.retry_at) == (deferred, clock.now + 300)
    clock.now += 300
    assert memory.greylisting("a@example.com", lifetimes) is None  # worth asking now
    memory.learn_greylisted("a@example.com", lifetimes, reply=deferred, retry_after=300)
    memory.forget_greylisting("a@example.com")
    assert memory.greylisting("a@example.com", lifetimes) is None


Write = Callable[[Memory, Lifetimes], None]
Read = Callable[[Memory, Lifetimes], object]

_HOST = "mx.example.com"
_EXPIRY: dict[str, tuple[Write, Read]] = {
    "refused": (
        lambda m, t: m.learn_host(_HOST, WHO, t, refused_us=Reason.BLOCKED, reply=BLOCKED),
        lambda m, t: m.refusal(_HOST, WHO, t),
    ),
    "rate_limited": (
        lambda m, t: m.learn_host(_HOST, WHO, t, rate_limited=True, rate_limit_delay=1),
        lambda m, t: m.backoff(_HOST, WHO, t),
    ),
    "tls_failed": (
        lambda m, t: m.learn_host(_HOST, WHO, t, tls_failed=True),
        lambda m, t: m.host_facts(_HOST, WHO, t).tls_failed or None,
    ),
    "capabilities": (
        lambda m, t: m.learn_host(_HOST, WHO, t, pipelining=True, recipient_limit=5),
        lambda m, t: m.host_facts(_HOST, WHO, t).recipient_limit,
    ),
    "catch_all": (
        lambda m, t: m.learn_catch_all("example.com", NO_SUCH, t),
        lambda m, t: m.catch_all("example.com", t),
    ),
    "deliverable": (
        lambda m, t: m.learn_result(
            "a@example.com", t, verdict=Verdict.DELIVERABLE, reason=Reason.ACCEPTED
        ),
        lambda m, t: m.result("a@example.com", t),
    ),
    "undeliverable": (
        lambda m, t: m.learn_result(
            "a@example.com", t, verdict=Verdict.UNDELIVERABLE, reason=Reason.MAILBOX_NOT_FOUND
        ),
        lambda m, t: m.result("a@example.com", t),
    ),
    "risky": (
        lambda m, t: m.learn_result(
            "a@example.com", t, verdict=Verdict.RISKY, reason=Reason.CATCH_ALL
        ),
        lambda m, t: m.result("a@example.com", t),
    ),
    "greylisted": (
        lambda m, t: m.learn_greylisted("a@example.com", t, reply=None, retry_after=10 * DAY),
        lambda m, t: m.greylisting("a@example.com", t),
    ),
}


@pytest.mark.parametrize("kind", sorted(_EXPIRY))
def test_each_fact_expires_at_its_lifetime(kind: str, memory: Memory, clock: Clock) -> None:
    assert set(_EXPIRY) == set(Lifetimes.__dataclass_fields__)  # every knob is pinned
    write, read = _EXPIRY[kind]
    lifetime = getattr(Lifetimes(), kind)
    lifetimes = Lifetimes()
    start = clock.now
    write(memory, lifetimes)
    clock.now = start + lifetime - 0.001
    assert read(memory, lifetimes) is not None, "forgotten before its lifetime"
    clock.now = start + lifetime
    assert read(memory, lifetimes) is None, "remembered past its lifetime"
    # A lifetime of 0 remembers nothing at all.
    off = Lifetimes(**{kind: 0})
    clock.now = start
    memory.forget("example.com")
    memory.forget(_HOST)
    write(memory, off)
    assert read(memory, off) is None


def test_show_and_forget_by_domain_host_or_address(memory: Memory) -> None:
    lifetimes = Lifetimes()
    memory.learn_host(_HOST, WHO, lifetimes, refused_us=Reason.BLOCKED, reply=BLOCKED)
    memory.learn_catch_all("example.com", NO_SUCH, lifetimes)
    for local in ("a", "b"):
        memory.learn_result(
            f"{local}@example.com", lifetimes, verdict=Verdict.RISKY, reason=Reason.CATCH_ALL
        )
    assert {f.kind for f in memory.about("Example.COM.")} == {"catch_all", "result"}
    assert [f.kind for f in memory.about(_HOST)] == ["refused"]
    assert [f.key for f in memory.about("a@example.com")] == ["a@example.com"]
    assert memory.forget("a@example.com") == 1
    assert memory.forget("example.com") == 2
    assert memory.forget(_HOST) == 1
    assert memory.about("example.com") == []


def test_a_fact_that_cannot_be_read_is_one_we_do_not_have(memory: Memory, clock: Clock) -> None:
    for kind, key, value in [
        ("result", "a@example.com", "{not json"),
        ("result", "b@example.com", '{"verdict": "maybe", "reason": "accepted"}'),
        ("refused", f"{_HOST}|{WHO}", '{"reason": "blocked", "reply": {"code": 99}}'),
        ("rate_limited", f"{_HOST}|{WHO}", '{"strikes": 1, "retry_at": "soon"}'),
        ("catch_all", "example.com", '{"reply": {"code": 250}}'),
        ("greylisted", "a@example.com", '{"retry_at": true}'),
    ]:
        memory.store.put(Fact(kind, key, "example.com", value, clock.now, clock.now + DAY))
    lifetimes = Lifetimes()
    assert memory.result("a@example.com", lifetimes) is None
    assert memory.result("b@example.com", lifetimes) is None
    assert memory.refusal(_HOST, WHO, lifetimes) is None
    assert memory.backoff(_HOST, WHO, lifetimes) is None
    assert memory.catch_all("example.com", lifetimes) is None
    assert memory.greylisting("a@example.com", lifetimes) is None


def _fact(number: int) -> Fact:
    return Fact("result", f"user{number}@example.com", "example.com", '{"v":1}', 0.0, 1e12)


def test_the_bound_holds_with_a_million_entries() -> None:
    store = InProcessStore(max_entries=10_000, max_bytes=1_000_000)
    for number in range(1_000_000):
        store.put(_fact(number))
        assert len(store) <= 10_000
    assert store.bytes <= 1_000_000
    assert store.bytes > 1_000_000 - _fact(999_999).size()  # full, not emptied
    assert store.get("result", "user999999@example.com", 1.0) is not None  # newest kept
    assert store.get("result", "user0@example.com", 1.0) is None  # oldest gone
    assert store.bytes == sum(f.size() for f in store.about("example.com", 1.0))


def test_the_least_recently_used_goes_first() -> None:
    store = InProcessStore(max_entries=2)
    store.put(_fact(1))
    store.put(_fact(2))
    assert store.get("result", "user1@example.com", 1.0) is not None  # now the most recent
    store.put(_fact(3))
    assert store.get("result", "user2@example.com", 1.0) is None
    assert store.get("result", "user1@example.com", 1.0) is not None
    store.drop("result", "user1@example.com")
    assert len(store) == 1
    store.clear()
    assert (len(store), store.bytes) == (0, 0)
    with pytest.raises(ValueError, match="room"):
        InProcessStore(max_entries=0)


def test_an_internationalised_domain_is_shown_and_forgotten_in_either_form(
    memory: Memory,
) -> None:
    lifetimes = Lifetimes()
    memory.learn_catch_all("xn--exmple-cua.org", NO_SUCH, lifetimes)
    memory.learn_result(
        "Jöhn@exämple.org", lifetimes, verdict=Verdict.DELIVERABLE, reason=Reason.ACCEPTED
    )
    assert {f.kind for f in memory.about("Exämple.org")} == {"catch_all", "result"}
    assert {f.kind for f in memory.about("xn--exmple-cua.org")} == {"catch_all", "result"}
    assert [f.kind for f in memory.about("Jöhn@EXÄMPLE.org")] == ["result"]
    assert memory.about("jöhn@exämple.org") == []  # local parts keep their case
    assert memory.forget("exämple.org") == 2
