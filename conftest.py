"""Doctests find the public names in the modules that define them.

The public names report their package as ``__module__`` (``smtpcheck.Result``, see
``smtpcheck._public``), and :mod:`doctest` only takes the examples of an object whose
``__module__`` is the module it searches. Left alone, the examples of a published class
or function would be skipped in ``_result.py`` and found only when ``smtpcheck`` already
holds the name (not for those imported on first use). Here an object published by
``smtpcheck._public`` belongs to the module that defines it, so each example runs once,
under its own file. This file sits at the root so that it applies to ``pytest src`` and
``pytest tests`` alike.

Without the ``distributed`` extra, smtpcheck.distributed cannot be imported, so its
doctests are not collected (tests/distributed/conftest.py does the same for its tests).
"""

from __future__ import annotations

import doctest
import importlib.util
from typing import Any

from smtpcheck._public import DEFINED_IN

_from_module = doctest.DocTestFinder._from_module  # type: ignore[attr-defined]  # noqa: SLF001


def _from_defining_module(self: doctest.DocTestFinder, module: Any, obj: Any) -> bool:
    home = DEFINED_IN.get(f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}")
    if home is not None and module is not None:
        return bool(module.__name__ == home)
    return bool(_from_module(self, module, obj))


doctest.DocTestFinder._from_module = _from_defining_module  # type: ignore[attr-defined]  # noqa: SLF001

collect_ignore_glob = (
    []
    if all(importlib.util.find_spec(name) for name in ("dask", "distributed"))
    else ["src/smtpcheck/distributed/*"]
)
