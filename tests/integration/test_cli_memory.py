"""The command line's memory: a file in the user's cache directory, ``smtpcheck memory``.

The suite's ``forgetful`` fixture points ``XDG_CACHE_HOME`` at a directory of the
test's own, which the subprocesses inherit.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_sandbox import command, sandbox_args
from smtpcheck.testing import MailWorld
from smtpcheck.testing._dns import DNSServer

TIMEOUT = 120


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[MailWorld, DNSServer]]:
    started = MailWorld.default(shared_port=0)
    with started, started.dns_server() as dns:
        yield started, dns


@pytest.fixture
def mail(world: tuple[MailWorld, DNSServer]) -> MailWorld:
    world[0].reset()
    return world[0]


@pytest.fixture
def world_args(world: tuple[MailWorld, DNSServer]) -> list[str]:
    return sandbox_args(*world)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own program, arguments of the test's making
        command(*args),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def records(text: str) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line]
    return {record["address"]: record for record in lines}


def default_file() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "smtpcheck" / "memory.sqlite3"


ADDRESSES = ("alice@ok.test", "nobody@ok.test", "alice@blocked-connect.test")


def test_a_second_run_is_answered_from_the_default_memory_file(
    mail: MailWorld, world_args: list[str]
) -> None:
    first = run("verify", *ADDRESSES, "--json", *world_args)
    assert first.returncode == 1, first.stderr
    assert default_file().exists()
    assert mail.stats("mx.ok.test").connections == 1
    assert mail.stats("mx.blocked-connect.test").connections == 1
    mail.reset()
    second = run("verify", *ADDRESSES, "--json", *world_args)
    assert second.returncode == 1, second.stderr
    found = records(second.stdout)
    assert found["alice@ok.test"]["verdict"] == "deliverable"
    assert found["alice@ok.test"]["remembered_at"] is not None
    assert found["nobody@ok.test"]["reason"] == "mailbox_not_found"
    blocked = found["alice@blocked-connect.test"]
    assert blocked["reason"] == "blocked"
    assert "asked again after" in blocked["detail"]
    assert mail.stats("mx.ok.test").connections == 0
    assert mail.stats("mx.blocked-connect.test").connections == 0
    again = run("verify", "alice@ok.test", "--json", "--fresh", *world_args)
    assert records(again.stdout)["alice@ok.test"]["remembered_at"] is None
    assert mail.stats("mx.ok.test").connections == 1


def test_no_memory_reads_and_writes_no_file(mail: MailWorld, world_args: list[str]) -> None:
    for _ in range(2):
        done = run("verify", "alice@ok.test", "--json", "--no-memory", *world_args)
        assert done.returncode == 0, done.stderr
    assert not default_file().exists()
    assert mail.stats("mx.ok.test").connections == 2


def test_memory_show_and_forget(mail: MailWorld, world_args: list[str], tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    run("verify", *ADDRESSES, "--json", "--memory", path, *world_args)
    assert not default_file().exists()
    shown = run("memory", "ok.test", "mx.blocked-connect.test", "--memory", path)
    assert shown.returncode == 0, shown.stderr
    assert "not catch-all" in shown.stdout
    assert "alice@ok.test" in shown.stdout
    assert "deliverable (accepted)" in shown.stdout
    assert "refused us (blocked)" in shown.stdout
    listed = [
        json.loads(line)
        for line in run("memory", "ok.test", "--json", "--memory", path).stdout.splitlines()
    ]
    assert {r["kind"] for r in listed} == {"catch_all", "result"}
    assert all(r["name"] == "ok.test" and r["expires_at"] > r["learned_at"] for r in listed)
    forgot = run("memory", "mx.blocked-connect.test", "--forget", "--memory", path)
    assert forgot.stdout.strip() == "mx.blocked-connect.test: forgot 1 fact"
    gone = run("memory", "mx.blocked-connect.test", "--memory", path)
    assert (gone.returncode, gone.stdout.strip()) == (
        1,
        "mx.blocked-connect.test: nothing remembered",
    )
    mail.reset()
    run("verify", "alice@blocked-connect.test", "--json", "--memory", path, *world_args)
    assert mail.stats("mx.blocked-connect.test").connections == 1  # asked again


def test_a_corrupt_memory_file_warns_once_and_the_run_goes_on(
    mail: MailWorld, world_args: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "memory.sqlite3"
    path.write_bytes(b"\x00garbage, not a database\n" * 200)
    done = run("verify", *ADDRESSES, "--json", "--memory", str(path), *world_args)
    assert done.returncode == 1
    assert len(records(done.stdout)) == 3
    warnings = [line for line in done.stderr.splitlines() if "cannot be used" in line]
    assert len(warnings) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert mail.stats("mx.ok.test").connections == 1
