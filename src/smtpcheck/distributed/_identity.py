"""Who a worker is to the mail servers: its source address, HELO name, MAIL FROM, proxy.

A mail server judges each client on its own IP, name and sender, so on a cluster these
come from the worker, not from one :class:`~smtpcheck.Policy` for all:
:class:`WorkerIdentity` says them, read from the worker's environment
(``SMTPCHECK_SOURCE_ADDRESS``, ``SMTPCHECK_HELO_NAME``, ``SMTPCHECK_MAIL_FROM``,
``SMTPCHECK_PROXY``) or handed out by the :class:`WorkerIdentities` plugin. A worker
whose identity is unfit refuses the work with :class:`UnfitWorker`, saying why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from distributed import WorkerPlugin

from smtpcheck._doctor._audit import check_source_address
from smtpcheck._doctor._checks import check_helo_form
from smtpcheck._doctor._report import Check, CheckStatus
from smtpcheck._drivers import helo_name
from smtpcheck._errors import PolicyError
from smtpcheck._policy import Policy

__all__ = ["PLUGIN_NAME", "UnfitWorker", "WorkerIdentities", "WorkerIdentity", "worker_identity"]

#: The name the plugin is registered under on each worker.
PLUGIN_NAME = "smtpcheck-identity"

_ENVIRONMENT = {
    "source_address": "SMTPCHECK_SOURCE_ADDRESS",
    "helo_name": "SMTPCHECK_HELO_NAME",
    "mail_from": "SMTPCHECK_MAIL_FROM",
    "proxy": "SMTPCHECK_PROXY",
}


class UnfitWorker(PolicyError):  # noqa: N818 - says what the worker is
    """A worker's identity is unfit to verify from: it refuses the work.

    Attributes:
        worker: The worker's name (or address), or None outside a worker.
        problems: The failed checks, one sentence each with its fix.
    """

    def __init__(self, worker: str | None, problems: tuple[str, ...]) -> None:
        where = f"worker {worker}" if worker else "this process"
        super().__init__(f"{where} refuses to verify: " + " ".join(problems))
        self.worker = worker
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.worker, self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerIdentity:
    """How one worker presents itself to mail servers; None keeps the policy's value.

    Attributes:
        source_address: The local IP address to connect from (one of the worker's own).
        helo_name: The name given in EHLO: the PTR name of the worker's public IP.
        mail_from: The reverse-path of MAIL FROM.
        proxy: A SOCKS proxy URL to connect through.

    Example:
        >>> from smtpcheck import Policy
        >>> identity = WorkerIdentity(helo_name="w1.verify.example", source_address="127.0.0.2")
        >>> identity.apply(Policy()).helo_name
        'w1.verify.example'
    """

    source_address: str | None = None
    helo_name: str | None = None
    mail_from: str | None = None
    proxy: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkerIdentity:
        """The identity the ``SMTPCHECK_*`` environment variables give (empty: unset).

        Example:
            >>> env = {"SMTPCHECK_HELO_NAME": "w2.verify.example", "SMTPCHECK_PROXY": ""}
            >>> WorkerIdentity.from_environment(env).helo_name
            'w2.verify.example'
        """
        source = os.environ if environ is None else environ
        values = {name: source.get(variable) or None for name, variable in _ENVIRONMENT.items()}
        return cls(**values)

    def apply(self, policy: Policy) -> Policy:
        """The policy with this identity's values in place of its own.

        Raises:
            PolicyError: A value is one no policy accepts (a proxy that is not SOCKS, a
                MAIL FROM that is not an address).
        """
        changes = {
            name: value
            for name in _ENVIRONMENT
            if (value := getattr(self, name)) is not None and value != getattr(policy, name)
        }
        return policy.replace(**changes) if changes else policy

    def checks(self, policy: Policy) -> tuple[Check, ...]:
        """The doctor's checks that need no network, for the policy this identity makes.

        The HELO name's form (a name that is not fully qualified fails) and, when set,
        whether the source address is one of this host's.
        """
        effective = self.apply(policy)
        found: list[Check] = []
        form = check_helo_form(helo_name(effective.helo_name))
        if form is not None:
            found.append(form)
        if effective.source_address is not None:
            found.append(check_source_address(effective.source_address))
        return tuple(found)

    def fit(self, policy: Policy, *, worker: str | None = None) -> Policy:
        """The policy to verify with, after checking that this identity is fit for it.

        Raises:
            UnfitWorker: A check failed, or the identity makes an invalid policy.
        """
        try:
            checks = self.checks(policy)
            effective = self.apply(policy)
        except PolicyError as error:
            raise UnfitWorker(worker, (f"{error}.",)) from None
        failed = tuple(
            f"{check.summary} {check.fix or ''}".strip()
            for check in checks
            if check.status is CheckStatus.FAIL
        )
        if failed:
            raise UnfitWorker(worker, failed)
        return effective


@dataclass(eq=False)
class WorkerIdentities(WorkerPlugin):  # type: ignore[misc] # distributed is untyped
    """A worker plugin that gives each worker its identity, checked when it starts.

    Register it once (``client.register_plugin(WorkerIdentities({...}))``); each worker
    then takes the identity listed under its name (``dask worker --name w1``; a
    ``LocalCluster`` names its workers 0, 1, ...), or what ``choose`` returns for its
    name, else the one its environment gives (:meth:`WorkerIdentity.from_environment`).
    A worker whose identity fails a check raises :class:`UnfitWorker` from its set-up,
    so registering the plugin fails with the reason; one registered at start refuses
    every task instead.

    Args:
        identities: Identities by worker name.
        choose: Picks an identity from a worker's name (None: not listed).
        policy: The policy the checks are made for (its HELO name when the identity has
            none); the default :class:`~smtpcheck.Policy` when None.

    Example:
        >>> plugin = WorkerIdentities({"w1": WorkerIdentity(helo_name="w1.verify.example")})
        >>> plugin.identity_for("w1").helo_name
        'w1.verify.example'
    """

    identities: Mapping[str | int, WorkerIdentity] = field(default_factory=dict)
    choose: Callable[[str], WorkerIdentity | None] | None = None
    policy: Policy | None = None
    #: The identity this worker took (set on the worker by :meth:`setup`).
    identity: WorkerIdentity | None = None
    #: Why this worker refuses work, when it does (set by :meth:`setup`).
    refusal: UnfitWorker | None = None
    name: str = PLUGIN_NAME

    def identity_for(self, worker_name: str) -> WorkerIdentity:
        """The identity of the worker called ``worker_name``."""
        for key, identity in self.identities.items():
            if str(key) == worker_name:
                return identity
        if self.choose is not None and (chosen := self.choose(worker_name)) is not None:
            return chosen
        return WorkerIdentity.from_environment()

    def setup(self, worker: Any) -> None:
        """Take this worker's identity and check it.

        Raises:
            UnfitWorker: The identity is unfit for the policy.
        """
        name = str(worker.name)
        self.identity = self.identity_for(name)
        try:
            self.identity.fit(self.policy or Policy(), worker=name)
        except UnfitWorker as refusal:
            self.refusal = refusal
            raise


def worker_identity() -> tuple[WorkerIdentity, str | None, UnfitWorker | None]:
    """This worker's identity, its name, and its refusal (when its set-up refused).

    Outside a worker (Dask's local schedulers), the environment's identity.
    """
    from distributed import get_worker  # noqa: PLC0415 - cheap; only inside tasks

    try:
        worker = get_worker()
    except ValueError:
        return WorkerIdentity.from_environment(), None, None
    plugin = worker.plugins.get(PLUGIN_NAME)
    if isinstance(plugin, WorkerIdentities) and plugin.identity is not None:
        return plugin.identity, str(worker.name), plugin.refusal
    return WorkerIdentity.from_environment(), str(worker.name), None
