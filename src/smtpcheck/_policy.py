"""How a verification behaves: ports, TLS, identity, timeouts, probing.

A :class:`Policy` is a frozen value, validated when it is built, shared freely between
threads and tasks. It says *what* to do; the drivers do it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from smtpcheck._address import parse_address
from smtpcheck._enrich import AddressList
from smtpcheck._errors import InvalidAddress, LocalProtocolError, PolicyError
from smtpcheck._memory import Lifetimes
from smtpcheck.protocol import Ehlo, Helo

__all__ = ["Policy", "TLSMode"]

#: ``"opportunistic"``: STARTTLS when offered, plaintext otherwise, certificates not
#: checked (as MTAs deliver on port 25). ``"required"``: STARTTLS must succeed, with a
#: verified certificate by default. ``"off"``: never start TLS.
TLSMode = Literal["opportunistic", "required", "off"]

_TLS_MODES = ("opportunistic", "required", "off")
_NOBODY = AddressList()
_REMEMBER = Lifetimes()
_PROXY_SCHEMES = ("socks5://", "socks5h://", "socks4://", "socks4a://")


def _check_timeout(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{name} must be a number of seconds or None, not {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise PolicyError(f"{name} must be a positive number of seconds, not {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """What a verification does and how long it may take.

    Every duration is in seconds; ``None`` means no limit.

    Attributes:
        port: The TCP port of the mail hosts: 25 for delivery to a domain's MX (the
            default), 587 for a submission server, 465 for implicit TLS.
        tls: The TLS mode (see :data:`TLSMode`).
        implicit_tls: Start TLS as soon as the connection opens (port-465 style). None
            means "when ``port`` is 465".
        verify_certificate: Check the server's certificate and host name. None means
            "only when TLS is required or implicit": on port 25 MTAs encrypt
            opportunistically and accept any certificate, and so do we.
        ca_file: A PEM file of certificate authorities to trust instead of the system's.
        helo_name: The name we give in EHLO/HELO. None means this machine's fully
            qualified domain name, or an address literal such as ``[192.0.2.7]`` when it
            has none. Set it to a name whose A record and PTR match this host's public
            address for real use: servers check it.
        mail_from: The reverse-path of MAIL FROM. The default, ``""``, is the null
            reverse-path ``<>`` that MTAs' own recipient callouts use: it claims nobody
            else's address. For real use, an address at a domain you control whose SPF
            record authorises this host is better received.
        catch_all_probe: After the real RCPT TO, ask for a random, unguessable local part
            at the same domain in the same session, to tell a mailbox that exists from
            a server that accepts everything.
        max_mx_hosts: How many mail hosts of a domain to try, in preference order.
        max_recipients: How many RCPT TO one session may carry, the catch-all probe
            included. Real MTAs slow down and then cut off clients after a number of
            refused recipients (Postfix: 10 and 20 by default), so it stays small.
        retries: How many more rounds over the mail hosts when none could be reached.
        prefer_ipv6: Try a host's IPv6 addresses before its IPv4 ones.
        source_address: The local IP address to connect from, or None for the system's
            choice.
        proxy: A SOCKS proxy to connect through, as a URL such as
            ``socks5://user:password@proxy.example.net:1080`` (``socks4://`` too), for
            hosts whose own port 25 is blocked. Needs the ``socks`` extra
            (``pip install 'smtpcheck[socks]'``). Set ``helo_name`` with it: the
            servers see the proxy's address, not ours.
        connect_timeout: For the TCP connection (and an implicit TLS handshake).
        reply_timeout: For each whole reply, the greeting included: a deadline from
            when we start waiting for it, however slowly its bytes arrive.
        dns_timeout: For the whole DNS look-up of a domain's mail hosts.
        timeout: The whole verification's budget: no step outlives it.
        transcript: Keep every command and reply in :attr:`Result.transcript
            <smtpcheck.Result.transcript>`.
        allow_special_use: Accept special-use domains such as ``.test`` and
            ``.localhost`` (RFC 6761), for test worlds.
        allow_single_label: Accept single-label domains such as ``localhost``.
        allow_domain_literal: Accept domain literals such as ``user@[192.0.2.1]``.
        allow: Addresses and domains taken as deliverable without asking (reason
            ``allowed``): an :class:`~smtpcheck._enrich.AddressList`.
        deny: Addresses and domains refused without asking (reason ``denied``). An
            address entry beats a domain entry; at the same level, deny wins.
        disposable_undeliverable: Call addresses at disposable-address domains
            undeliverable (reason ``disposable``) without asking, instead of ``risky``
            when their server accepts them.
        concurrency: Bulk runs (:func:`~smtpcheck.verify_many`): how many connections
            may be open at once, overall.
        host_concurrency: Bulk runs: how many connections may be open at once to one
            mail host (one IP address and port). Keep it small: servers count them.
        greylist_retries: Bulk runs: how many more times to ask for an address whose
            result is :attr:`~smtpcheck.Reason.GREYLISTED`, each ``greylist_delay``
            after the last. A single :func:`~smtpcheck.verify` ignores it.
        greylist_delay: Bulk runs: how long to wait before asking a greylisted address
            again (greylisting servers usually want 1 to 5 minutes).
        rate_limit_retries: Bulk runs: how many more times to ask for an address whose
            result is :attr:`~smtpcheck.Reason.RATE_LIMITED` or
            :attr:`~smtpcheck.Reason.TEMPORARY_FAILURE`, after the host's back-off
            (Postfix's postscreen answers a new client ``450 4.3.2`` once, then lets it in).
        rate_limit_delay: Bulk runs: when a mail host answers an address with
            :attr:`~smtpcheck.Reason.RATE_LIMITED` or
            :attr:`~smtpcheck.Reason.TEMPORARY_FAILURE`, new connections to it wait this
            long; the wait doubles with each such batch in a row, up to eight times this,
            and a batch without them ends it.
        lifetimes: How long the memory keeps each kind of fact it learns (a host that
            refused us, a domain's catch-all answer, an address's definite result...):
            a :class:`~smtpcheck.Lifetimes`; ``Lifetimes.off()`` remembers nothing.

    >>> Policy(port=587, tls="required").implicit
    False
    >>> Policy(port=465).implicit
    True
    """

    port: int = 25
    tls: TLSMode = "opportunistic"
    implicit_tls: bool | None = None
    verify_certificate: bool | None = None
    ca_file: str | None = None
    helo_name: str | None = None
    mail_from: str = ""
    catch_all_probe: bool = True
    max_mx_hosts: int = 3
    max_recipients: int = 10
    retries: int = 0
    prefer_ipv6: bool = False
    source_address: str | None = None
    proxy: str | None = None
    connect_timeout: float | None = 10.0
    reply_timeout: float | None = 30.0
    dns_timeout: float | None = 10.0
    timeout: float | None = 60.0
    transcript: bool = False
    allow_special_use: bool = False
    allow_single_label: bool = False
    allow_domain_literal: bool = False
    allow: AddressList = _NOBODY
    deny: AddressList = _NOBODY
    disposable_undeliverable: bool = False
    concurrency: int = 20
    host_concurrency: int = 2
    greylist_retries: int = 0
    greylist_delay: float = 300.0
    rate_limit_retries: int = 1
    rate_limit_delay: float = 5.0
    lifetimes: Lifetimes = _REMEMBER
    # mail_from as MAIL FROM sends it (A-labels), computed by __post_init__.
    _reverse_path: str = dataclasses.field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise PolicyError(f"port must be an int, not {self.port!r}")
        if not 1 <= self.port <= 65535:
            raise PolicyError(f"port must be 1 to 65535, not {self.port}")
        if self.tls not in _TLS_MODES:
            raise PolicyError(f"tls must be one of {', '.join(_TLS_MODES)}, not {self.tls!r}")
        if self.implicit and self.tls == "off":
            raise PolicyError("implicit TLS (port 465) cannot be combined with tls='off'")
        for name in ("connect_timeout", "reply_timeout", "dns_timeout", "timeout"):
            _check_timeout(name, getattr(self, name))
        for name in ("greylist_delay", "rate_limit_delay"):
            if getattr(self, name) is None:
                raise PolicyError(f"{name} must be a number of seconds, not None")
            _check_timeout(name, getattr(self, name))
        for name in (
            "max_mx_hosts",
            "max_recipients",
            "retries",
            "concurrency",
            "host_concurrency",
            "greylist_retries",
            "rate_limit_retries",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PolicyError(f"{name} must be an int of 0 or more, not {value!r}")
        if self.max_mx_hosts == 0 or self.max_recipients == 0:
            raise PolicyError("max_mx_hosts and max_recipients must be at least 1")
        if self.concurrency == 0 or self.host_concurrency == 0:
            raise PolicyError("concurrency and host_concurrency must be at least 1")
        for name in ("allow", "deny"):
            if not isinstance(getattr(self, name), AddressList):
                raise PolicyError(f"{name} must be an AddressList: AddressList.of([...])")
        if self.proxy is not None and not self.proxy.lower().startswith(_PROXY_SCHEMES):
            raise PolicyError(f"proxy must be a socks5:// or socks4:// URL, not {self.proxy!r}")
        for name in ("helo_name", "mail_from", "source_address", "ca_file", "proxy"):
            value = getattr(self, name)
            if value is not None and any(c in value for c in "\r\n\0"):
                raise PolicyError(f"{name} must not contain CR, LF or NUL")
        if not isinstance(self.lifetimes, Lifetimes):
            raise PolicyError("lifetimes must be a Lifetimes: Lifetimes(refused=3600, ...)")
        self._check_identity()

    def _check_identity(self) -> None:
        """Check the HELO name and MAIL FROM with the rules the wire applies to them.

        The wire's own rules are the judges: a HELO name that
        :class:`~smtpcheck.protocol.Ehlo` or :class:`~smtpcheck.protocol.Helo` would
        refuse in every session is refused here, once; MAIL FROM is parsed by
        :func:`~smtpcheck.parse_address`, which accepts only a path the commands send.
        """
        helo = self.helo_name
        if helo is not None:
            try:
                Ehlo(helo)
                Helo(helo)
            except LocalProtocolError as error:
                raise PolicyError(
                    f"helo_name must be a host name or an address literal: {error}"
                ) from None
        path = ""
        if self.mail_from:
            try:
                sender = parse_address(
                    self.mail_from,
                    allow_domain_literal=True,
                    allow_single_label=True,
                    allow_special_use=True,
                )
            except InvalidAddress as error:
                raise PolicyError(f"mail_from is not a usable address: {error}") from None
            if sender.requires_smtputf8:
                raise PolicyError("mail_from must be ASCII, so that every server takes it")
            # An IDN domain goes out in A-labels, which every server takes. The parser
            # accepts only a path that MAIL FROM can send (smtpcheck._address.path_problem).
            path = sender.smtp_path
        object.__setattr__(self, "_reverse_path", path)

    @property
    def implicit(self) -> bool:
        """Whether TLS starts as soon as the connection opens."""
        return self.port == 465 if self.implicit_tls is None else self.implicit_tls

    @property
    def reverse_path(self) -> str:
        """The reverse-path that ``MAIL FROM`` sends, its domain in A-labels.

        It is :attr:`mail_from` as the wire takes it; ``""`` (the null reverse-path) by
        default.

        >>> Policy(mail_from="bounce@bücher.example").reverse_path
        'bounce@xn--bcher-kva.example'
        """
        return self._reverse_path

    @property
    def check_certificate(self) -> bool:
        """Whether the server's certificate and host name are verified."""
        if self.verify_certificate is not None:
            return self.verify_certificate
        return self.tls == "required" or self.implicit

    def replace(self, **changes: object) -> Policy:
        """Return a copy with some fields changed (validated again).

        >>> Policy().replace(port=587).port
        587
        """
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
