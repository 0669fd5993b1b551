"""smtpcheck.distributed's public names, its identities, and what importing it costs."""

from __future__ import annotations

import asyncio
import inspect
import pickle
import subprocess
import sys

import dask.dataframe as dd
import pandas as pd
import pytest

import smtpcheck
import smtpcheck.distributed as sd
from smtpcheck import Policy, PolicyError
from smtpcheck._admission import Admit, Admitted, Lesson, Release
from smtpcheck.distributed import (
    UnfitWorker,
    WorkerAdmission,
    WorkerIdentities,
    WorkerIdentity,
    verify_dataframe,
)
from smtpcheck.testing import MailWorld

PUBLIC = {
    "ClusterAdmission", "Egress", "PartitionBy", "RESULT_COLUMNS", "SchedulerUnreachable",
    "UnfitWorker", "WorkerAdmission", "WorkerIdentities", "WorkerIdentity", "connect",
    "verify_dataframe", "verify_many",
}  # fmt: skip


def test_all_is_exactly_the_public_names_and_they_live_here() -> None:
    assert set(sd.__all__) == PUBLIC
    for name in PUBLIC - {"RESULT_COLUMNS", "Egress", "PartitionBy"}:
        value = getattr(sd, name)
        assert value.__module__ == "smtpcheck.distributed", name
        assert len(inspect.getdoc(value) or "") > 20, name


def test_importing_smtpcheck_does_not_import_dask() -> None:
    code = "import sys, smtpcheck, smtpcheck.testing; print(sorted(m for m in sys.modules if m.split('.')[0] in {'dask', 'distributed', 'pandas'}))"  # noqa: E501
    out = subprocess.run(  # noqa: S603 - our own arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_result_columns_are_to_dicts_names_flattened() -> None:
    names = set(smtpcheck.Result(address="a", normalized=None, verdict=smtpcheck.Verdict.UNKNOWN,
                                 reason=smtpcheck.Reason.TIMEOUT).to_dict())  # fmt: skip
    flattened = (names - {"address", "smtp"}) | {"smtp_code", "smtp_enhanced", "smtp_message"}
    assert set(sd.RESULT_COLUMNS) == flattened


def test_an_identity_fills_in_the_policy() -> None:
    identity = WorkerIdentity(
        source_address="127.0.0.1", helo_name="w1.verify.example", mail_from="bounce@example.net"
    )
    policy = identity.fit(Policy(helo_name="all.verify.example"), worker="w1")
    assert (policy.source_address, policy.helo_name) == ("127.0.0.1", "w1.verify.example")
    assert policy.mail_from == "bounce@example.net"
    assert WorkerIdentity().fit(policy) is policy


def test_identities_come_from_the_environment() -> None:
    env = {
        "SMTPCHECK_SOURCE_ADDRESS": "127.0.0.9",
        "SMTPCHECK_HELO_NAME": "w9.verify.example",
        "SMTPCHECK_MAIL_FROM": "",
        "SMTPCHECK_PROXY": "socks5://127.0.0.1:1080",
    }
    identity = WorkerIdentity.from_environment(env)
    assert identity == WorkerIdentity(
        source_address="127.0.0.9", helo_name="w9.verify.example", proxy="socks5://127.0.0.1:1080"
    )
    plugin = WorkerIdentities({"w1": WorkerIdentity(helo_name="w1.verify.example")},
                              choose=lambda name: identity if name == "w9" else None)  # fmt: skip
    assert plugin.identity_for("w1").helo_name == "w1.verify.example"
    assert plugin.identity_for("w9") is identity


@pytest.mark.parametrize(
    ("identity", "why"),
    [
        (WorkerIdentity(helo_name="localhost"), "is not a fully qualified domain name"),
        (WorkerIdentity(helo_name="worker7"), "is not a fully qualified domain name"),
        (WorkerIdentity(source_address="192.0.2.1"), "is not an address of this host"),
        (WorkerIdentity(source_address="not-an-ip"), "is not an IP address"),
        (WorkerIdentity(proxy="http://proxy.example:3128"), "proxy must be a socks5://"),
        (WorkerIdentity(mail_from="no at sign"), "mail_from is not a usable address"),
    ],
)
def test_an_unfit_identity_refuses_and_says_why(identity: WorkerIdentity, why: str) -> None:
    with pytest.raises(UnfitWorker, match=why) as refused:
        identity.fit(Policy(helo_name="ok.verify.example"), worker="w3")
    assert str(refused.value).startswith("worker w3 refuses to verify: ")
    assert isinstance(refused.value, PolicyError)
    again = pickle.loads(pickle.dumps(refused.value))  # noqa: S301 - it travels from a worker
    assert (str(again), again.problems) == (str(refused.value), refused.value.problems)


def test_an_address_literal_helo_only_warns() -> None:
    policy = WorkerIdentity(helo_name="[192.0.2.7]").fit(Policy())
    assert policy.helo_name == "[192.0.2.7]"


def test_a_resolver_travels_as_its_configuration() -> None:
    resolver = smtpcheck.Resolver(nameservers=["127.0.0.1"], port=5353, timeout=2.0)
    copy = pickle.loads(pickle.dumps(resolver))  # noqa: S301 - our own bytes
    assert repr(copy) == repr(resolver)


def test_dasks_local_scheduler_needs_no_cluster(
    world: MailWorld, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    given = ["alice@ok.test", "nobody@ok.test", "alice@s1.test", "bad"]
    frame = dd.from_pandas(pd.DataFrame({"email": given}), npartitions=2)
    lazy = verify_dataframe(frame, column="email", policy=policy, resolver=resolver, fresh=True)
    out = lazy.compute(scheduler="threads").sort_index()
    assert list(out["reason"]) == ["accepted", "mailbox_not_found", "accepted", "invalid_syntax"]
    assert world.stats("mx.ok.test").connections >= 1


def test_the_local_sync_scheduler_works_under_a_running_event_loop(
    resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    frame = dd.from_pandas(pd.DataFrame({"email": ["alice@ok.test", "bad"]}), npartitions=1)
    lazy = verify_dataframe(frame, column="email", policy=policy, resolver=resolver, fresh=True)

    async def notebook() -> pd.DataFrame:  # a cell of a notebook: a loop runs
        return lazy.compute(scheduler="sync")

    out = asyncio.run(notebook()).sort_index()
    assert list(out["reason"]) == ["accepted", "invalid_syntax"]


def test_a_cancelled_wait_for_a_workers_slot_gives_it_back() -> None:
    policy = Policy(host_concurrency=1)
    request = Admit(host="mx.example", ip="192.0.2.1", port=25)
    runs = [WorkerAdmission(policy) for _ in range(3)]  # three partitions of one worker

    async def main() -> None:
        first, second, third = runs
        assert isinstance(await first.admit(request), Admitted)
        waiting = asyncio.create_task(second.admit(request))  # no slot left in the process
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await first.release(Release(request, Lesson()))
        # Had the cancelled wait kept the slot it got, this would never be admitted.
        admitted = await asyncio.wait_for(third.admit(request), timeout=10)
        assert isinstance(admitted, Admitted)
        await third.release(Release(request, Lesson()))

    try:
        asyncio.run(main())
    finally:
        for run in runs:
            run.close()


def test_a_workers_partitions_share_the_back_off_from_a_host() -> None:
    policy = Policy(rate_limit_delay=0.2)
    request = Admit(host="mx.example", ip="192.0.2.2", port=25)
    limited = Lesson(rate_limited=True)
    runs = [WorkerAdmission(policy), WorkerAdmission(policy)]  # two partitions at once

    async def main() -> float:
        first, second = runs
        await first.admit(request)
        await first.release(Release(request, limited))  # the host limited our rate
        admitted = await second.admit(request)  # another partition, its own gates
        assert isinstance(admitted, Admitted)
        await second.release(Release(request, Lesson()))  # a clean session forgives
        return admitted.waited

    try:
        assert asyncio.run(main()) >= 0.15
    finally:
        for run in runs:
            run.close()


def test_bad_arguments_are_policy_errors_that_say_what() -> None:
    frame = dd.from_pandas(
        pd.DataFrame({"email": ["a@b.example"], "verdict": ["x"]}), npartitions=1
    )
    with pytest.raises(PolicyError, match="no column 'mail'"):
        verify_dataframe(frame, column="mail")
    with pytest.raises(PolicyError, match="already has columns named verdict"):
        verify_dataframe(frame, column="email")
    with pytest.raises(PolicyError, match="egress must be 'shared' or 'own'"):
        verify_dataframe(frame[["email"]], column="email", egress="nat")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="an iterable of addresses"):
        sd.verify_many("alice@ok.test")
