"""The exceptions smtpcheck raises.

Every exception that leaves a public call derives from :class:`SMTPCheckError` and
also from the builtin that matches its meaning, so callers can catch either
(``distributed.`` names live in ``smtpcheck.distributed``, with the ``distributed``
extra)::

    SMTPCheckError (Exception)
    ├── InvalidAddress (ValueError)           the text is not a usable mailbox
    ├── PolicyError (ValueError)              any other argument smtpcheck cannot use
    │   └── distributed.UnfitWorker           a Dask worker's identity is unfit
    ├── ProtocolError                         the SMTP conversation broke its rules
    │   ├── LocalProtocolError                we tried something illegal
    │   └── RemoteProtocolError               the server sent something illegal
    └── distributed.SchedulerUnreachable      no Dask scheduler answered in time
        (ConnectionError)

An SMTP reply such as ``550`` is never an exception: it is data, classified into a
:class:`~smtpcheck.Result`. Exceptions are for misuse of the API and for broken
conversations, which :func:`~smtpcheck.verify` itself turns into a ``Result`` with a
reason.
"""

from __future__ import annotations

__all__ = [
    "InvalidAddress",
    "LocalProtocolError",
    "PolicyError",
    "ProtocolError",
    "RemoteProtocolError",
    "SMTPCheckError",
]


class SMTPCheckError(Exception):
    """The root of every exception that smtpcheck raises."""


class InvalidAddress(SMTPCheckError, ValueError):  # noqa: N818 - the public name is the design
    """The text cannot be used as a mailbox in ``RCPT TO``.

    :func:`~smtpcheck.parse_address` gives one of these reasons (an application can
    map them to its own messages):

    ``empty``, ``too_long``, ``control_character``, ``whitespace``, ``no_at_sign``;
    for the local part ``local_empty``, ``local_invalid_char``, ``local_dot``,
    ``quoted_local_not_allowed``, ``smtputf8_not_allowed``, ``local_too_long``; for
    the domain ``domain_empty``, ``domain_literal_not_allowed``,
    ``domain_literal_invalid``, ``domain_invalid``, ``label_too_long``,
    ``domain_too_long``, ``domain_single_label``, ``domain_special_use``.

    Attributes:
        address: The text as given.
        reason: A short machine-readable reason, such as ``"local_too_long"``.
        message: A sentence for a person.
    """

    def __init__(self, address: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.address = address
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[InvalidAddress], tuple[str, str, str]]:
        # Pickled whole (to another process, a Dask worker): args alone is the message.
        return type(self), (self.address, self.reason, self.message)


class PolicyError(SMTPCheckError, ValueError):
    """An argument smtpcheck cannot use, of a wrong value or of a wrong type.

    A :class:`~smtpcheck.Policy` setting out of range, a :class:`~smtpcheck.Resolver`
    timeout of zero, a :class:`~smtpcheck.Reply` code of 700, a single string given to
    :func:`~smtpcheck.verify_many`, an address that is not a ``str``. Address text that
    is not a usable mailbox is an :class:`InvalidAddress` instead.
    """


class ProtocolError(SMTPCheckError):
    """The SMTP conversation cannot go on.

    After a protocol error the connection is in an error state and is never reused.
    """


class LocalProtocolError(ProtocolError):
    """We tried to do something SMTP does not allow (a bug, or hostile input)."""


class RemoteProtocolError(ProtocolError):
    """The server sent something SMTP does not allow.

    Attributes:
        line: The offending bytes, when one line is to blame (cut to a readable length).
    """

    def __init__(self, message: str, line: bytes | None = None) -> None:
        super().__init__(message)
        self.line = line

    def __reduce__(self) -> tuple[type[RemoteProtocolError], tuple[str, bytes | None]]:
        return type(self), (str(self), self.line)
