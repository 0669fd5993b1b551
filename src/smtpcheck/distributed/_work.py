"""What runs on the workers: partition keys, the resolution step, a partition's verification.

Every function here takes and returns plain pandas objects or picklable values, so that
Dask may run it anywhere and run it again (after a worker died) with the same outcome.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, Literal, TypeVar

import pandas as pd

from smtpcheck._api import memory_or_default, resolver_or_default
from smtpcheck._engine import Engine
from smtpcheck._errors import InvalidAddress
from smtpcheck._mailhosts import DomainStatus
from smtpcheck._policy import Policy
from smtpcheck._resolver import AsyncMailHostResolver
from smtpcheck._result import Result
from smtpcheck._verifier import parse
from smtpcheck.distributed._admission import ClusterAdmission, WorkerAdmission
from smtpcheck.distributed._identity import worker_identity

__all__ = [
    "DOMAIN",
    "HELPERS",
    "INDEX",
    "KEY",
    "RESULT_COLUMNS",
    "Egress",
    "add_domains",
    "resolve_keys",
    "result_frame",
    "verify_results",
    "verify_rows",
]

log = logging.getLogger("smtpcheck")

#: ``"shared"``: the workers share one public IP, so they share the per-host limits.
#: ``"own"``: each worker has an IP of its own and keeps its own limits.
Egress = Literal["shared", "own"]

#: The helper columns a run adds and removes again.
DOMAIN = "_smtpcheck_domain"
KEY = "_smtpcheck_key"
INDEX = "_smtpcheck_index"
HELPERS = (DOMAIN, KEY, INDEX)

#: The result's columns and their dtypes: :meth:`Result.to_dict() <smtpcheck.Result.to_dict>`'s
#: fields less ``address`` (the input's column holds it), with ``smtp`` flattened.
RESULT_COLUMNS: dict[str, str] = {
    "normalized": "string[pyarrow]",
    "verdict": "string[pyarrow]",
    "reason": "string[pyarrow]",
    "mx": "string[pyarrow]",
    "smtp_code": "Int64",
    "smtp_enhanced": "string[pyarrow]",
    "smtp_message": "string[pyarrow]",
    "catch_all": "boolean",
    "elapsed_ms": "int64",
    "detail": "string[pyarrow]",
    "disposable": "bool",
    "role_account": "bool",
    "free_provider": "bool",
    "suggestion": "string[pyarrow]",
    "remembered_at": "Float64",
}

_T = TypeVar("_T")

#: Domains looked up at once by the resolution step of one partition.
_LOOKUPS_AT_ONCE = 32


def _text(value: object) -> str:
    """The address text of a cell: a missing value or a non-string is no address."""
    return value if isinstance(value, str) else ""


def _run(work: Coroutine[Any, Any, _T]) -> _T:
    """Run ``work`` in an event loop of its own, in a thread of its own if this one has one.

    Dask's workers run tasks in threads without a loop; its local "sync" scheduler runs
    them in the caller's thread, which may be a notebook's, with a loop running.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="smtpcheck") as thread:
        return thread.submit(asyncio.run, work).result()


# -- step 1: the domain of every row ----------------------------------------------------


def add_domains(part: pd.DataFrame, *, column: str, policy: Policy) -> pd.DataFrame:
    """The partition with its domain (A-labels; ``""`` for no address) and its index."""
    domains = []
    for value in part[column]:
        parsed = parse(_text(value), policy)
        domains.append("" if isinstance(parsed, InvalidAddress) else parsed.ascii_domain)
    out = part.copy()
    out[DOMAIN] = pd.array(domains, dtype="string[pyarrow]")
    out[INDEX] = part.index
    return out


# -- step 2: each domain's first mail host, once per domain ------------------------------


def resolve_keys(
    domains: pd.DataFrame, *, policy: Policy, resolver: AsyncMailHostResolver | None
) -> pd.DataFrame:
    """The partition key of each domain: its first mail host, or the domain itself.

    ``mx:<host>`` for a domain with mail hosts, ``domain:<domain>`` for one without
    (its verification needs no connection), ``""`` for the rows with no address.
    """
    names = [str(d) for d in domains[DOMAIN]]
    keys = _run(_keys(names, policy, resolver_or_default(resolver))) if names else []
    return pd.DataFrame(
        {
            DOMAIN: pd.array(names, dtype="string[pyarrow]"),
            KEY: pd.array(keys, dtype="string[pyarrow]"),
        },
        index=domains.index,
    )


async def _keys(names: Sequence[str], policy: Policy, resolver: AsyncMailHostResolver) -> list[str]:
    gate = asyncio.Semaphore(_LOOKUPS_AT_ONCE)

    async def key(domain: str) -> str:
        if not domain:
            return ""
        async with gate:
            try:
                found = await resolver.amail_hosts(
                    domain,
                    lifetime=policy.dns_timeout,
                    prefer_ipv6=policy.prefer_ipv6,
                    max_hosts=1,
                )
            except Exception as error:  # noqa: BLE001 - the verification will say it
                log.debug("resolution step: %s: %s", domain, error)
                return f"domain:{domain}"
        if found.status is DomainStatus.OK and found.hosts:
            return f"mx:{found.hosts[0].name}"
        return f"domain:{domain}"

    return list(await asyncio.gather(*(key(name) for name in names)))


# -- step 3: verify a partition ---------------------------------------------------------


def _verify(
    texts: Sequence[str],
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    egress: Egress,
    fresh: bool,
) -> list[Result]:
    """One result per text, in the texts' order: the bulk engine, as this worker."""
    identity, worker, refusal = worker_identity()
    if refusal is not None:
        raise refusal
    effective = identity.fit(policy, worker=worker)
    found: dict[str, list[Result]] = {}
    work = _engine(texts, effective, resolver_or_default(resolver), egress, fresh)
    for result in _run(work):
        found.setdefault(result.address, []).append(result)
    return [found[text].pop() for text in texts]


def _admission(policy: Policy, egress: Egress) -> ClusterAdmission | WorkerAdmission:
    """The egress mode's admission; one process's slots outside a distributed cluster."""
    if egress == "shared" and _on_a_cluster():
        return ClusterAdmission(policy)
    return WorkerAdmission(policy)  # egress of its own, or one process (dask's local schedulers)


def _on_a_cluster() -> bool:
    from distributed import get_client, get_worker  # noqa: PLC0415 - cheap, inside a task

    for find in (get_worker, get_client):
        try:
            find()
        except ValueError:
            continue
        return True
    return False


async def _engine(
    texts: Sequence[str],
    policy: Policy,
    resolver: AsyncMailHostResolver,
    egress: Egress,
    fresh: bool,
) -> list[Result]:
    """Run smtpcheck's bulk engine with the egress mode's admission."""
    admission = _admission(policy, egress)
    results: list[Result] = []

    def emit(result: Result) -> None:
        results.append(result)
        engine.release()  # taken at once: the window stays open

    # What the worker process learned (hosts that refused us, catch-all domains, definite
    # results) is shared by its partitions, as by the runs of one process.
    engine = Engine(
        policy, resolver, emit, admission=admission, memory=memory_or_default(None), fresh=fresh
    )
    try:
        await engine.run(texts)
    finally:
        admission.close()
    return results


def _flat(result: Result) -> dict[str, Any]:
    row = result.to_dict()
    smtp = row.pop("smtp") or {}
    del row["address"]
    row["smtp_code"] = smtp.get("code")
    row["smtp_enhanced"] = smtp.get("enhanced")
    row["smtp_message"] = smtp.get("message")
    return row


def result_frame(results: Iterable[Result], index: pd.Index) -> pd.DataFrame:
    """The result columns of ``results``, with their exact dtypes."""
    rows = [_flat(r) for r in results]
    return pd.DataFrame(
        {
            name: pd.array([row[name] for row in rows], dtype=dtype)
            for name, dtype in RESULT_COLUMNS.items()
        },
        index=index,
    )


def verify_rows(
    part: pd.DataFrame,
    *,
    column: str,
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    egress: Egress,
    fresh: bool,
    index_name: Any,
    index_dtype: Any,
) -> pd.DataFrame:
    """The partition's own columns and its results' columns, under its original index."""
    texts = [_text(v) for v in part[column]]
    results = _verify(texts, policy, resolver, egress, fresh) if texts else []
    index = pd.Index(part[INDEX].to_numpy(), name=index_name).astype(index_dtype)
    own = part.drop(columns=[c for c in HELPERS if c in part.columns])
    own.index = index
    return pd.concat([own, result_frame(results, index)], axis=1)


def verify_results(
    part: pd.DataFrame,
    *,
    column: str,
    policy: Policy,
    resolver: AsyncMailHostResolver | None,
    egress: Egress,
    fresh: bool,
) -> list[Result]:
    """The partition's :class:`~smtpcheck.Result` objects (for the streaming form)."""
    texts = [_text(v) for v in part[column]]
    return _verify(texts, policy, resolver, egress, fresh) if texts else []
