"""smtpcheck.distributed on a LocalCluster of 2 worker processes, against the mail world."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client

import smtpcheck
from cluster_world import HOST_LIMIT, NOWHERE, OWN, PER_IP, SHARED
from smtpcheck import Policy, Reason, Result
from smtpcheck.distributed import (
    RESULT_COLUMNS,
    PartitionBy,
    UnfitWorker,
    WorkerIdentities,
    WorkerIdentity,
    verify_dataframe,
    verify_many,
)
from smtpcheck.testing import MailWorld

LOCALS = ("alice", "bob", "nobody")


def addresses(domains: tuple[str, ...]) -> list[str]:
    return [f"{local}@{domain}" for domain in domains for local in LOCALS]


def mixed() -> list[str]:
    given = addresses(OWN + SHARED + NOWHERE)
    return [*given, "alice@ok.test", "ALICE@ok.test", "not an address", "@x", ""]


def local(given: list[str], policy: Policy, resolver: smtpcheck.Resolver) -> list[Result]:
    """What smtpcheck.verify_many answers in this process, asking the servers again."""
    return list(smtpcheck.verify_many(given, policy=policy, resolver=resolver, fresh=True))


def comparable(result: Result) -> dict[str, Any]:
    row = result.to_dict()
    del row["elapsed_ms"], row["remembered_at"]
    return row


def row_as_dict(row: pd.Series) -> dict[str, Any]:
    """A result row in the form of Result.to_dict() (smtp folded back, NA as None)."""

    def plain(value: Any) -> Any:
        return None if value is pd.NA else value

    code = plain(row["smtp_code"])
    return {
        "address": row["email"],
        "normalized": plain(row["normalized"]),
        "verdict": row["verdict"],
        "reason": row["reason"],
        "mx": plain(row["mx"]),
        "smtp": None
        if code is None
        else {
            "code": int(code),
            "enhanced": plain(row["smtp_enhanced"]),
            "message": plain(row["smtp_message"]),
        },
        "catch_all": plain(row["catch_all"]),
        "detail": plain(row["detail"]),
        "disposable": bool(row["disposable"]),
        "role_account": bool(row["role_account"]),
        "free_provider": bool(row["free_provider"]),
        "suggestion": plain(row["suggestion"]),
    }


def by_address(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["address"], str(r)))


def test_dataframe_equals_verify_many_exactly_once(
    client: Client, world: MailWorld, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    given = mixed()
    expected = by_address(
        [
            comparable(r)
            for r in smtpcheck.verify_many(given, policy=policy, resolver=resolver, fresh=True)
        ]
    )
    frame = pd.DataFrame(
        {"email": given, "row": range(len(given))}, index=range(100, 100 + len(given))
    )
    lazy = verify_dataframe(
        dd.from_pandas(frame, npartitions=3),
        column="email",
        policy=policy,
        resolver=resolver,
        fresh=True,
    )
    out = lazy.compute()
    # Exactly once: every row, under its own index, with its own columns.
    assert sorted(out["row"]) == list(range(len(given)))
    assert sorted(out.index) == list(frame.index)
    assert (out.sort_index()["email"] == frame["email"]).all()
    got = by_address([row_as_dict(row) for _, row in out.iterrows()])
    assert got == expected
    world.check()


def test_meta_is_exact_and_rows_carry_plain_values(
    client: Client, tmp_path: Path, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    frame = pd.DataFrame({"email": [*addresses(("ok.test", "nxdomain.test")), None, "bad"]})
    frame["email"] = frame["email"].astype("string[pyarrow]")
    lazy = verify_dataframe(dd.from_pandas(frame, npartitions=2), column="email",
                            policy=policy, resolver=resolver)  # fmt: skip
    out = lazy.compute()
    assert list(lazy.columns) == ["email", *RESULT_COLUMNS]
    assert out.dtypes.equals(lazy.dtypes)
    assert out.index.dtype == frame.index.dtype
    for name, dtype in RESULT_COLUMNS.items():
        assert str(out[name].dtype) == str(pd.api.types.pandas_dtype(dtype)), name
    plain = (str, int, float, bool)
    for value in out.drop(columns="email").to_numpy().ravel():
        assert value is pd.NA or isinstance(value, plain) or hasattr(value, "item"), value
    lazy.to_parquet(tmp_path / "out")
    back = pd.read_parquet(tmp_path / "out")
    assert len(back) == len(frame)
    missing = out[out["email"].isna()]
    assert list(missing["reason"]) == ["invalid_syntax"]


def test_streaming_form_from_a_list_and_from_a_bag(
    client: Client, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    given = mixed()
    expected = by_address(
        [
            comparable(r)
            for r in smtpcheck.verify_many(given, policy=policy, resolver=resolver, fresh=True)
        ]
    )
    streamed = list(verify_many(given, client=client, policy=policy, resolver=resolver, fresh=True))
    assert all(isinstance(r, Result) for r in streamed)
    assert by_address([comparable(r) for r in streamed]) == expected
    bag = db.from_sequence(given, npartitions=4)
    from_bag = list(verify_many(bag, client=client, policy=policy, resolver=resolver, fresh=True))
    assert by_address([comparable(r) for r in from_bag]) == expected


@pytest.mark.parametrize("partition_by", ["mail_host", "domain"])
def test_shared_egress_never_exceeds_the_host_limit_across_the_cluster(
    client: Client,
    world: MailWorld,
    resolver: smtpcheck.Resolver,
    policy: Policy,
    partition_by: PartitionBy,
) -> None:
    # 72 addresses of 8 domains, all on mx.shared.test. By domain, both workers (two
    # threads each) ask the one host at once: only the cluster's semaphore holds them.
    world.reset()
    given = addresses(SHARED) * 3
    results = list(
        verify_many(
            given,
            client=client,
            policy=policy,
            resolver=resolver,
            egress="shared",
            partition_by=partition_by,
            npartitions=8,
            fresh=True,
        )
    )
    assert Counter(r.address for r in results) == Counter(given)
    assert {r.reason for r in results} == {Reason.ACCEPTED, Reason.MAILBOX_NOT_FOUND}
    stats = world.stats("mx.shared.test")
    assert stats.connections >= len(SHARED)
    assert stats.peak <= HOST_LIMIT


def test_each_worker_verifies_with_its_own_identity(
    client: Client, world: MailWorld, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    identities = {
        0: WorkerIdentity(source_address="127.0.0.201", helo_name="w0.cluster.test"),
        1: WorkerIdentity(source_address="127.0.0.202", helo_name="w1.cluster.test"),
    }
    client.register_plugin(WorkerIdentities(identities, policy=policy))
    world.reset()
    given = addresses(PER_IP) * 2
    results = list(
        verify_many(
            given,
            client=client,
            policy=policy.replace(transcript=True),
            resolver=resolver,
            egress="own",
            npartitions=8,
            fresh=True,
        )
    )
    assert Counter(r.address for r in results) == Counter(given)
    # mx.perip.test allows 2 connections per client IP: no worker was refused.
    assert {r.reason for r in results} == {Reason.ACCEPTED, Reason.MAILBOX_NOT_FOUND}
    pairs = set()
    for result in results:
        lines = [line.text for line in result.transcript]
        helo = next(text.split()[1] for text in lines if text.startswith("EHLO"))
        seen = next(text for text in lines if "at your service" in text)
        pairs.add((helo, seen.rsplit("[", 1)[1].rstrip("]")))
    # Each worker greets with its own name from its own address, and both did work.
    assert pairs == {("w0.cluster.test", "127.0.0.201"), ("w1.cluster.test", "127.0.0.202")}


def test_an_unfit_worker_refuses_and_says_why(
    client: Client, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    unfit = {
        0: WorkerIdentity(helo_name="localhost"),
        1: WorkerIdentity(helo_name="w1.cluster.test"),
    }
    with pytest.raises(UnfitWorker, match="HELO name localhost is not a fully qualified"):
        client.register_plugin(WorkerIdentities(unfit, policy=policy))
    # The worker keeps refusing work, whatever the run's policy says.
    with pytest.raises(UnfitWorker, match="worker 0 refuses to verify"):
        list(verify_many(addresses(OWN) * 4, client=client, policy=policy, resolver=resolver,
                         egress="own", npartitions=8))  # fmt: skip
    elsewhere = {0: WorkerIdentity(source_address="192.0.2.1"), 1: WorkerIdentity()}
    with pytest.raises(UnfitWorker, match=r"source address 192\.0\.2\.1 is not an address"):
        client.register_plugin(WorkerIdentities(elsewhere, policy=policy))


def test_one_mail_host_is_asked_from_one_partition(
    client: Client, resolver: smtpcheck.Resolver, policy: Policy
) -> None:
    given = addresses(SHARED + OWN)
    frame = dd.from_pandas(pd.DataFrame({"email": given}), npartitions=4)
    lazy = verify_dataframe(
        frame, column="email", policy=policy, resolver=resolver, npartitions=4, fresh=True
    )
    parts = [part.compute() for part in lazy.partitions]
    homes = Counter(mx for part in parts for mx in set(part["mx"].dropna()))
    assert homes["mx.shared.test"] == 1  # its 8 domains, wherever they were in the input
    assert sum(len(part) for part in parts) == len(given)
