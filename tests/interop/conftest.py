"""Real MTAs from Debian's packages, started on loopback by the test suite (issue 9).

Each MTA runs from its own configuration in a temporary folder, on its own loopback
address and a free non-privileged port, in the foreground as a child of the test run;
no system service is touched. One DNS server on loopback serves the test zone:

- ``shop.test``  -> ``mx.shop.test``  -> 127.0.0.5, Postfix (virtual mailbox domain)
- ``shop2.test`` -> ``mx.shop2.test`` -> 127.0.0.6, Exim (router over a list of mailboxes)

Both MTAs need root (they bind as root and drop to their own users) and their binaries:
``sudo .ci/install-mtas`` installs them. Without either, the tests skip and say so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

import smtpcheck
from smtpcheck.testing._dns import DNSServer

INSTALL_HINT = "install it with `sudo .ci/install-mtas` (Debian 12)"

POSTFIX_IP = "127.0.0.5"
EXIM_IP = "127.0.0.6"
POSTFIX_DOMAIN = "shop.test"
EXIM_DOMAIN = "shop2.test"
POSTFIX_MX = "mx.shop.test"
EXIM_MX = "mx.shop2.test"
HELO = "verifier.example.net"

#: The mailboxes each server knows (lower case, as configured).
MAILBOXES = ("alice", "bob", "carol.jones", "sales")
#: Enough addresses to cross every server limit several times in one bulk run.
BULK_SIZE = 40

#: Where .ci/install-mtas unpacks Exim (it cannot be apt-installed next to Postfix).
EXIM_CANDIDATES = (
    os.environ.get("SMTPCHECK_EXIM", ""),
    "/opt/smtpcheck-mtas/exim4/usr/sbin/exim4",
    "/usr/sbin/exim4",
)
POSTFIX_CANDIDATES = ("/usr/sbin/postfix",)

START_TIMEOUT = 30.0


@dataclass
class MTA:
    """A running MTA: where it listens and how to read its log."""

    name: str
    version: str
    ip: str
    port: int
    domain: str
    mx: str
    folder: Path
    log_files: list[Path] = field(default_factory=list)

    def log(self) -> str:
        """The MTA's log so far (for assertion messages)."""
        parts = []
        for path in self.log_files:
            with contextlib.suppress(OSError):
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)


def _find(candidates: tuple[str, ...], what: str) -> str:
    if os.geteuid() != 0:
        pytest.skip(f"{what} runs as root here (it binds and drops privileges itself)")
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which(Path(candidates[-1]).name)
    if found:
        return found
    pytest.skip(f"{what} is not installed: {INSTALL_HINT}")


def free_port(ip: str) -> int:
    """A free TCP port on *ip* (the MTA binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return int(sock.getsockname()[1])


def wait_for_banner(
    ip: str, port: int, proc: subprocess.Popen[bytes], what: str, log: Callable[[], str]
) -> str:
    """Poll until the server greets us with 220, or fail after START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    last = "no attempt"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before listening:\n{log()}")
        try:
            with socket.create_connection((ip, port), timeout=2) as sock:
                sock.settimeout(5)
                banner = sock.recv(4096).decode(errors="replace")
                with contextlib.suppress(OSError):
                    sock.sendall(b"QUIT\r\n")
                if banner.startswith("220"):
                    return banner.strip()
                last = f"banner {banner!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    pytest.fail(f"{what} did not greet on {ip}:{port} within {START_TIMEOUT}s ({last})")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server we started in its own session, with every process of its group.

    Exim's connection handlers and Postfix's services are its children: waiting for the
    whole group means none of them writes to the folder after it is removed.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def mta_root() -> Iterator[Path]:
    """A world-traversable temporary folder: MTAs drop to their own users."""
    root = Path(tempfile.mkdtemp(prefix="smtpcheck-interop-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="smtpcheck interop")


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, mta_root: Path) -> str:
    path = mta_root / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _write_server_cert(ca: trustme.CA, host: str, folder: Path) -> tuple[Path, Path]:
    cert = ca.issue_cert(host)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_path), append=True)
    cert.private_key_pem.write_to_path(str(key_path))
    cert_path.chmod(0o644)
    key_path.chmod(0o640)
    return cert_path, key_path


@pytest.fixture(scope="session")
def dns() -> Iterator[DNSServer]:
    records = {
        f"{POSTFIX_DOMAIN}.": [("MX", f"10 {POSTFIX_MX}.")],
        f"{POSTFIX_MX}.": [("A", POSTFIX_IP)],
        f"{EXIM_DOMAIN}.": [("MX", f"10 {EXIM_MX}.")],
        f"{EXIM_MX}.": [("A", EXIM_IP)],
    }
    with DNSServer(records) as server:
        yield server


@pytest.fixture
def resolver(dns: DNSServer) -> smtpcheck.Resolver:
    """The default resolver path, pointed at the loopback DNS server."""
    return smtpcheck.Resolver(nameservers=["127.0.0.1"], port=dns.port)


def make_policy(mta: MTA, **changes: object) -> smtpcheck.Policy:
    """The interop tests' policy for *mta*: its port, transcripts, a short budget."""
    base = smtpcheck.Policy(
        port=mta.port,
        allow_special_use=True,
        helo_name=HELO,
        transcript=True,
        tls="opportunistic",
        timeout=20,
        reply_timeout=10,
    )
    return base.replace(**changes)


# --- Postfix -------------------------------------------------------------------------

#: Small limits so a bulk run crosses them quickly: after SOFT errors in a session
#: Postfix sleeps ERROR_SLEEP before each reply; at HARD errors it says 421 and hangs up.
POSTFIX_SOFT_ERROR_LIMIT = 3
POSTFIX_HARD_ERROR_LIMIT = 5
POSTFIX_ERROR_SLEEP = "1s"

POSTFIX_MASTER_CF = """\
{ip}:{port} inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

POSTFIX_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {folder}/spool
data_directory = {folder}/data
mail_owner = postfix
maillog_file = {folder}/maillog
maillog_file_prefixes = {folder}
myhostname = {mx}
mydomain = {domain}
myorigin = $myhostname
mydestination =
# 127.0.0.5 is not an interface address: master.cf binds it explicitly.
inet_interfaces = loopback-only
inet_protocols = ipv4
# The verifier is a stranger, as on the Internet: loopback is not a trusted network,
# so relay checks apply to it (recipient checks do not depend on it).
mynetworks = 192.0.2.1/32
smtpd_client_restrictions =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = {domain}
virtual_mailbox_maps = texthash:{folder}/vmailbox
virtual_mailbox_base = {folder}/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
recipient_delimiter = +
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_soft_error_limit = {soft}
smtpd_hard_error_limit = {hard}
smtpd_error_sleep_time = {sleep}
smtpd_banner = $myhostname ESMTP Postfix
biff = no
alias_maps =
alias_database =
"""


def _postfix_version(postfix: str) -> str:
    postconf = str(Path(postfix).with_name("postconf"))
    out = subprocess.run(  # noqa: S603 - our own arguments
        [postconf, "-d", "-h", "mail_version"], capture_output=True, text=True, check=False
    )
    return f"Postfix {out.stdout.strip()}"


@pytest.fixture(scope="session")
def postfix(ca: trustme.CA, mta_root: Path) -> Iterator[MTA]:
    binary = _find(POSTFIX_CANDIDATES, "Postfix")
    folder = mta_root / "postfix"
    (folder / "etc").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "mail").mkdir()
    (folder / "spool").mkdir()
    folder.chmod(0o755)
    shutil.chown(folder / "data", user="postfix")
    cert, key = _write_server_cert(ca, POSTFIX_MX, folder)
    port = free_port(POSTFIX_IP)
    (folder / "vmailbox").write_text(
        "".join(f"{box}@{POSTFIX_DOMAIN} {POSTFIX_DOMAIN}/{box}/\n" for box in MAILBOXES)
    )
    (folder / "etc" / "master.cf").write_text(POSTFIX_MASTER_CF.format(ip=POSTFIX_IP, port=port))
    (folder / "etc" / "main.cf").write_text(
        POSTFIX_MAIN_CF.format(
            folder=folder,
            ip=POSTFIX_IP,
            domain=POSTFIX_DOMAIN,
            mx=POSTFIX_MX,
            cert=cert,
            key=key,
            soft=POSTFIX_SOFT_ERROR_LIMIT,
            hard=POSTFIX_HARD_ERROR_LIMIT,
            sleep=POSTFIX_ERROR_SLEEP,
        )
    )
    config = str(folder / "etc")
    env = {**os.environ, "MAIL_CONFIG": config}
    # `check` creates the queue directories with their owners; start-fg does not.
    subprocess.run(  # noqa: S603 - our own arguments
        [binary, "-c", config, "check"], capture_output=True, env=env, check=False
    )
    with (folder / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own arguments
            [binary, "-c", config, "start-fg"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    mta = MTA(
        name="postfix",
        version=_postfix_version(binary),
        ip=POSTFIX_IP,
        port=port,
        domain=POSTFIX_DOMAIN,
        mx=POSTFIX_MX,
        folder=folder,
        log_files=[folder / "stdout.log", folder / "maillog"],
    )
    try:
        wait_for_banner(POSTFIX_IP, port, proc, "Postfix", mta.log)
        yield mta
    finally:
        subprocess.run(  # noqa: S603 - our own arguments
            [binary, "-c", config, "stop"], capture_output=True, env=env, check=False
        )
        stop_process(proc)


# --- Exim ----------------------------------------------------------------------------

#: Exim has no error limit of its own; this is the widespread ACL idiom that plays the
#: same part: after this many refused recipients in a session, drop the connection.
EXIM_RCPT_FAIL_LIMIT = 4

EXIM_CONF = """\
primary_hostname = {mx}
domainlist local_domains = {domain}
spool_directory = {folder}/spool
log_file_path = {folder}/log/%slog
pid_file_path = {folder}/exim.pid
local_interfaces = {ip}
daemon_smtp_ports = {port}
tls_advertise_hosts = *
tls_certificate = {cert}
tls_privatekey = {key}
acl_smtp_rcpt = acl_check_rcpt
host_lookup =
rfc1413_hosts =
keep_environment =
smtp_banner = $primary_hostname ESMTP Exim $version_number

begin acl

acl_check_rcpt:
  drop    message   = Too many unknown recipients
          condition = ${{if >{{$rcpt_fail_count}}{{{fail_limit}}}}}
  deny    message   = relay not permitted
          domains   = !+local_domains
  require verify    = recipient
  accept

begin routers

mailboxes:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;{folder}/mailboxes
  local_part_suffix = +*
  local_part_suffix_optional
  transport = devnull

begin transports

devnull:
  driver = appendfile
  file = /dev/null
"""


@pytest.fixture(scope="session")
def exim(ca: trustme.CA, mta_root: Path) -> Iterator[MTA]:
    binary = _find(EXIM_CANDIDATES, "Exim")
    folder = mta_root / "exim"
    for sub in ("spool", "log"):
        (folder / sub).mkdir(parents=True)
        shutil.chown(folder / sub, user="Debian-exim", group="Debian-exim")
    folder.chmod(0o755)
    cert, key = _write_server_cert(ca, EXIM_MX, folder)
    shutil.chown(key, group="Debian-exim")
    port = free_port(EXIM_IP)
    (folder / "mailboxes").write_text("".join(f"{box}:\n" for box in MAILBOXES))
    conf = folder / "exim.conf"
    conf.write_text(
        EXIM_CONF.format(
            folder=folder,
            ip=EXIM_IP,
            port=port,
            domain=EXIM_DOMAIN,
            mx=EXIM_MX,
            cert=cert,
            key=key,
            fail_limit=EXIM_RCPT_FAIL_LIMIT,
        )
    )
    version = subprocess.run(  # noqa: S603 - our own arguments
        [binary, "-C", str(conf), "-bV"], capture_output=True, text=True, check=False
    ).stdout.split("\n", 1)[0]
    with (folder / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own arguments
            [binary, "-C", str(conf), "-bdf"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    mta = MTA(
        name="exim",
        version=version.replace(" version", "").split(" #")[0],
        ip=EXIM_IP,
        port=port,
        domain=EXIM_DOMAIN,
        mx=EXIM_MX,
        folder=folder,
        log_files=[folder / "stdout.log", folder / "log" / "mainlog", folder / "log" / "paniclog"],
    )
    try:
        wait_for_banner(EXIM_IP, port, proc, "Exim", mta.log)
        yield mta
    finally:
        stop_process(proc)
