"""A sans-IO SMTP client: commands in, bytes out; bytes in, replies out.

This package does no I/O and imports nothing that does.
"""

from __future__ import annotations

from smtpcheck.protocol._reply import EnhancedStatus, Reply

__all__ = ["EnhancedStatus", "Reply"]
