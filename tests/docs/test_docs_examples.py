"""Run the code examples of the documentation, so that they cannot rot.

Every MyST page under ``docs/`` (``*.md``) is one test. Its fenced code blocks run in
page order, in one namespace per page, exactly as a reader would paste them:

- a ```` ```pycon ```` block is a doctest session: each ``>>>`` statement runs and its
  printed output must match (``ELLIPSIS`` and ``NORMALIZE_WHITESPACE`` are on);
- a ```` ```python ```` block is executed as a script; then each function it defines
  whose name starts with ``test_`` is called as pytest would call it, with a running
  ``MailWorld.default()`` for a ``mail_world`` argument (stopped and checked afterwards);
- blocks in any other language (``console``, ``text``, ``toml``...) are not run;
- ``{eval-rst}`` blocks (the API page's autodoc directives) are not code;
- a page that needs an optional extra (``_NEEDS``) is skipped without it.

The pages start the sandbox themselves (``world = MailWorld.default().start()``), in a
block the reader sees, so that every example can be pasted into a Python prompt. After a
page, any :class:`~smtpcheck.testing.MailWorld` left in its namespace is stopped and
checked: no server may have received DATA, BDAT, VRFY or EXPN.

No example may touch the internet: while a page runs, a socket may connect (or send a
datagram) only to a loopback address, and anything else fails the test.
"""

from __future__ import annotations

import doctest
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smtpcheck._api import forget_shared_memory
from smtpcheck.testing import MailWorld

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)

_FENCE = re.compile(
    r"^(?P<fence>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: Pages whose examples need an optional extra: skipped when it is not installed.
_NEEDS = {"guide/distributed.md": ("dask.dataframe", "distributed")}


def _blocks(text: str) -> Iterator[tuple[str, str, int]]:
    """Yield (language, code, line number of the first code line) of each fenced block."""
    for match in _FENCE.finditer(text):
        language = match["info"].strip().split(" ", 1)[0]
        line = text.count("\n", 0, match.start("body")) + 1
        yield language, match["body"], line


def _run_tests(namespace: dict[str, Any], before: set[str], where: str) -> None:
    """Call the ``test_*`` functions a block defined, with a fresh ``mail_world``."""
    for name, value in list(namespace.items()):
        if name in before or not name.startswith("test_") or not inspect.isfunction(value):
            continue
        params = list(inspect.signature(value).parameters)
        unknown = set(params) - {"mail_world"}
        assert not unknown, f"{where}: {name} asks for fixtures the docs test lacks: {unknown}"
        if "mail_world" in params:
            forget_shared_memory()  # as the pytest fixture does
            world = MailWorld.default().start()
            try:
                value(mail_world=world)
            finally:
                world.stop()
            world.check()
        else:
            value()


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples(page: Path) -> None:
    for module in _NEEDS.get(page.relative_to(DOCS).as_posix(), ()):
        pytest.importorskip(module, reason="the page needs an extra that is not installed")
    text = page.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": f"docs.{page.stem}"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    ran = 0
    try:
        for language, code, line in _blocks(text):
            where = f"{page.relative_to(DOCS)}:{line}"
            if language == "pycon":
                test = parser.get_doctest(code, namespace, where, str(page), line - 1)
                report: list[str] = []
                result = runner.run(test, clear_globs=False, out=report.append)
                namespace.update(test.globs)  # DocTest works on a copy of the namespace
                assert result.failed == 0, f"{where}: doctest failed\n{''.join(report)}"
                ran += 1
            elif language == "python":
                before = set(namespace)
                exec(compile(code, where, "exec"), namespace)  # noqa: S102 - our own docs
                _run_tests(namespace, before, where)
                ran += 1
    finally:
        for value in namespace.values():
            if isinstance(value, MailWorld):
                value.stop()
                value.check()
    if "```pycon" in text or "```python" in text:
        assert ran, f"{page}: no example ran"
