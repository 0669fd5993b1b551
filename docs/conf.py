"""Sphinx configuration for the smtpcheck documentation.

CI builds the site with ``sphinx-build -n -W --keep-going``: every warning fails the
build, and every cross-reference must resolve (or be listed in ``nitpick_ignore_regex``
below with the reason).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import smtpcheck
import smtpcheck.testing
from smtpcheck._public import ANNOTATIONS_AS_WRITTEN, DEFINED_IN


def _read_where_defined() -> None:
    """Give every public name back the module that defines it, for this build only.

    The public names report their package as ``__module__`` (``smtpcheck.Result``),
    while autodoc reads the ``#:`` comments of attributes, and viewcode the source, in
    the module ``__module__`` names; and their annotations are resolved objects, while
    the pages show them as written (``TLSMode``, not its ``Literal``). The pages still
    document each name where a user imports it (``.. autoclass:: smtpcheck.Result``).
    """
    for package in (smtpcheck, smtpcheck.protocol, smtpcheck.testing):
        for name in package.__all__:
            getattr(package, name)  # the lazy names are published when first loaded
    for public, home in DEFINED_IN.items():
        package, _, name = public.rpartition(".")
        value = getattr(sys.modules[package], name)
        value.__module__ = home
        if public in ANNOTATIONS_AS_WRITTEN:
            value.__annotations__ = ANNOTATIONS_AS_WRITTEN[public]


_read_where_defined()

project = "smtpcheck"
author = "The smtpcheck developers"
copyright = "2026, The smtpcheck developers"
release = smtpcheck.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_static_path = ["_static"]
html_title = "smtpcheck"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_type_aliases = {"TLSMode": "smtpcheck.TLSMode"}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = False  # "Attributes:" become attribute entries that :attr: can target

# --- intersphinx, offline only ---------------------------------------------------------
# CI has no network (PyPI only), so intersphinx may never fetch an inventory. The
# Python inventory ships in Debian's python3.11-doc package (pulled in by python3-doc):
# when that file is on the machine, links to the standard library are made from it;
# when it is not, the names are rendered without links (see nitpick_ignore_regex). No
# Debian or PyPI package ships dnspython's inventory, so dnspython names are never
# linked.
_PYTHON_INVENTORIES = [
    Path("/usr/share/doc/python3.11/html/objects.inv"),
    Path("/usr/share/doc/python3/html/objects.inv"),
]
_python_inventory = next((p for p in _PYTHON_INVENTORIES if p.is_file()), None)
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
if _python_inventory is not None:
    intersphinx_mapping["python"] = ("https://docs.python.org/3/", str(_python_inventory))
intersphinx_timeout = 1

nitpicky = True
# Names that have no page to link to. Standard-library names are linked when the
# Python inventory above is installed; these patterns only matter when it is not.
nitpick_ignore_regex = [
    # dnspython: no inventory can be had offline.
    (r"py:.*", r"dns(\..*)?"),
    (
        r"py:.*",
        (
            r"(typing|typing_extensions|collections\.abc|enum|ipaddress|asyncio|ssl|socket"
            r"|pathlib|os|datetime|time|types)\..*"
        ),
    ),
    (
        r"py:.*",
        (
            r"(Exception|BaseException|ValueError|TypeError|KeyError|RuntimeError"
            r"|TimeoutError|ConnectionError|AssertionError|object|int|str|bytes|float|bool"
            r"|dict|list|tuple|set|frozenset|None|type|Any|Iterator|Iterable|AsyncIterator"
            r"|AsyncIterable|Sequence|Mapping|Callable|Awaitable|Literal|Self|NoneType"
            r"|TracebackType|Coroutine|IPv4Address|IPv6Address|SSLContext)"
        ),
    ),
    # Dask, distributed and pandas (smtpcheck.distributed): no inventory offline.
    (r"py:.*", r"(dask|distributed|pandas|dd|db|pd)(\..*)?"),
    (r"py:.*", r"(DataFrame|Bag|Client|Future|Semaphore|WorkerPlugin)"),
    # smtpcheck.distributed's admissions build on the private admission seam.
    (r"py:.*", r"(smtpcheck\.distributed\._admission\._Layered|AsyncAdmission)"),
    # Private modules appear in signatures as ``smtpcheck._x.Name``; see _public_name.
    (r"py:.*", r"(smtpcheck\.testing\._dns\.)?DNSServer"),
]


def _public_name(target: str) -> str | None:
    """The documented public name for ``smtpcheck.<module>.<Name>``, if there is one.

    The API page documents each public name where a user imports it from
    (``smtpcheck.Verdict``, ``smtpcheck.testing.MailWorld``), while docstrings and type
    hints name the module that defines it (``smtpcheck._result.Verdict``).
    """
    parts = target.split(".")
    if parts[0] != "smtpcheck" or len(parts) < 2:
        return None
    for package in (smtpcheck.testing, smtpcheck):
        prefix = package.__name__.split(".")
        if parts[: len(prefix)] != prefix:
            continue
        for start in range(len(parts) - 1, len(prefix) - 1, -1):
            name = parts[start]
            if name in package.__all__:
                return ".".join([*prefix, *parts[start:]])
    return None


def _resolve_public(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a defining module's name through its public name."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    public = _public_name(target)
    if public is None:
        # A name relative to the docstring's module (``:data:`REASONS```,
        # ``Result.address``) or one documented under another module
        # (``smtpcheck.verify_many``): link it when exactly one documented smtpcheck
        # object ends with it.
        domain = env.get_domain("py")
        short = target.rsplit(".", 1)[-1] if target.startswith("smtpcheck.") else target
        suffix = f".{short}"
        found = [
            name
            for name, entry in domain.objects.items()
            if name.startswith("smtpcheck.") and name.endswith(suffix) and not entry.aliased
        ]
        public = found[0] if len(found) == 1 else None
    if public is None or public == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node.get("refdoc"), app.builder, node["reftype"], public, node, contnode
    )


def _napoleon_skipping_attributes() -> Any:
    """Napoleon's docstring hook, not applied to attributes, data and properties.

    Napoleon reads the first line of an attribute's docstring as ``type: description``,
    so ``#: The domain publishes a null MX: it accepts no mail.`` would become a type
    named "The domain publishes a null MX". Our attribute docstrings are plain sentences
    with their types in annotations, so they need no Google-style parsing.
    """
    from sphinx.ext.napoleon import _process_docstring  # noqa: PLC0415

    def process(app: Any, what: str, *rest: Any) -> None:
        if what not in {"attribute", "data", "property"}:
            _process_docstring(app, what, *rest)

    return process


def setup(app: Any) -> None:
    """Register the reference fixer and the narrower napoleon hook."""
    from sphinx.ext.napoleon import _process_docstring  # noqa: PLC0415

    for listener in list(app.events.listeners["autodoc-process-docstring"]):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon_skipping_attributes())
    app.connect("missing-reference", _resolve_public)
