"""What both drivers share: TLS contexts, the default HELO name, the error table.

The table (:func:`failed`) turns an exception raised while carrying out an action into
its failed outcome, the same way for the blocking and the asyncio driver.
"""

from __future__ import annotations

import errno
import functools
import logging
import socket
import ssl
from typing import Literal

from smtpcheck._mailhosts import DomainStatus, MailHosts
from smtpcheck._probe import Failed, FailureKind

_log = logging.getLogger("smtpcheck")

#: The kind of action an exception interrupted.
Step = Literal["connect", "tls", "io"]

_TIMED_OUT: dict[Step, str] = {
    "connect": "no connection in time",
    "tls": "the TLS handshake did not finish in time",
    "io": "no reply in time",
}


class ProxyUnavailableError(ConnectionError):
    """A proxy is configured and python-socks is not installed."""


def failed(exc: Exception, step: Step) -> Failed:
    """The failed outcome for an exception raised while carrying out an action.

    The one table both drivers use. An exception that is not the network's, the proxy's
    or the server's doing is a bug of ours: it is raised again, so that it reaches the
    top of the verification, is logged with its traceback, and the result says
    ``internal_error`` instead of blaming the server.
    """
    outcome = _table(exc, step)
    if outcome is None:
        raise exc
    _log.debug("%s failed: %s", step, outcome.message, exc_info=exc)
    return outcome


def _table(exc: Exception, step: Step) -> Failed | None:
    if isinstance(exc, ProxyUnavailableError):
        return Failed(FailureKind.CONNECT, str(exc))
    if type(exc).__module__.split(".")[0] == "python_socks":
        return Failed(FailureKind.CONNECT, proxy_error(exc))
    if isinstance(exc, TimeoutError):
        kind = FailureKind.CONNECT if step == "connect" else FailureKind.TIMEOUT
        return Failed(kind, _TIMED_OUT[step], errno.ETIMEDOUT)
    if isinstance(exc, ssl.SSLError):
        return Failed(FailureKind.TLS, f"TLS failed: {exc.reason or exc}")
    if isinstance(exc, OSError):
        kind = FailureKind.CONNECT if step == "connect" else FailureKind.IO
        return Failed(kind, describe_os_error(exc), exc.errno)
    return None


@functools.lru_cache(maxsize=16)
def client_context(*, verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """A client context: verifying the certificate and host name, or accepting any.

    Port-25 delivery encrypts opportunistically and accepts any certificate, as MTAs do
    (RFC 7435); a verifying context is used where TLS is required or implicit.
    """
    if verify:
        context = ssl.create_default_context(cafile=ca_file)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def describe_os_error(exc: OSError) -> str:
    """A short sentence for a socket error: ``'Connection refused (errno 111)'``."""
    if exc.strerror:
        return f"{exc.strerror} (errno {exc.errno})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def resolver_failure(domain: str, exc: Exception) -> MailHosts:
    """The answer for a resolver that raised instead of answering: a DNS failure."""
    _log.warning("the resolver failed for %s", domain, exc_info=exc)
    return MailHosts(
        domain=domain,
        status=DomainStatus.DNS_FAILURE,
        detail=f"the resolver failed: {type(exc).__name__}: {exc}",
    )


@functools.cache
def default_helo_name() -> str | None:
    """This machine's fully qualified domain name, or None when it has none.

    None makes the conversation use an address literal (``[192.0.2.7]``), which RFC 5321
    §4.1.4 allows when there is no name. A bare host name (``myhost``) or a ``localhost``
    name is not fully qualified: servers that check HELO names refuse them, and worse
    names are never made up (a peer that calls itself ``gmail.com`` gets its IP listed).
    Computed once per process: it may ask DNS.
    """
    name = socket.getfqdn().rstrip(".").lower()
    if "." not in name or name.startswith("localhost") or name.endswith((".localdomain", ".local")):
        return None
    return name


def helo_name(configured: str | None) -> str | None:
    """The configured HELO name, else this machine's (see :func:`default_helo_name`)."""
    return configured if configured else default_helo_name()


PROXY_MISSING = "a proxy needs python-socks: pip install 'smtpcheck[socks]'"


def proxy_error(exc: Exception) -> str:
    """A sentence for a proxy's failure: it could not reach the proxy, or the target."""
    return f"through the proxy: {exc}"
