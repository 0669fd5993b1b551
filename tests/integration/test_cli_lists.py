"""The command line as a list-cleaning tool, end to end: ``python -m smtpcheck`` in a subprocess.

CSV in and out (the input's columns, dialect, byte order mark, line endings and order
kept), resuming after SIGKILL and SIGTERM, ``--keep``, ``--split``, ``--dedupe``, the
summary and ``--retry``; and the streaming input (lines end at LF or CRLF only, a line too
long to be an address is not copied, memory does not grow with the list).

The mail world runs in this process with a clock of its own (greylisting ends when the
test says so), served through real DNS on loopback.
"""

from __future__ import annotations

import csv
import io
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

from cli_sandbox import command, sandbox_args
from smtpcheck.testing import MailWorld, ManualClock
from smtpcheck.testing._dns import DNSServer

TIMEOUT = 120
RESULT_COLUMNS = [
    "verdict",
    "reason",
    "normalized",
    "mx",
    "smtp_code",
    "smtp_enhanced",
    "smtp_message",
    "catch_all",
    "disposable",
    "role_account",
    "free_provider",
    "suggestion",
    "detail",
]


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def world(clock: ManualClock) -> Iterator[tuple[MailWorld, DNSServer]]:
    started = MailWorld.default(shared_port=0, clock=clock)
    with started, started.dns_server() as dns:
        yield started, dns


@pytest.fixture
def world_args(world: tuple[MailWorld, DNSServer]) -> list[str]:
    return sandbox_args(*world)


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(  # noqa: S603 - our own program, arguments of the test's making
        command(*args), input=stdin, capture_output=True, timeout=TIMEOUT, check=False
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def wait_for(path: Path, process: subprocess.Popen[Any], wanted: bytes) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and wanted in path.read_bytes():
            return
        assert process.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.01)
    pytest.fail(f"no {wanted!r} in {path} within 60 s")


# -- CSV out ---------------------------------------------------------------------------------

CRM_EXPORT = (
    b"\xef\xbb\xbf"
    b'Name,"E-mail",Notes\r\n'
    b'"Doe, Jane",alice@ok.test,"likes, commas"\r\n'
    b"Nobody,nobody@ok.test,\r\n"
    b"No address,,\r\n"
    b'"Two\r\nlines",anyone@catchall.test,  spaced  \r\n'
    b"Shouty,Alice@OK.TEST,\r\n"
)


def test_csv_out_keeps_the_input_rows_dialect_bom_and_crlf(
    tmp_path: Path, world_args: list[str]
) -> None:
    source, output = tmp_path / "crm.csv", tmp_path / "cleaned.csv"
    source.write_bytes(CRM_EXPORT)
    done = run("verify", "-i", str(source), "-o", str(output), *world_args)
    assert done.returncode == 1, done.stderr
    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\xef\xbb\xbf") == 1
    lines = data[3:].split(b"\r\n")
    assert lines[-1] == b""
    assert all(not line.endswith(b"\r") and b"\n" not in line for line in lines[:-1])
    # Each input row as it was (its quoting and spacing too), then the result's cells.
    originals = CRM_EXPORT[3:].split(b"\r\n")
    assert lines[0] == originals[0] + b"," + ",".join(RESULT_COLUMNS).encode()
    assert lines[1].startswith(originals[1] + b",deliverable,accepted,,mx.ok.test,250,2.1.5,")
    assert lines[2].startswith(originals[2] + b",undeliverable,mailbox_not_found,")
    assert lines[3] == originals[3] + b"," * len(RESULT_COLUMNS)  # no address: no answer
    assert lines[4] == originals[4]  # a quoted line break stays in its cell
    assert lines[5].startswith(originals[5] + b",risky,catch_all,")

    rows = read_csv(output)
    assert [row["Name"] for row in rows] == [
        "Doe, Jane",
        "Nobody",
        "No address",
        "Two\r\nlines",
        "Shouty",
    ]
    assert rows[0]["Notes"] == "likes, commas"
    assert rows[3]["Notes"] == "  spaced  "
    assert rows[0]["catch_all"] == "false"
    assert rows[3]["catch_all"] == "true"
    # The normalised form only where it differs from the address.
    assert rows[0]["normalized"] == ""
    assert (rows[4]["E-mail"], rows[4]["normalized"]) == ("Alice@OK.TEST", "Alice@ok.test")
    assert rows[4]["verdict"] == "deliverable"


def test_csv_out_from_a_plain_list_and_semicolons(tmp_path: Path, world_args: list[str]) -> None:
    plain = run("verify", "--format", "csv", "alice@ok.test", "not an address", *world_args)
    rows = list(csv.DictReader(io.StringIO(plain.stdout)))
    assert [(r["email"], r["verdict"]) for r in rows] == [
        ("alice@ok.test", "deliverable"),
        ("not an address", "undeliverable"),
    ]
    source, output = tmp_path / "export.csv", tmp_path / "out.csv"
    source.write_text("id;mail;city\n1;alice@ok.test;Lyon\n2;nobody@ok.test;Metz\n3;bob@ok.test\n")
    done = run("verify", "-i", str(source), "-o", str(output), *world_args)
    assert done.returncode == 1, done.stderr
    lines = output.read_text("utf-8").splitlines()
    assert lines[0].startswith("id;mail;city;verdict;reason;")
    assert lines[1].startswith("1;alice@ok.test;Lyon;deliverable;accepted;")
    assert lines[3].startswith("3;bob@ok.test;;deliverable;accepted;")  # a short row: padded


def test_csv_cells_that_a_server_wrote_are_not_formulas(
    tmp_path: Path, world_args: list[str]
) -> None:
    # A server's reply text ends up in a cell; the sandbox's full.test says "552 ...",
    # and no reply cell may start like a formula.
    output = tmp_path / "out.csv"
    done = run("verify", "alice@full.test", "nobody@gmail.test", "-o", str(output), *world_args)
    assert done.returncode == 1, done.stderr
    for row in read_csv(output):
        for name in ("smtp_message", "detail", "mx"):
            assert not row[name].startswith(("=", "+", "-", "@")), row


# -- resuming a CSV run ------------------------------------------------------------------------


def slow_csv(path: Path, count: int) -> list[str]:
    addresses = [f"user{i}@slow.test" for i in range(count)]
    addresses += ["alice@slow.test"] * 3 + ["alice@ok.test", "not an address"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["n", "email", "note"])
        writer.writerows([i, a, f"row {i}, quoted"] for i, a in enumerate(addresses))
    return addresses


def test_csv_resume_after_sigkill_drops_the_cut_row(tmp_path: Path, world_args: list[str]) -> None:
    source, output = tmp_path / "big.csv", tmp_path / "cleaned.csv"
    addresses = slow_csv(source, 120)
    args = ["verify", "-i", str(source), "-o", str(output), *world_args]
    with subprocess.Popen(  # noqa: S603 - our own program
        command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as first:
        wait_for(output, first, b"@slow.test")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=TIMEOUT)
    before = output.read_bytes()
    written = before.count(b"\r\n") - 1
    assert 0 < written < len(addresses)
    with output.open("ab") as handle:  # as if the kill came in the middle of a write
        handle.write(b'999,"user999@slow.test,"cut in')

    again = run(*args)
    assert again.returncode == 1, again.stderr
    after = output.read_bytes()
    assert after.startswith(before)
    rows = read_csv(output)
    assert [row["email"] for row in rows] == addresses  # each once, in the input's order
    assert [row["n"] for row in rows] == [str(i) for i in range(len(addresses))]
    assert all(row["verdict"] for row in rows)
    assert f"{len(addresses)} results" in again.stderr

    # Done: a third run verifies nothing and leaves the file as it is.
    third = run(*args)
    assert third.returncode == 1, third.stderr
    assert output.read_bytes() == after


def test_sigterm_stops_like_ctrl_c_and_resumes(tmp_path: Path, world_args: list[str]) -> None:
    source, output = tmp_path / "big.csv", tmp_path / "out.jsonl"
    addresses = slow_csv(source, 80)
    args = ["verify", "-i", str(source), "-o", str(output), "--host-concurrency", "1"]
    with subprocess.Popen(  # noqa: S603 - our own program
        command(*args, *world_args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as first:
        wait_for(output, first, b"@slow.test")
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert "terminated: " in stderr
    assert "run the same command again to resume" in stderr
    assert 0 < len(output.read_bytes().splitlines()) < len(addresses)

    again = run(*args, *world_args)
    assert again.returncode == 1, again.stderr
    records = [json.loads(line) for line in output.read_bytes().splitlines()]
    assert Counter(r["address"] for r in records) == Counter(addresses)


def test_resume_refuses_an_output_of_another_input(tmp_path: Path, world_args: list[str]) -> None:
    output = tmp_path / "out.csv"
    assert run("verify", "alice@ok.test", "-o", str(output), *world_args).returncode == 0
    text = output.read_bytes()
    done = run("verify", "bob@ok.test", "-o", str(output), *world_args)
    assert done.returncode == 2
    assert "is not the output of this input" in done.stderr
    assert output.read_bytes() == text


# -- keep, split, dedupe, the summary, retry ---------------------------------------------------

MIXED = [
    "alice@ok.test",
    "nobody@ok.test",
    "anyone@catchall.test",
    "alice@greylist.test",
    "bob@greylist.test",
    "alice@nxdomain.test",
    "bob@ok.test",
    "alice@blocked.test",
]


def test_keep_split_and_a_summary_that_matches_the_rows(
    tmp_path: Path, world_args: list[str]
) -> None:
    source = tmp_path / "list.txt"
    source.write_text("\n".join(MIXED) + "\n", encoding="utf-8")
    kept, folder, summary = tmp_path / "kept.csv", tmp_path / "by-verdict", tmp_path / "s.json"
    done = run(
        "verify",
        "-i",
        str(source),
        "-o",
        str(kept),
        "--keep",
        "deliverable,risky",
        "--split",
        str(folder),
        "--summary",
        "--summary-json",
        str(summary),
        *world_args,
    )
    assert done.returncode == 1, done.stderr
    rows = read_csv(kept)
    assert [r["email"] for r in rows] == ["alice@ok.test", "anyone@catchall.test", "bob@ok.test"]
    assert {r["verdict"] for r in rows} == {"deliverable", "risky"}
    assert sorted(p.name for p in folder.iterdir()) == ["deliverable.csv", "risky.csv"]
    assert [r["email"] for r in read_csv(folder / "risky.csv")] == ["anyone@catchall.test"]

    report = json.loads(summary.read_text("utf-8"))
    assert report["total"] == len(MIXED)
    assert report["verdicts"] == {"deliverable": 2, "undeliverable": 2, "risky": 1, "unknown": 3}
    assert report["verdicts"]["deliverable"] == sum(r["verdict"] == "deliverable" for r in rows)
    assert report["reasons"]["greylisted"] == report["greylisted"] == 2
    assert report["unknown_domains"][0] == {
        "domain": "greylist.test",
        "count": 2,
        "reasons": {"greylisted": 2},
    }
    assert "--retry greylisted" in report["retry_command"]
    assert report["outputs"] == {
        str(kept): 3,
        str(folder / "deliverable.csv"): 2,
        str(folder / "risky.csv"): 1,
    }
    # The text summary says the same.
    assert "8 results: 2 deliverable, 2 undeliverable, 1 risky, 3 unknown" in done.stderr
    assert "2 addresses are still greylisted" in done.stderr
    assert "greylist.test" in done.stderr


def test_retry_asks_the_greylisted_again_and_rewrites_the_file(
    tmp_path: Path, world_args: list[str], clock: ManualClock
) -> None:
    source, output = tmp_path / "list.csv", tmp_path / "cleaned.csv"
    source.write_text(
        "email,id\n" + "".join(f"{a},{i}\n" for i, a in enumerate(MIXED)), encoding="utf-8"
    )
    summary = tmp_path / "s.json"
    args = ["verify", "-i", str(source), "-o", str(output), "--summary-json", str(summary)]
    # Without the catch-all probe: its random mailbox would be greylisted anew. Without
    # the memory file: it would answer "greylisted" until the real clock says so.
    args += ["--no-catch-all-probe", "--no-memory"]
    first = run(*args, *world_args)
    assert first.returncode == 1, first.stderr
    before = read_csv(output)
    assert [r["reason"] for r in before].count("greylisted") == 2
    retry = json.loads(summary.read_text("utf-8"))["retry_command"]
    assert retry.endswith("--retry greylisted")

    clock.advance(301)  # the greylisting servers' delay is over
    again = run(*args, *world_args, "--retry", "greylisted")
    assert again.returncode == 1, again.stderr
    after = read_csv(output)
    assert [r["email"] for r in after] == MIXED
    for old, new in zip(before, after, strict=True):
        if old["reason"] == "greylisted":
            assert (new["verdict"], new["reason"]) == ("deliverable", "accepted"), new
        else:
            assert new == old
    assert not (tmp_path / "cleaned.csv.partial").exists()
    assert json.loads(summary.read_text("utf-8"))["greylisted"] == 0


def test_dedupe_writes_one_row_per_normalised_address(
    tmp_path: Path, world_args: list[str]
) -> None:
    source, output = tmp_path / "list.txt", tmp_path / "out.jsonl"
    source.write_text(
        "alice@ok.test\nalice@OK.TEST\nAlice@ok.test\nalice@ok.test\nbob@ok.test\n", "utf-8"
    )
    summary = tmp_path / "s.json"
    args = ["verify", "-i", str(source), "-o", str(output), "--dedupe"]
    done = run(*args, "--summary-json", str(summary), *world_args)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    # The local part's case matters (RFC 5321), the domain's does not.
    assert [r["address"] for r in records] == ["alice@ok.test", "Alice@ok.test", "bob@ok.test"]
    report = json.loads(summary.read_text("utf-8"))
    assert (report["total"], report["duplicates"]) == (5, 2)
    # Resuming knows which were duplicates.
    again = run(*args, *world_args)
    assert again.returncode == 0, again.stderr
    assert len(output.read_text("utf-8").splitlines()) == 3


def test_the_table_shows_the_normalised_form(world_args: list[str]) -> None:
    done = run("verify", "--table", "Alice@OK.Test", *world_args)
    assert "Alice@OK.Test (Alice@ok.test)" in done.stdout


# -- streaming input ---------------------------------------------------------------------------


def test_lines_end_at_lf_and_crlf_only(world_args: list[str]) -> None:
    text = "alice@ok.test\x0bbob@ok.test\r\nnobody@ok.test\u2028x\nbob@ok.test\x0c\x85\n"
    done = run("verify", "-i", "-", *world_args, stdin=text.encode())
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["address"] for r in records] == [
        "alice@ok.test\x0bbob@ok.test",
        "nobody@ok.test\u2028x",
        "bob@ok.test",
    ]
    assert [r["reason"] for r in records] == ["invalid_syntax", "invalid_syntax", "accepted"]


def test_a_line_too_long_to_be_an_address_is_not_copied(tmp_path: Path) -> None:
    source, output = tmp_path / "list.txt", tmp_path / "out.jsonl"
    with source.open("wb") as handle:
        handle.write(b"not an address\n" + b"x" * 5_000_000 + b"@example.com\nagain not\n")
    done = run("verify", "-i", str(source), "-o", str(output))
    assert done.returncode == 1, done.stderr
    assert output.stat().st_size < 2_000
    records = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    assert [r["reason"] for r in records] == ["invalid_syntax"] * 3
    assert records[1]["address"] == "x" * 64 + "..."
    assert "5,000,012 characters" in records[1]["detail"]


def peak_rss_mib(args: list[str]) -> float:
    """The peak RSS of ``smtpcheck ARGS``, run by a small Python process in between.

    A child forked from this (large) test process would start with its size: the peak
    that the kernel reports for a process includes the time before it runs its program.
    """
    measure = (
        "import resource, subprocess, sys\n"
        "quiet = subprocess.DEVNULL\n"
        "done = subprocess.run(sys.argv[1:], stdout=quiet, stderr=quiet)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own program
        [sys.executable, "-c", measure, *command(*args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    status, peak = done.stdout.split()
    assert status == "1"
    return int(peak) / 1024  # ru_maxrss is in KiB on Linux


def test_memory_does_not_grow_with_the_list(tmp_path: Path) -> None:
    # 300,000 answered addresses: 150 MiB before the writer let go of its results, and
    # 700 MiB to resume from their output; about 40 MiB now, both ways.
    source, output = tmp_path / "list.txt", tmp_path / "out.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        handle.writelines(f"user{i}@example.test\n" for i in range(300_000))
    args = ["verify", "-i", str(source), "-o", str(output), "--no-progress"]
    assert peak_rss_mib(args) < 90
    with output.open("rb") as handle:  # counted as a stream: a child forked from a big
        assert sum(1 for _ in handle) == 300_000  # test process would start big too
    assert peak_rss_mib(args) < 90  # resuming: reads both files, verifies nothing


def test_results_come_in_the_input_order(world_args: list[str]) -> None:
    # slow.test answers in 50 ms steps; the invalid ones are answered at once.
    addresses = ["alice@slow.test", "bad", "bob@slow.test", "worse", "alice@ok.test"]
    done = run("verify", "--json", *addresses, *world_args)
    assert [json.loads(line)["address"] for line in done.stdout.splitlines()] == addresses


def test_counts_in_the_one_line_summary(tmp_path: Path, world_args: list[str]) -> None:
    output = tmp_path / "out.jsonl"
    done = run("verify", *MIXED[:3], "-o", str(output), *world_args)
    assert "3 results: 1 deliverable, 1 undeliverable, 1 risky in" in done.stderr
    assert Counter(json.loads(line)["verdict"] for line in output.read_text().splitlines()) == {
        "deliverable": 1,
        "undeliverable": 1,
        "risky": 1,
    }


def test_split_and_keep_resume_after_sigkill(tmp_path: Path, world_args: list[str]) -> None:
    source, kept, folder = tmp_path / "list.txt", tmp_path / "kept.jsonl", tmp_path / "split"
    addresses = [f"user{i}@slow.test" if i % 5 else "alice@slow.test" for i in range(150)]
    source.write_text("\n".join(addresses) + "\n", encoding="utf-8")
    args = ["verify", "-i", str(source), "-o", str(kept), "--keep", "undeliverable"]
    args += ["--split", str(folder), *world_args]
    with subprocess.Popen(  # noqa: S603 - our own program
        command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as first:
        wait_for(kept, first, b"user2@slow.test")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=TIMEOUT)
    assert not (folder / "deliverable.jsonl").exists()  # --keep holds for --split too
    split = folder / "undeliverable.jsonl"
    assert 0 < len(split.read_bytes().splitlines()) < 120

    summary = tmp_path / "s.json"
    again = run(*args, "--summary-json", str(summary))
    assert again.returncode == 1, again.stderr
    wanted = [a for a in addresses if a != "alice@slow.test"]
    for path in (kept, split):
        records = [json.loads(line) for line in path.read_bytes().splitlines()]
        assert [r["address"] for r in records] == wanted
        assert {r["verdict"] for r in records} == {"undeliverable"}
    report = json.loads(summary.read_text("utf-8"))
    assert report["verdicts"]["undeliverable"] == len(wanted)
    # The deliverable ones that the first run left out are counted, without a verdict.
    assert report["verdicts"]["deliverable"] + report["not_kept_earlier"] == 30
    assert report["total"] == len(addresses)


def test_an_output_a_row_behind_the_others_is_completed_on_resume(
    tmp_path: Path, world_args: list[str]
) -> None:
    # A kill between writing a result to --split's file and to -o's leaves -o a row
    # behind: the resumed run copies that row, it neither loses nor repeats it.
    source, kept, folder = tmp_path / "list.txt", tmp_path / "kept.jsonl", tmp_path / "split"
    addresses = [f"nobody{i}@ok.test" for i in range(6)]
    source.write_text("\n".join(addresses) + "\n", encoding="utf-8")
    args = ["verify", "-i", str(source), "-o", str(kept), "--split", str(folder), *world_args]
    first = run(*args)
    assert first.returncode == 1, first.stderr
    lines = kept.read_bytes().splitlines(keepends=True)
    kept.write_bytes(b"".join(lines[:-2]))  # the last two rows reached only the split file
    again = run(*args)
    assert again.returncode == 1, again.stderr
    for path in (kept, folder / "undeliverable.jsonl"):
        records = [json.loads(line) for line in path.read_bytes().splitlines()]
        assert [r["address"] for r in records] == addresses, path


def test_verbose_shows_the_library_log_on_stderr(world_args: list[str]) -> None:
    quiet = run("verify", "alice@ok.test", *world_args)
    assert "smtpcheck:" not in quiet.stderr
    loud = run("verify", "-vv", "--no-memory", "alice@ok.test", *world_args)
    assert loud.returncode == 0, loud.stderr
    assert "DEBUG smtpcheck: resolved ok.test" in loud.stderr
    assert [json.loads(line)["verdict"] for line in loud.stdout.splitlines()] == ["deliverable"]
