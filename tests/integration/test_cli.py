"""The command line, end to end: ``python -m smtpcheck`` in a subprocess.

The mail world runs in this process, served through real DNS on loopback
(``MailWorld.default(shared_port=0)`` and its DNS server), so that the subprocess reaches
it with ``--nameserver``, ``--dns-port`` and ``--port``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import smtpcheck
from cli_sandbox import command, sandbox_args
from smtpcheck._cli import (
    UsageError,
    csv_addresses,
    main,
    plain_addresses,
    render_table,
    result_json,
)
from smtpcheck._result import Reason, Result, Verdict
from smtpcheck.protocol import Reply
from smtpcheck.testing import MailWorld
from smtpcheck.testing._dns import DNSServer

DESIGN_FIELDS = {
    "address",
    "normalized",
    "verdict",
    "reason",
    "mx",
    "smtp",
    "catch_all",
    "elapsed_ms",
}
TIMEOUT = 120  # seconds any one subprocess may take before the test fails


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[MailWorld, DNSServer]]:
    started = MailWorld.default(shared_port=0)
    with started, started.dns_server() as dns:
        yield started, dns


@pytest.fixture
def world_args(world: tuple[MailWorld, DNSServer]) -> list[str]:
    return sandbox_args(*world)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own program, arguments of the test's making
        command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def by_address(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["address"]: record for record in records}


def wait_for_lines(path: Path, process: subprocess.Popen[Any], wanted: str) -> None:
    """Wait until a line containing ``wanted`` is in ``path``, with a deadline."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and wanted in path.read_text(encoding="utf-8"):
            return
        assert process.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.01)
    pytest.fail(f"no line with {wanted!r} in {path} within 60 s")


# -- the program ---------------------------------------------------------------------------


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"smtpcheck {smtpcheck.__version__}"


def test_help_documents_output_and_exit_status() -> None:
    done = run("verify", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "JSON lines" in text
    assert "when it is not" in text
    assert "Exit status: 0 all deliverable; 1 some undeliverable, risky or unknown" in text


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["verify"],
        ["verify", "--bogus", "a@example.com"],
        ["verify", "--port", "0", "a@example.com"],
        ["verify", "--timeout", "-1", "a@example.com"],
        ["verify", "--tls", "sometimes", "a@example.com"],
        ["verify", "--concurrency", "many", "a@example.com"],
        ["verify", "-i", "/nonexistent/list.txt"],
        ["verify", "--csv", "a@example.com"],
        ["verify", "--json", "--table", "a@example.com"],
        ["verify", "--helo-name", "bad\rname", "a@example.com"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "error" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreadable_csv_column_is_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("name,email\nAl,al@example.com\n", encoding="utf-8")
    done = run("verify", "-i", str(source), "--column", "mail address")
    assert done.returncode == 2
    assert "no column 'mail address' (columns: name, email)" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_input_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    source.write_bytes(b"al@example.com\n\xff\xfe\n")
    done = run("verify", "-i", str(source))
    assert done.returncode == 2
    assert "is not UTF-8 text" in done.stderr


# -- verify: output and exit status ----------------------------------------------------------


def test_json_lines_when_piped(world_args: list[str]) -> None:
    done = run("verify", "alice@ok.test", "nobody@ok.test", "anyone@catchall.test", *world_args)
    assert done.returncode == 1, done.stderr
    records = json_lines(done.stdout)
    assert len(records) == 3
    for record in records:
        assert set(record) >= DESIGN_FIELDS
    found = by_address(records)
    assert found["alice@ok.test"]["verdict"] == "deliverable"
    assert found["alice@ok.test"]["mx"] == "mx.ok.test"
    assert found["alice@ok.test"]["smtp"] == {"code": 250, "enhanced": "2.1.5", "message": "Ok"}
    assert found["alice@ok.test"]["catch_all"] is False
    assert found["nobody@ok.test"]["reason"] == "mailbox_not_found"
    assert found["nobody@ok.test"]["smtp"]["code"] == 550
    assert found["anyone@catchall.test"]["verdict"] == "risky"
    assert found["anyone@catchall.test"]["catch_all"] is True


def test_all_deliverable_exits_0(world_args: list[str]) -> None:
    done = run("verify", "--json", "alice@ok.test", "bob@ok.test", *world_args)
    assert done.returncode == 0, done.stderr
    assert {r["verdict"] for r in json_lines(done.stdout)} == {"deliverable"}


def test_unknown_and_risky_exit_1(world_args: list[str]) -> None:
    for address in ("alice@greylist.test", "alice@full.test", "alice@nxdomain.test"):
        done = run("verify", address, *world_args)
        assert done.returncode == 1, (address, done.stderr)


def test_table(world_args: list[str]) -> None:
    done = run(
        "verify",
        "--table",
        "alice@ok.test",
        "nobody@ok.test",
        "alice@nullmx.test",
        "not an address",
        *world_args,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "ADDRESS",
        "VERDICT",
        "REASON",
        "MX",
        "SMTP",
        "REPLY",
        "/",
        "DETAIL",
    ]
    # In the order given, one row each.
    assert [line.split()[0] for line in lines[1:4]] == [
        "alice@ok.test",
        "nobody@ok.test",
        "alice@nullmx.test",
    ]
    assert lines[1].split()[1:5] == ["deliverable", "accepted", "mx.ok.test", "250"]
    assert "undeliverable  mailbox_not_found" in lines[2]
    assert "550 5.1.1" in lines[2]
    assert "null_mx" in lines[3]
    assert lines[4].startswith("not an address")
    assert "invalid_syntax" in lines[4]


def test_transcript_in_json_and_table(world_args: list[str]) -> None:
    done = run("verify", "--json", "--transcript", "alice@ok.test", *world_args)
    (record,) = json_lines(done.stdout)
    sent = [t["text"] for t in record["transcript"] if t["direction"] == ">"]
    assert "EHLO verifier.example.net" in sent
    assert "RCPT TO:<alice@ok.test>" in sent
    assert not any(text.startswith(("DATA", "BDAT", "VRFY")) for text in sent)

    table = run("verify", "--table", "--transcript", "alice@ok.test", *world_args).stdout
    assert "    > EHLO verifier.example.net" in table.splitlines()


def test_no_catch_all_probe(world: tuple[MailWorld, DNSServer], world_args: list[str]) -> None:
    done = run("verify", "--no-catch-all-probe", "anyone@catchall.test", *world_args)
    (record,) = json_lines(done.stdout)
    assert record["catch_all"] is None
    assert record["verdict"] == "deliverable"


def test_output_dash_is_standard_output(world_args: list[str]) -> None:
    done = run("verify", "alice@ok.test", "-o", "-", "--no-progress", *world_args)
    assert done.returncode == 0, done.stderr
    assert [r["address"] for r in json_lines(done.stdout)] == ["alice@ok.test"]


# -- verify: input files ---------------------------------------------------------------------


def test_plain_list_from_standard_input(world_args: list[str]) -> None:
    text = "# our customers\n\n  alice@ok.test  \nnobody@ok.test\n\n# the end\nalice@ok.test\n"
    done = run("verify", "-i", "-", *world_args, stdin=text)
    assert done.returncode == 1, done.stderr
    addresses = Counter(r["address"] for r in json_lines(done.stdout))
    assert addresses == Counter({"alice@ok.test": 2, "nobody@ok.test": 1})


def test_csv_file_with_a_column(tmp_path: Path, world_args: list[str]) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        'name,contact,notes\nAlice,alice@ok.test,"likes, commas"\n'
        "Nobody,nobody@ok.test,\nEmpty,,\n",
        encoding="utf-8",
    )
    done = run("verify", "-i", str(source), "--column", "contact", *world_args)
    assert done.returncode == 1, done.stderr
    found = by_address(json_lines(done.stdout))
    assert set(found) == {"alice@ok.test", "nobody@ok.test"}
    assert found["alice@ok.test"]["verdict"] == "deliverable"


def test_csv_flag_and_the_email_column(tmp_path: Path, world_args: list[str]) -> None:
    source = tmp_path / "people.txt"
    source.write_text("\ufeffName,E-Mail\nAlice,alice@ok.test\n", encoding="utf-8")
    done = run("verify", "-i", str(source), "--csv", *world_args)
    assert done.returncode == 0, done.stderr
    assert [r["address"] for r in json_lines(done.stdout)] == ["alice@ok.test"]


def test_output_file_must_not_be_the_input(tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    source.write_text("alice@ok.test\n", encoding="utf-8")
    done = run("verify", "-i", str(source), "-o", str(source))
    assert done.returncode == 2
    assert source.read_text(encoding="utf-8") == "alice@ok.test\n"


# -- verify: resuming ------------------------------------------------------------------------


def slow_list(path: Path, count: int) -> list[str]:
    """A list slow enough to stop mid-run, with duplicates and some quick ones."""
    addresses = [f"user{i}@slow.test" for i in range(count)]
    addresses += ["alice@slow.test"] * 4 + ["bob@slow.test"] * 2
    addresses += ["alice@ok.test", "alice@ok.test", "not an address", "alice@nullmx.test"]
    path.write_text("\n".join(addresses) + "\n", encoding="utf-8")
    return addresses


def check_output(path: Path, addresses: list[str]) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]
    for record in records:
        assert set(record) >= DESIGN_FIELDS
    assert Counter(r["address"] for r in records) == Counter(addresses)
    return records


def test_resume_after_a_kill(tmp_path: Path, world_args: list[str]) -> None:
    source, output = tmp_path / "big.txt", tmp_path / "out.jsonl"
    addresses = slow_list(source, 150)
    args = ["verify", "-i", str(source), "-o", str(output), *world_args]
    with subprocess.Popen(  # noqa: S603 - our own program
        command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as first:
        wait_for_lines(output, first, "@slow.test")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=TIMEOUT)
    written = output.read_text(encoding="utf-8").splitlines()
    assert 0 < len(written) < len(addresses)
    # As if the kill had come in the middle of a write.
    with output.open("a", encoding="utf-8") as handle:
        handle.write('{"address": "user149@slow.te')

    again = run(*args)
    assert again.returncode == 1, again.stderr
    records = check_output(output, addresses)
    assert records[: len(written) - 1] == [json.loads(line) for line in written[:-1]]
    assert f"{len(addresses)} results" in again.stderr


def test_ctrl_c_keeps_what_is_done_and_resumes(tmp_path: Path, world_args: list[str]) -> None:
    source, output = tmp_path / "big.txt", tmp_path / "out.jsonl"
    addresses = slow_list(source, 60)
    args = ["verify", "-i", str(source), "-o", str(output), "--host-concurrency", "1", *world_args]
    with subprocess.Popen(  # noqa: S603 - our own program
        command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as first:
        wait_for_lines(output, first, "@slow.test")
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "run the same command again to resume" in stderr
    before = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert 0 < len(before) < len(addresses)

    again = run(*args)
    assert again.returncode == 1, again.stderr
    check_output(output, addresses)


def test_resume_skips_what_is_done_and_drops_a_cut_line(
    tmp_path: Path, world_args: list[str]
) -> None:
    source, output = tmp_path / "list.txt", tmp_path / "out.jsonl"
    source.write_text("alice@ok.test\nbob@ok.test\nalice@ok.test\n", encoding="utf-8")
    done_before = {
        "address": "alice@ok.test",
        "normalized": "alice@ok.test",
        "verdict": "deliverable",
        "reason": "accepted",
        "mx": "mx.ok.test",
        "smtp": None,
        "catch_all": False,
        "elapsed_ms": 123456,
        "detail": "verified by an earlier run",
    }
    output.write_text(json.dumps(done_before) + '\n{"address": "bob@o', encoding="utf-8")
    done = run("verify", "-i", str(source), "-o", str(output), *world_args)
    assert done.returncode == 0, done.stderr
    records = check_output(output, ["alice@ok.test", "bob@ok.test", "alice@ok.test"])
    assert records[0] == done_before
    assert sum(r["elapsed_ms"] == 123456 for r in records) == 1

    # Everything is done: a third run verifies nothing and keeps the file as it is.
    text = output.read_text(encoding="utf-8")
    done = run("verify", "-i", str(source), "-o", str(output), *world_args)
    assert done.returncode == 0, done.stderr
    assert output.read_text(encoding="utf-8") == text


def test_overwrite_starts_afresh(tmp_path: Path, world_args: list[str]) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text('{"address": "alice@ok.test", "verdict": "unknown"}\n', encoding="utf-8")
    done = run("verify", "alice@ok.test", "-o", str(output), "--overwrite", *world_args)
    assert done.returncode == 0, done.stderr
    (record,) = check_output(output, ["alice@ok.test"])
    assert record["verdict"] == "deliverable"


def test_output_that_is_not_ours_is_left_alone(tmp_path: Path) -> None:
    output = tmp_path / "notes.txt"
    output.write_text("my notes\nmore", encoding="utf-8")
    done = run("verify", "alice@ok.test", "-o", str(output))
    assert done.returncode == 2
    assert "is not a smtpcheck result" in done.stderr
    assert output.read_text(encoding="utf-8") == "my notes\nmore"


# -- demo ------------------------------------------------------------------------------------


def test_demo_shows_every_verdict() -> None:
    started = time.monotonic()
    done = run("demo")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if "@" in line[:30]}
    expected = {
        "alice@ok.test": "deliverable",
        "nobody@ok.test": "mailbox_not_found",
        "anyone@catchall.test": "catch_all",
        "alice@full.test": "mailbox_full",
        "alice@greylist.test": "greylisted",
        "alice@blocked.test": "blocked",
        "alice@nxdomain.test": "no_such_domain",
        "alice@nullmx.test": "null_mx",
    }
    for address, word in expected.items():
        assert word in rows[address], (address, rows.get(address))
    for word in ("deliverable", "undeliverable", "risky", "unknown", "invalid_syntax"):
        assert f" {word} " in done.stdout
    assert "smtpcheck verify you@yourdomain.example --helo-name" in done.stdout
    assert "port 25" in done.stdout


def test_demo_json() -> None:
    done = run("demo", "--json")
    assert done.returncode == 0, done.stderr
    records = json_lines(done.stdout)
    assert {r["verdict"] for r in records} == {v.value for v in Verdict}
    reasons = {r["reason"] for r in records}
    assert {"accepted", "catch_all", "null_mx", "invalid_syntax", "greylisted"} <= reasons
    for record in records:
        assert set(record) >= DESIGN_FIELDS


def test_demo_without_the_testing_extra() -> None:
    code = (
        "import sys; sys.modules['aiosmtpd'] = None; sys.modules['trustme'] = None\n"
        "from smtpcheck._cli import main\n"
        "raise SystemExit(main(['demo']))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own program
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 2
    assert "pip install 'smtpcheck[testing]'" in done.stderr
    assert "Traceback" not in done.stderr


# -- the pieces, in process -------------------------------------------------------------------


def test_plain_addresses() -> None:
    text = "# header\r\n a@example.com\t\r\n\r\n   \n#b@example.com\nc@example.com"
    assert plain_addresses(text) == ["a@example.com", "c@example.com"]


def test_csv_addresses() -> None:
    assert csv_addresses("", None) == []
    assert csv_addresses("Email\na@example.com\n\nb@example.com\n", None) == [
        "a@example.com",
        "b@example.com",
    ]
    assert csv_addresses("only\na@example.com\n", None) == ["a@example.com"]
    assert csv_addresses("id,Mail Address\n1,a@example.com\n2\n", " mail address ") == [
        "a@example.com"
    ]
    with pytest.raises(UsageError, match="use --column"):
        csv_addresses("id,who\n1,a@example.com\n", None)


def reply_result(text: str, address: str = "a@example.com") -> Result:
    return Result(
        address=address,
        normalized=address,
        verdict=Verdict.UNDELIVERABLE,
        reason=Reason.MAILBOX_NOT_FOUND,
        mx="mx.example.com",
        reply=Reply(550, (f"5.1.1 {text}",)),
    )


def test_table_shortens_and_escapes_what_servers_say() -> None:
    hostile = "no such user \x1b[2J\x07 " + "x" * 200
    table = render_table([reply_result(hostile)], width=200)
    assert "\x1b" not in table
    assert "\x07" not in table
    assert "no such user \\x1b[2J\\x07 xxx" in table.splitlines()[1]
    row = render_table([reply_result(hostile)], width=100).splitlines()[1]
    assert len(row) == 100
    assert row.endswith("...")


def test_json_line_is_valid_utf8_whatever_the_server_sent() -> None:
    line = result_json(reply_result("bad byte \udcff here", address="jörg@example.com"))
    line.encode("utf-8")
    assert json.loads(line)["smtp"]["message"] == "bad byte \udcff here"
    readable = result_json(reply_result("fine", address="jörg@example.com"))
    assert "jörg@example.com" in readable


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "not an address"]) == 1
    (record,) = json_lines(capsys.readouterr().out)
    assert record["reason"] == "invalid_syntax"
    assert main(["verify", "--table", "not an address"]) == 1
    assert "invalid_syntax" in capsys.readouterr().out


def test_allow_deny_and_enrichment_fields(world_args: list[str]) -> None:
    done = run(
        "verify",
        "--json",
        *world_args,
        "--allow",
        "nobody@ok.test",
        "--deny",
        "bob@ok.test",
        "nobody@ok.test",
        "bob@ok.test",
        "info@gmial.com",
    )
    records = by_address(json_lines(done.stdout))
    assert (records["nobody@ok.test"]["verdict"], records["nobody@ok.test"]["reason"]) == (
        "deliverable",
        "allowed",
    )
    assert records["bob@ok.test"]["reason"] == "denied"
    typo = records["info@gmial.com"]
    assert (typo["role_account"], typo["suggestion"]) == (True, "info@gmail.com")
    for record in records.values():
        assert {"disposable", "role_account", "free_provider", "suggestion"} <= set(record)


def test_the_table_says_did_you_mean(world_args: list[str]) -> None:
    done = run("verify", "--table", *world_args, "alice@gmial.com")
    assert "did you mean alice@gmail.com?" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--allow", "not a domain"],
        ["--proxy", "http://127.0.0.1:8080"],
    ],
)
def test_bad_list_and_proxy_options_are_usage_errors(args: list[str]) -> None:
    done = run("verify", *args, "a@example.com")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_doctor_is_a_command() -> None:
    done = run("doctor", "--help")
    assert done.returncode == 0
    assert "--public-ip" in done.stdout
