"""smtpcheck tells whether an email address can receive mail, without sending any."""

from __future__ import annotations

from smtpcheck._errors import (
    InvalidAddress,
    LocalProtocolError,
    PolicyError,
    ProtocolError,
    RemoteProtocolError,
    SMTPCheckError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "InvalidAddress",
    "LocalProtocolError",
    "PolicyError",
    "ProtocolError",
    "RemoteProtocolError",
    "SMTPCheckError",
    "__version__",
]
