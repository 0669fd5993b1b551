"""Where a public name says it lives: the package a user imports it from.

The implementation modules are private (``smtpcheck._result``); each public package
(``smtpcheck``, ``smtpcheck.protocol``, ``smtpcheck.testing``) re-exports its names and
gives them its own name as ``__module__``, as httpx does, so that reprs, tracebacks,
pickles and type checkers' messages say ``smtpcheck.Result``, never a private path.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

__all__ = ["ANNOTATIONS_AS_WRITTEN", "DEFINED_IN", "publish"]

T = TypeVar("T")

#: The module that defines each published name, keyed by its public dotted name
#: (``"smtpcheck.Result": "smtpcheck._result"``): the docs' build reads the source there.
DEFINED_IN: dict[str, str] = {}

#: A published class's own annotations as its source writes them (text, PEP 563), keyed
#: like :data:`DEFINED_IN`, when they were resolved: the docs render the text.
ANNOTATIONS_AS_WRITTEN: dict[str, dict[str, object]] = {}


def publish(package: str, value: T) -> T:
    """Give *value* (a class or function of a private module of *package*) its home.

    A name already homed in a public package (``Reply``, defined under
    ``smtpcheck.protocol`` and re-exported by ``smtpcheck``) keeps that home, so this is
    called by the innermost package first. A class's own annotations are resolved in its
    defining module first, so that :func:`typing.get_type_hints` (which looks names up
    in ``__module__``) still works on it.
    """
    if not isinstance(value, type) and not inspect.isfunction(value):
        return value  # a constant: its class says where it is defined
    module = value.__module__
    if not module.startswith(f"{package}._"):
        return value
    public = f"{package}.{value.__qualname__}"
    if isinstance(value, type):
        written = _resolve_annotations(value)
        if written is not None:
            ANNOTATIONS_AS_WRITTEN[public] = written
    DEFINED_IN[public] = module
    value.__module__ = package
    return value


def _resolve_annotations(cls: type) -> dict[str, object] | None:
    """Replace the class's own string annotations by the objects they name.

    This is what :func:`typing.get_type_hints` does with them (PEP 563), done while
    ``__module__`` still names the defining module. When one names something only a
    type checker imports (a ``TYPE_CHECKING`` import), they are left as text: they
    could not be resolved before either.

    Returns:
        The annotations as they were, when they were replaced.
    """
    written: dict[str, object] = inspect.get_annotations(cls)
    if not any(isinstance(hint, str) for hint in written.values()):
        return None
    try:
        cls.__annotations__ = inspect.get_annotations(cls, eval_str=True)
    except NameError:
        return None
    return written
