"""``python -m smtpcheck``: the same program as the ``smtpcheck`` command."""

from __future__ import annotations

from smtpcheck._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
