"""Sphinx configuration for the smtpcheck documentation."""

from __future__ import annotations

import smtpcheck

project = "smtpcheck"
author = "The smtpcheck developers"
copyright = "2026, The smtpcheck developers"
release = smtpcheck.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_static_path = ["_static"]
html_title = "smtpcheck"

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

nitpicky = True
# The docs are built without network access, so there is no intersphinx inventory for
# the standard library or dnspython: their names are rendered but not linked.
nitpick_ignore_regex = [
    (r"py:.*", r"(typing|typing_extensions|collections\.abc|enum|ipaddress|dns|asyncio|ssl|socket|pathlib|os|datetime)\..*"),
    (r"py:class", r"(Exception|ValueError|TimeoutError|ConnectionError|object|int|str|bytes|float|bool|dict|list|tuple|set|frozenset|None|type|Any|Iterator|Iterable|AsyncIterator|AsyncIterable|Sequence|Mapping|Callable|Awaitable|Literal|Self|NoneType)"),
]
