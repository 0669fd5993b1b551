"""The public surface: exactly the names of __all__, documented; the layers kept honest."""

from __future__ import annotations

import ast
import asyncio
import builtins
import dataclasses
import importlib
import inspect
import pickle
import re
import subprocess
import sys
import traceback
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import smtpcheck

SRC = Path(smtpcheck.__file__).parent

PUBLIC = {
    "Address", "AddressList", "AsyncMailHostResolver", "Audit", "Blocklist", "Check",
    "CheckStatus", "DomainStatus", "EnhancedStatus", "Enrichment", "Fact", "InvalidAddress",
    "Lifetimes", "LocalProtocolError", "MailHost", "MailHostResolver", "MailHosts", "Memory",
    "MemoryStore",
    "Policy", "PolicyError", "ProtocolError", "Reason", "RemoteProtocolError", "Reply",
    "Resolver", "Result", "SMTPCheckError", "TLSMode", "Target", "TranscriptLine", "Verdict",
    "__version__", "aaudit", "audit", "averify", "averify_many", "enrich", "parse_address",
    "suggest", "verify", "verify_many",
}  # fmt: skip

# Modules that do no I/O: they import no module that does, from the standard library or
# from smtpcheck.
PURE = {
    "_address", "_classify", "_enrich", "_mailhosts", "_memory", "_policy", "_probe", "_result",
    "_verifier", "_admission",
    "_errors", "_literals", "_public", "_resolver/_plan", "_resolver/_protocols",
    "_rules", "_enrich_tlds", "protocol",
}  # fmt: skip
IO_MODULES = {"socket", "ssl", "asyncio", "selectors", "threading", "subprocess", "dns"}


def test_all_is_exactly_the_public_names() -> None:
    assert set(smtpcheck.__all__) == PUBLIC
    assert smtpcheck.__all__ == sorted(smtpcheck.__all__)
    for name in smtpcheck.__all__:
        assert hasattr(smtpcheck, name), name
    exported = {n for n in dir(smtpcheck) if not n.startswith("_")}
    modules = {n for n in exported if inspect.ismodule(getattr(smtpcheck, n))}
    assert exported - modules == PUBLIC - {"__version__"}


# What `import smtpcheck` must not pay for: DNS, sockets, TLS, asyncio, and the modules
# built on them (imported when a call needs them).
HEAVY = {
    "asyncio", "dns", "socket", "ssl", "selectors", "subprocess", "tqdm",
    "smtpcheck._async", "smtpcheck._sync", "smtpcheck._bulk", "smtpcheck._doctor",
    "smtpcheck._resolver", "smtpcheck._verifier", "smtpcheck._probe", "smtpcheck._cli",
    "smtpcheck.protocol._connection", "smtpcheck.protocol._state",
    "smtpcheck._memory_store", "sqlite3",
}  # fmt: skip


def test_importing_the_package_imports_nothing_heavy() -> None:
    code = "import sys, smtpcheck; print('\\n'.join(sys.modules))"
    loaded = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "smtpcheck" in loaded
    assert {m for m in loaded if m in HEAVY or m.split(".")[0] in HEAVY} == set()


def test_the_lazy_names_are_their_modules_objects() -> None:
    from smtpcheck import _bulk, _doctor, _memory_store, _resolver

    assert smtpcheck.verify_many is _bulk.verify_many
    assert smtpcheck.averify_many is _bulk.averify_many
    assert smtpcheck.audit is _doctor.audit
    assert smtpcheck.aaudit is _doctor.aaudit
    assert smtpcheck.Memory is _memory_store.Memory
    assert smtpcheck.Resolver is _resolver.Resolver
    assert smtpcheck.MailHostResolver is _resolver.MailHostResolver
    assert smtpcheck.AsyncMailHostResolver is _resolver.AsyncMailHostResolver


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = smtpcheck.no_such_name  # type: ignore[attr-defined]


def _published(package: ModuleType) -> list[tuple[str, Any]]:
    names = [(name, getattr(package, name)) for name in package.__all__]
    return [(n, v) for n, v in names if inspect.isclass(v) or inspect.isfunction(v)]


def test_public_names_report_their_public_home() -> None:
    import smtpcheck.testing

    for name, value in _published(smtpcheck):
        home = "smtpcheck.protocol" if name in smtpcheck.protocol.__all__ else "smtpcheck"
        assert value.__module__ == home, name
    for package in (smtpcheck.protocol, smtpcheck.testing):
        for name, value in _published(package):
            assert value.__module__ == package.__name__, name
    assert smtpcheck.Reply.__module__ == "smtpcheck.protocol"
    assert smtpcheck.verify_many.__module__ == "smtpcheck"


def test_a_traceback_names_the_public_error() -> None:
    with pytest.raises(smtpcheck.PolicyError) as info:
        smtpcheck.Policy(tls="sometimes")  # type: ignore[arg-type]
    line = traceback.format_exception_only(info.type, info.value)[-1]
    assert line.startswith("smtpcheck.PolicyError: tls must be one of")


def test_type_hints_of_public_classes_still_resolve() -> None:
    import smtpcheck.testing

    for package in (smtpcheck, smtpcheck.protocol, smtpcheck.testing):
        for name, value in _published(package):
            if not inspect.isclass(value):
                continue  # a function's hints are looked up in its own globals
            hints = typing.get_type_hints(value)
            assert all(not isinstance(hint, str) for hint in hints.values()), name
    assert typing.get_type_hints(smtpcheck.Result)["reply"] == smtpcheck.Reply | None


def test_results_pickle_through_their_public_names() -> None:
    reply = smtpcheck.Reply(550, ("5.1.1 no such user",))
    result = dataclasses.replace(smtpcheck.verify("not an address"), reply=reply)
    assert pickle.loads(pickle.dumps(result)) == result  # noqa: S301 - our own bytes
    assert pickle.loads(pickle.dumps(smtpcheck.Verdict.RISKY)) is smtpcheck.Verdict.RISKY  # noqa: S301


def test_invalid_address_lists_every_reason_parse_address_gives() -> None:
    from smtpcheck._address import REASONS

    doc = inspect.getdoc(smtpcheck.InvalidAddress) or ""
    listed = set(re.findall(r"``([a-z0-9_]+)``", doc.split("Attributes:")[0]))
    assert listed == REASONS


def test_errors_pickle_with_their_attributes() -> None:
    invalid = smtpcheck.InvalidAddress("a b@c.de", "local_invalid_char", "a space")
    again = pickle.loads(pickle.dumps(invalid))  # noqa: S301 - our own bytes
    assert (type(again), again.address, again.reason, str(again)) == (
        smtpcheck.InvalidAddress,
        "a b@c.de",
        "local_invalid_char",
        "a space",
    )
    remote = smtpcheck.RemoteProtocolError("garbage", line=b"\x00\x01")
    back = pickle.loads(pickle.dumps(remote))  # noqa: S301
    assert (type(back), str(back), back.line) == (type(remote), "garbage", b"\x00\x01")
    assert str(pickle.loads(pickle.dumps(smtpcheck.PolicyError("bad")))) == "bad"  # noqa: S301


def test_every_public_name_is_documented() -> None:
    for name in PUBLIC - {"__version__", "TLSMode"}:
        doc = inspect.getdoc(getattr(smtpcheck, name))
        assert doc, f"{name} has no docstring"
        assert len(doc) > 20, name


def test_exceptions_inherit_the_matching_builtins() -> None:
    assert issubclass(smtpcheck.InvalidAddress, ValueError)
    assert issubclass(smtpcheck.PolicyError, ValueError)
    for error in (smtpcheck.InvalidAddress, smtpcheck.PolicyError, smtpcheck.ProtocolError):
        assert issubclass(error, smtpcheck.SMTPCheckError)
    assert issubclass(smtpcheck.LocalProtocolError, smtpcheck.ProtocolError)
    assert issubclass(smtpcheck.RemoteProtocolError, smtpcheck.ProtocolError)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _pure_files() -> list[Path]:
    files = []
    for name in PURE:
        path = SRC / name
        files += sorted(path.glob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return files


def test_the_pure_core_imports_nothing_that_does_io() -> None:
    for path in _pure_files():
        for module in _imports(path):
            top = module.split(".")[0]
            assert top not in IO_MODULES, f"{path.name} imports {module}"
            if top == "smtpcheck":
                inner = module.split(".")[1] if "." in module else ""
                assert inner in PURE, f"{path.name} imports {module}, which does I/O"


def test_the_pure_core_modules_import() -> None:
    for name in PURE:
        importlib.import_module(f"smtpcheck.{name.replace('/', '.')}")


# -- every exception that leaves a public call is ours -------------------------------

_R = smtpcheck.Resolver(nameservers=["127.0.0.1"], timeout=1.0)
_P, _I = smtpcheck.PolicyError, smtpcheck.InvalidAddress

# (what, the call, the error it raises); none of them touches the network.
BAD_CALLS: list[tuple[str, Callable[[], object], type[smtpcheck.SMTPCheckError]]] = [
    ("Policy-tls", lambda: smtpcheck.Policy(tls="sometimes"), _P),  # type: ignore[arg-type]
    ("Resolver-timeout", lambda: smtpcheck.Resolver(timeout=0), _P),
    ("Resolver-cache_size", lambda: smtpcheck.Resolver(cache_size=0), _P),
    ("Resolver-failure_ttl", lambda: smtpcheck.Resolver(failure_ttl=-1), _P),
    ("mail_hosts-lifetime", lambda: _R.mail_hosts("a.test", lifetime=0), _P),
    ("mail_hosts-max_hosts", lambda: _R.mail_hosts("a.test", max_hosts=0), _P),
    ("mail_hosts-U-label", lambda: _R.mail_hosts("exämple.org"), _P),
    ("mail_hosts-bad-name", lambda: _R.mail_hosts("a..b"), _P),
    ("mail_hosts-empty", lambda: _R.mail_hosts("."), _P),
    ("Reply-code", lambda: smtpcheck.Reply(700, ("x",)), _P),
    ("Reply-no-line", lambda: smtpcheck.Reply(250, ()), _P),
    ("EnhancedStatus-class", lambda: smtpcheck.EnhancedStatus(3, 1, 1), _P),
    ("EnhancedStatus-detail", lambda: smtpcheck.EnhancedStatus(5, 1, 1000), _P),
    ("ClientConnection-limit", lambda: smtpcheck.protocol.ClientConnection(max_line_length=0), _P),
    ("ClientConnection-buffer", lambda: smtpcheck.protocol.ClientConnection(max_buffer=10), _P),
    ("Address-fields", lambda: smtpcheck.Address(local_part="a", domain="b", ascii_domain="c"), _P),
    ("parse_address-bytes", lambda: smtpcheck.parse_address(b"a@b.de"), _P),  # type: ignore[arg-type]
    ("verify-None", lambda: smtpcheck.verify(None), _P),  # type: ignore[arg-type]
    ("averify-int", lambda: asyncio.run(smtpcheck.averify(25)), _P),  # type: ignore[arg-type]
    ("verify_many-str", lambda: smtpcheck.verify_many("a@b.de"), _P),
    ("AddressList-entry", lambda: smtpcheck.AddressList.of(["no way"]), _I),
]


@pytest.mark.parametrize(
    ("call", "error"), [(c, e) for _, c, e in BAD_CALLS], ids=[n for n, _, _ in BAD_CALLS]
)
def test_a_bad_argument_is_our_error_and_a_value_error(
    call: Callable[[], object], error: type[smtpcheck.SMTPCheckError]
) -> None:
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert str(info.value)


# Builtin exceptions our own code may still raise, each with why it is not an argument
# error: (module, exception, reason).
BUILTIN_RAISES_ALLOWED = {
    ("__init__", "AttributeError"): "a missing module attribute, as Python's own",
    ("protocol/__init__", "AttributeError"): "a missing module attribute, as Python's own",
    ("__main__", "SystemExit"): "python -m smtpcheck exits with the command line's status",
    ("_doctor/_report", "KeyError"): "Audit['name']: the mapping protocol",
    ("_engine", "RuntimeError"): "an invariant of the engine broken: a bug of ours",
    ("_memory", "TypeError"): "a stored fact read back: the store catches it, never a caller",
    ("_classify", "ValueError"): "a private function called against its contract: a bug",
    ("distributed/__init__", "ImportError"): "the extra is missing: the import says how to get it",
}


def test_no_builtin_exception_is_raised_for_a_bad_argument() -> None:
    errors = {
        name
        for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    found = set()
    # The sandbox (smtpcheck.testing) is a test fixture: its misuse errors are its own.
    for path in sorted(p for p in SRC.rglob("*.py") if "testing" not in p.parts):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                if isinstance(func, ast.Name) and func.id in errors:
                    found.add((str(path.relative_to(SRC).with_suffix("")), func.id))
    assert found <= set(BUILTIN_RAISES_ALLOWED), found - set(BUILTIN_RAISES_ALLOWED)
