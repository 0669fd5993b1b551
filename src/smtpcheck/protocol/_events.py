"""What :meth:`ClientConnection.next_event` returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final, Literal

from smtpcheck.protocol._commands import Command
from smtpcheck.protocol._reply import Reply

__all__ = ["NEED_DATA", "ConnectionClosed", "Event", "Greeting", "NeedData", "Response"]


@dataclass(frozen=True, slots=True)
class Greeting:
    """The server's opening reply, such as ``220 mx.example.com ESMTP``.

    Attributes:
        reply: The reply. A ``554`` means the server refuses the session (only ``QUIT``
            may follow), a ``421`` that it is closing.
        raw: The text of each line as received, for a transcript that must show bytes
            that were not UTF-8. Not compared.
    """

    reply: Reply
    raw: tuple[bytes, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Response:
    """The reply to one command, paired in order with the commands sent.

    Attributes:
        command: The command this reply answers.
        reply: The reply.
        raw: The text of each line as received, for a transcript that must show bytes
            that were not UTF-8. Not compared.
    """

    command: Command
    reply: Reply
    raw: tuple[bytes, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The server closed the connection, after a whole reply.

    Every later :meth:`~ClientConnection.next_event` returns it again.
    """


class NeedData(enum.Enum):
    """The type of :data:`NEED_DATA`, for annotations."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`~ClientConnection.next_event` until more bytes arrive.
NEED_DATA: Final = NeedData.NEED_DATA

#: Any event :meth:`~ClientConnection.next_event` returns, besides :data:`NEED_DATA`.
Event = Greeting | Response | ConnectionClosed

# The return type of next_event, spelled once.
EventOrNeedData = Event | Literal[NeedData.NEED_DATA]
