"""IP addresses as SMTP and DNS write them: pure helpers shared by the plan and the doctor."""

from __future__ import annotations

import ipaddress

__all__ = ["address_literal", "is_ip"]


def address_literal(ip: str) -> str:
    """Our address as a HELO argument (RFC 5321 §4.1.3): ``[192.0.2.1]``, ``[IPv6:...]``.

    >>> address_literal("192.0.2.1"), address_literal("2001:db8::1")
    ('[192.0.2.1]', '[IPv6:2001:db8::1]')
    """
    return f"[IPv6:{ip}]" if ":" in ip else f"[{ip}]"


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address (without brackets)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
