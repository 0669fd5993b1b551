"""The client side: :func:`verify_dataframe`, the streaming :func:`verify_many`, :func:`connect`.

Both build the same graph:

1. each row's domain (and its index, carried as a column through the shuffles);
2. the resolution step, once per distinct domain: its first mail host becomes the
   partition key (with ``egress="own"`` the domain itself is the key, and there is no
   such step);
3. a shuffle on the key, so that every address of a mail host lands in one partition;
4. per partition, smtpcheck's bulk engine, with the worker's own identity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import dask
import dask.bag as db
import dask.dataframe as dd
import pandas as pd
from distributed import Client, Future, as_completed, get_client

from smtpcheck._address import Address
from smtpcheck._errors import PolicyError, SMTPCheckError
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Result
from smtpcheck.distributed._work import (
    DOMAIN,
    HELPERS,
    KEY,
    RESULT_COLUMNS,
    Egress,
    add_domains,
    resolve_keys,
    verify_results,
    verify_rows,
)

__all__ = ["PartitionBy", "SchedulerUnreachable", "connect", "verify_dataframe", "verify_many"]

#: ``"mail_host"``: the addresses of one mail host in one partition (the domain's first
#: MX, looked up once per domain). ``"domain"``: the addresses of one domain.
PartitionBy = Literal["mail_host", "domain"]

_STREAM_COLUMN = "address"
_DEFAULT_CONNECT_TIMEOUT = 5.0
#: Partitions per worker of the streaming form, when not given.
_PARTITIONS_PER_WORKER = 4


class SchedulerUnreachable(SMTPCheckError, ConnectionError):  # noqa: N818 - says what happened
    """The Dask scheduler could not be reached in time."""


def connect(address: str, *, timeout: float = _DEFAULT_CONNECT_TIMEOUT) -> Client:
    """A :class:`distributed.Client` of the scheduler at ``address``, or a clear error.

    Args:
        address: The scheduler's address, such as ``"tcp://scheduler:8786"``.
        timeout: Seconds to wait for it.

    Returns:
        The connected client (close it when done).

    Raises:
        SchedulerUnreachable: Nothing answered at ``address`` within ``timeout``.
    """
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {error}"
        ) from None


def _policy_for(policy: Policy | None) -> Policy:
    return policy if policy is not None else Policy()


def _partition_by(egress: Egress, partition_by: PartitionBy | None) -> PartitionBy:
    if egress not in ("shared", "own"):
        raise PolicyError(f"egress must be 'shared' or 'own', not {egress!r}")
    if partition_by is None:
        return "mail_host" if egress == "shared" else "domain"
    if partition_by not in ("mail_host", "domain"):
        raise PolicyError(f"partition_by must be 'mail_host' or 'domain', not {partition_by!r}")
    return partition_by


def _meta(df: dd.DataFrame | dd.Series) -> Any:
    """The empty pandas object that describes ``df`` (dask's ``_meta``)."""
    return df._meta  # noqa: SLF001 - dask's documented way to its metadata


def _partitioned(
    df: dd.DataFrame,
    *,
    column: str,
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    by: PartitionBy,
    npartitions: int | None,
) -> dd.DataFrame:
    """Steps 1 to 3: the rows with their key, shuffled so that one key is in one place."""
    if column not in df.columns:
        raise PolicyError(f"the DataFrame has no column {column!r}")
    taken = sorted((set(RESULT_COLUMNS) | set(HELPERS)) & {str(c) for c in df.columns})
    if taken:
        raise PolicyError(
            f"the DataFrame already has columns named {', '.join(taken)}: rename them first"
        )
    keyed = df.map_partitions(
        add_domains,
        column=column,
        policy=policy,
        meta=add_domains(_meta(df), column=column, policy=policy),
    )
    if by == "mail_host":
        domains = keyed[[DOMAIN]].drop_duplicates()
        keys = domains.map_partitions(
            resolve_keys,
            policy=policy,
            resolver=resolver,
            meta=resolve_keys(_meta(domains), policy=policy, resolver=resolver),
        )
        keyed = keyed.merge(keys, on=DOMAIN, how="left")
    else:
        keyed = keyed.assign(**{KEY: keyed[DOMAIN]})
    return keyed.shuffle(on=KEY, npartitions=npartitions or df.npartitions)


def verify_dataframe(
    df: dd.DataFrame,
    /,
    *,
    column: str = "email",
    policy: Policy | None = None,
    resolver: AsyncMailHostResolver | None = None,
    egress: Egress = "shared",
    partition_by: PartitionBy | None = None,
    npartitions: int | None = None,
    fresh: bool = False,
) -> dd.DataFrame:
    """Verify the addresses of a Dask DataFrame's column on the cluster; lazily.

    The result has the input's columns and the result's (:data:`RESULT_COLUMNS`: the
    names of :meth:`Result.to_dict() <smtpcheck.Result.to_dict>` with ``smtp``
    flattened into ``smtp_code``, ``smtp_enhanced`` and ``smtp_message``), one row per
    input row, under the input's index; its ``meta`` is exact. The rows come grouped by
    mail host, not in the input's order. Nothing runs until it is computed
    (``.to_parquet()``, ``.compute()``).

    The addresses of one mail host are verified in one partition (sessions shared, the
    catch-all probe asked once per domain); each worker verifies with its own identity
    (:class:`WorkerIdentities`, or its ``SMTPCHECK_*`` environment) and refuses the work
    (:class:`UnfitWorker`) when it is unfit.

    Args:
        df: The input.
        column: The column holding the addresses; a missing value or a non-string is
            answered ``invalid_syntax``.
        policy: What to do; the default :class:`~smtpcheck.Policy` when None. Each
            worker puts its identity in it.
        resolver: Where to look up mail hosts, pickled to the workers (a
            :class:`~smtpcheck.Resolver` travels as its configuration); each worker's
            system DNS when None.
        egress: ``"shared"`` when the workers share one public IP (one host, a NAT):
            their limits per mail host are shared. ``"own"`` when each worker has an IP
            of its own: each keeps its own limits.
        partition_by: ``"mail_host"`` (the default with shared egress) or ``"domain"``
            (the default with egress of their own).
        npartitions: Partitions after the shuffle; the input's number when None.
        fresh: Ask the servers even for addresses whose definite result a worker
            remembers (each worker remembers in its process, as
            :func:`smtpcheck.verify_many` does without ``memory``).

    Returns:
        The lazy DataFrame of the results.

    Raises:
        PolicyError: ``column`` is not a column of ``df``, ``df`` already has a column of
            the result's names, or an argument is out of range.
    """
    policy = _policy_for(policy)
    by = _partition_by(egress, partition_by)
    shuffled = _partitioned(
        df, column=column, policy=policy, resolver=resolver, by=by, npartitions=npartitions
    )
    index = _meta(df).index
    options = {
        "column": column,
        "policy": policy,
        "resolver": resolver,
        "egress": egress,
        "fresh": fresh,
        "index_name": index.name,
        "index_dtype": index.dtype,
    }
    meta = verify_rows(_meta(shuffled), **options)
    return shuffled.map_partitions(verify_rows, **options, meta=meta)


def _given(item: str | Address) -> str:
    return item.normalized if isinstance(item, Address) else item


def verify_many(
    addresses: Iterable[str | Address] | db.Bag,
    /,
    *,
    client: Client | str | None = None,
    policy: Policy | None = None,
    resolver: AsyncMailHostResolver | None = None,
    egress: Egress = "shared",
    partition_by: PartitionBy | None = None,
    npartitions: int | None = None,
    fresh: bool = False,
    connect_timeout: float = _DEFAULT_CONNECT_TIMEOUT,
) -> Iterator[Result]:
    """Verify many addresses on a Dask cluster; yield each :class:`~smtpcheck.Result`.

    The cluster twin of :func:`smtpcheck.verify_many`, on the partitioning of
    :func:`verify_dataframe`: results come a partition at a time, as partitions
    complete. Every input gets exactly one result, duplicates included. A plain
    iterable is read on this machine (a few dozen bytes per address); a Dask Bag stays
    on the cluster.

    Args:
        addresses: The addresses, or a Dask Bag of them.
        client: The Dask client, a scheduler address to connect to (the client is
            closed at the end), or None for the current default client.
        policy: What to do; see :func:`verify_dataframe`.
        resolver: Where to look up mail hosts; see :func:`verify_dataframe`.
        egress: ``"shared"`` or ``"own"``; see :func:`verify_dataframe`.
        partition_by: ``"mail_host"`` or ``"domain"``; see :func:`verify_dataframe`.
        npartitions: Partitions of the work; four per worker when None.
        fresh: Ask again even for remembered definite results; see
            :func:`verify_dataframe`.
        connect_timeout: Seconds to wait for a scheduler given by its address.

    Returns:
        An iterator of results, one per input. Closing it early cancels the rest.

    Raises:
        SchedulerUnreachable: The scheduler at ``client`` did not answer in time (at
            once, not on the first result).
        PolicyError: ``client`` is None and there is no default client, or
            ``addresses`` is a single string.
    """
    if isinstance(addresses, str | bytes | Address):
        raise PolicyError("verify_many takes an iterable of addresses; for one, use verify()")
    policy = _policy_for(policy)
    by = _partition_by(egress, partition_by)
    owned = isinstance(client, str)
    live = _client(client, connect_timeout)
    try:
        workers = max(1, len(live.scheduler_info().get("workers", {})))
        wanted = npartitions or workers * _PARTITIONS_PER_WORKER
        meta = pd.DataFrame({_STREAM_COLUMN: pd.Series(dtype="string[pyarrow]")})
        if isinstance(addresses, db.Bag):
            frame = addresses.map(lambda a: {_STREAM_COLUMN: _given(a)}).to_dataframe(meta=meta)
        else:
            texts = [_given(a) for a in addresses]
            if not texts:
                if owned:
                    live.close()
                return iter(())
            count = max(1, min(wanted, math.ceil(len(texts) / 100) or 1))
            frame = dd.from_pandas(
                pd.DataFrame({_STREAM_COLUMN: pd.array(texts, dtype="string[pyarrow]")}),
                npartitions=count,
            )
        shuffled = _partitioned(
            frame,
            column=_STREAM_COLUMN,
            policy=policy,
            resolver=resolver,
            by=by,
            npartitions=wanted,
        )
        tasks = [
            dask.delayed(verify_results)(
                part,
                column=_STREAM_COLUMN,
                policy=policy,
                resolver=resolver,
                egress=egress,
                fresh=fresh,
            )
            for part in shuffled.to_delayed()
        ]
        futures: list[Future] = live.compute(tasks)
    except BaseException:
        if owned:
            live.close()
        raise
    return _stream(live, futures, owned=owned)


def _client(client: Client | str | None, timeout: float) -> Client:
    if isinstance(client, str):
        return connect(client, timeout=timeout)
    if client is not None:
        return client
    try:
        found: Client = get_client()
    except ValueError:
        raise PolicyError(
            "no Dask client: pass client= (a Client or a scheduler address), "
            "or create a distributed.Client first"
        ) from None
    return found


def _stream(client: Client, futures: list[Any], *, owned: bool) -> Iterator[Result]:
    try:
        for future in as_completed(futures, loop=client.loop):
            yield from future.result()
            future.release()
    finally:
        client.cancel([f for f in futures if not f.done()])
        if owned:
            client.close()
