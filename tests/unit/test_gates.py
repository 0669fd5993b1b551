"""Admission services: the gates' slots and back-off, in both flavours, on fake time."""

from __future__ import annotations

import asyncio
import threading

import pytest

from smtpcheck import Policy, Reason
from smtpcheck._admission import (
    Admit,
    Admitted,
    AsyncOpenAdmission,
    BackoffBook,
    Lesson,
    OpenAdmission,
    Release,
    backoff_delay,
)
from smtpcheck._gates import Gates, ThreadGates

POLICY = Policy(concurrency=3, host_concurrency=2, rate_limit_delay=5.0)
LIMITED = Lesson(rate_limited=True)


def admit(ip: str = "192.0.2.1", port: int = 25) -> Admit:
    return Admit(host="mx.example.test", ip=ip, port=port)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def test_backoff_doubles_up_to_eight_times_and_a_clean_session_forgives() -> None:
    assert [backoff_delay(1.0, n) for n in range(7)] == [0, 1, 2, 4, 8, 8, 8]
    time = FakeTime()
    book = BackoffBook(5.0, time.clock)
    key = ("192.0.2.1", 25)
    assert book.wait(key) == 0
    book.learn(key, LIMITED)
    assert book.wait(key) == 5.0
    book.learn(key, LIMITED)
    assert book.wait(key) == 10.0
    time.now += 4
    assert book.wait(key) == 6.0
    book.learn(key, Lesson())
    assert book.wait(key) == 0
    assert len(book) == 0  # a forgiven host is not kept


def test_the_book_is_bounded() -> None:
    book = BackoffBook(1.0, FakeTime().clock, size=100)
    for n in range(1000):
        book.learn((f"10.0.{n // 256}.{n % 256}", 25), LIMITED)
    assert len(book) == 100


def test_open_admission_admits_at_once() -> None:
    assert OpenAdmission().admit(admit()) == Admitted(0.0)
    assert asyncio.run(AsyncOpenAdmission().admit(admit())) == Admitted(0.0)


def test_async_gates_cap_each_host_and_the_whole() -> None:
    async def main() -> None:
        gates = Gates(POLICY)
        first = [await gates.admit(admit("192.0.2.1")) for _ in range(2)]
        assert all(isinstance(a, Admitted) for a in first)
        third = asyncio.create_task(gates.admit(admit("192.0.2.1")))  # host full
        other = await gates.admit(admit("192.0.2.2"))  # a third overall slot
        assert isinstance(other, Admitted)
        fourth = asyncio.create_task(gates.admit(admit("192.0.2.3")))  # overall full
        await asyncio.sleep(0)
        assert not third.done()
        assert not fourth.done()
        await gates.release(Release(admit("192.0.2.2"), Lesson()))
        assert isinstance(await fourth, Admitted)
        assert not third.done()  # still waiting for its host
        await gates.release(Release(admit("192.0.2.1"), Lesson()))
        assert isinstance(await third, Admitted)
        for ip in ("192.0.2.1", "192.0.2.1", "192.0.2.3"):
            await gates.release(Release(admit(ip), Lesson()))
        assert gates.hosts == {}  # idle hosts are forgotten

    asyncio.run(main())


def test_async_gates_back_off_from_a_rate_limited_host() -> None:
    async def main() -> None:
        time = FakeTime()
        gates = Gates(POLICY, clock=time.clock, sleep=time.asleep)
        await gates.admit(admit())
        await gates.release(Release(admit(), LIMITED))
        waited = await gates.admit(admit())
        assert time.slept == [5.0]
        assert waited == Admitted(5.0)
        await gates.release(Release(admit(), LIMITED))
        await gates.admit(admit())
        assert time.slept == [5.0, 10.0]
        await gates.release(Release(admit(), Lesson()))  # clean: forgiven
        await gates.admit(admit())
        assert time.slept == [5.0, 10.0]
        # Another host is not held back by this one's back-off.
        await gates.admit(admit("192.0.2.9"))
        assert time.slept == [5.0, 10.0]

    asyncio.run(main())


def test_a_cancelled_wait_holds_no_slot() -> None:
    async def main() -> None:
        gates = Gates(POLICY.replace(host_concurrency=1))
        await gates.admit(admit())
        waiting = asyncio.create_task(gates.admit(admit()))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await gates.release(Release(admit(), Lesson()))
        assert gates.hosts == {}
        assert isinstance(await gates.admit(admit()), Admitted)  # the slot is free

    asyncio.run(main())


def test_thread_gates_cap_each_host_across_threads() -> None:
    gates = ThreadGates(POLICY)
    gates.admit(admit())
    gates.admit(admit())
    entered = threading.Event()

    def third() -> None:
        gates.admit(admit())
        entered.set()

    thread = threading.Thread(target=third)
    thread.start()
    assert not entered.wait(0.05)  # the host is full
    gates.release(Release(admit(), Lesson()))
    assert entered.wait(5)
    thread.join()
    gates.release(Release(admit(), Lesson()))
    gates.release(Release(admit(), Lesson()))
    assert gates.hosts == {}


def test_thread_gates_back_off_like_the_async_ones() -> None:
    time = FakeTime()
    gates = ThreadGates(POLICY, clock=time.clock, sleep=time.sleep)
    gates.admit(admit())
    gates.release(Release(admit(), Lesson(rate_limited=True, refused_us=Reason.BLOCKED)))
    assert gates.admit(admit()) == Admitted(5.0)
    assert time.slept == [5.0]
