"""What the servers of a mail world heard: every command line, per server and session."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["FORBIDDEN_COMMANDS", "Command", "ServerStats"]

#: Commands smtpcheck must never send: they deliver or disclose mail.
FORBIDDEN_COMMANDS = frozenset({"DATA", "BDAT", "VRFY", "EXPN"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """One command line a server of the world received.

    Attributes:
        server: The name of the server that received it.
        session: The connection it came on, numbered from 1 per server.
        line: The line as received, without its CRLF (decoded as UTF-8, undecodable
            bytes escaped with backslashes).
        tls: True when it came over TLS (after STARTTLS, or on an implicit-TLS port).
    """

    server: str
    session: int
    line: str
    tls: bool = False

    @property
    def verb(self) -> str:
        """The command word in upper case, such as ``"RCPT"`` (``""`` for a blank line)."""
        word = self.line.split(" ", 1)[0].split(":", 1)[0]
        return word.upper()


@dataclass(slots=True, kw_only=True)
class ServerStats:
    """Counters of one server.

    Attributes:
        connections: Connections accepted since the world started (or was reset).
        active: Connections open now.
        peak: The most connections that were open at the same time.
    """

    connections: int = 0
    active: int = 0
    peak: int = 0


@dataclass(slots=True)
class Recorder:
    """Thread-safe store of what every server heard (written by the server thread)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _commands: list[Command] = field(default_factory=list)
    _forbidden: list[Command] = field(default_factory=list)
    _stats: dict[str, ServerStats] = field(default_factory=dict)
    _sessions: dict[str, int] = field(default_factory=dict)

    def open(self, server: str) -> int:
        """Count a new connection to ``server`` and return its session number."""
        with self._lock:
            stats = self._stats.setdefault(server, ServerStats())
            stats.connections += 1
            stats.active += 1
            stats.peak = max(stats.peak, stats.active)
            number = self._sessions.get(server, 0) + 1
            self._sessions[server] = number
            return number

    def close(self, server: str) -> None:
        """Count the end of a connection to ``server``."""
        with self._lock:
            self._stats[server].active -= 1

    def active(self, server: str) -> int:
        """Connections open now on ``server``."""
        with self._lock:
            stats = self._stats.get(server)
            return stats.active if stats else 0

    def line(self, command: Command) -> None:
        """Record one received line."""
        with self._lock:
            self._commands.append(command)

    def forbidden(self, command: Command) -> None:
        """Record a forbidden command (DATA, BDAT, VRFY, EXPN)."""
        with self._lock:
            self._forbidden.append(command)

    def commands(self, server: str | None = None) -> list[Command]:
        """The lines received, by one server or by all, in order of arrival."""
        with self._lock:
            return [c for c in self._commands if server is None or c.server == server]

    def forbidden_commands(self) -> list[Command]:
        """The forbidden commands received, in order of arrival."""
        with self._lock:
            return list(self._forbidden)

    def stats(self, server: str) -> ServerStats:
        """A copy of the counters of ``server``."""
        with self._lock:
            stats = self._stats.get(server, ServerStats())
            return ServerStats(connections=stats.connections, active=stats.active, peak=stats.peak)

    def clear(self) -> None:
        """Forget the lines and counters recorded so far (open connections stay counted)."""
        with self._lock:
            self._commands.clear()
            self._forbidden.clear()
            for stats in self._stats.values():
                stats.connections = 0
                stats.peak = stats.active
