"""What both drivers share: TLS contexts, the default HELO name, error sentences."""

from __future__ import annotations

import functools
import socket
import ssl

from smtpcheck._resolver import DomainStatus, MailHosts


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
