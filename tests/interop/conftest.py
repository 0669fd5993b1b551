"""Real MTAs from Debian's packages, started on loopback by the test suite (issue 9).

Each MTA runs from its own configuration in a temporary folder, on its own loopback
address and a free non-privileged port, in the foreground as a child of the test run;
no system service is touched. One DNS server on loopback serves the test zone:

- ``shop.test``  -> ``mx.shop.test``  -> 127.0.0.5, Postfix (virtual mailbox domain)
- ``shop2.test`` -> ``mx.shop2.test`` -> 127.0.0.6, Exim (router over a list of mailboxes)
- ``screened.test`` -> 127.0.0.7, the same Postfix behind postscreen (pregreet and deep
  protocol tests on: a client that passes is told ``450 4.3.2`` and let in next time)
- ``grey.test`` -> 127.0.0.8, the same Postfix asking postgrey (greylisting) at RCPT
- ``single.test`` -> 127.0.0.10, the same Postfix taking one recipient a transaction
  (``smtpd_recipient_limit = 1``: ``452 4.5.3`` to any second RCPT TO)
- ``shop3.test`` and ``shop4.test`` -> 127.0.0.9, OpenSMTPD: ``shop3.test`` filters
  recipients through a static table (unknown ones: ``550 Invalid recipient``),
  ``shop4.test`` only maps them through its virtual table (``524 5.2.4``)

The MTAs need root (they bind as root and drop to their own users) and their binaries:
``sudo .ci/install-mtas`` installs them. Without one, its tests skip and say so.
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
POSTSCREEN_IP = "127.0.0.7"
GREY_IP = "127.0.0.8"
OPENSMTPD_IP = "127.0.0.9"
SINGLE_IP = "127.0.0.10"
SINGLE_DOMAIN = "single.test"
SCREENED_DOMAIN = "screened.test"
GREY_DOMAIN = "grey.test"
OPENSMTPD_DOMAIN = "shop3.test"
OPENSMTPD_VIRTUAL_DOMAIN = "shop4.test"
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
POSTGREY_CANDIDATES = (os.environ.get("SMTPCHECK_POSTGREY", ""), "/usr/sbin/postgrey")
#: Where .ci/install-mtas unpacks OpenSMTPD (it conflicts with Postfix like Exim does).
OPENSMTPD_CANDIDATES = (
    os.environ.get("SMTPCHECK_OPENSMTPD", ""),
    "/opt/smtpcheck-mtas/opensmtpd/usr/sbin/smtpd",
    "/usr/sbin/smtpd",
)
#: How long postgrey greylists a new (client, sender, recipient) triplet, in seconds.
GREYLIST_DELAY = 2

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
    #: Other faces of the same server (postscreen, greylisting), by name.
    siblings: dict[str, MTA] = field(default_factory=dict)

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
    for domain, ip in (
        (SCREENED_DOMAIN, POSTSCREEN_IP),
        (GREY_DOMAIN, GREY_IP),
        (OPENSMTPD_DOMAIN, OPENSMTPD_IP),
        (OPENSMTPD_VIRTUAL_DOMAIN, OPENSMTPD_IP),
        (SINGLE_DOMAIN, SINGLE_IP),
    ):
        records[f"{domain}."] = [("MX", f"10 mx.{domain}.")]
        records[f"mx.{domain}."] = [("A", ip)]
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
# postscreen in front of the same smtpd, with the pregreet and deep protocol tests on.
{ps_ip}:{ps_port} inet n       -       n       -       1       postscreen
  -o postscreen_greet_action=enforce
  -o postscreen_greet_wait=1s
  -o postscreen_pipelining_enable=yes
  -o postscreen_pipelining_action=enforce
  -o postscreen_non_smtp_command_enable=yes
  -o postscreen_non_smtp_command_action=enforce
  -o postscreen_bare_newline_enable=yes
  -o postscreen_bare_newline_action=enforce
smtpd     pass  -       -       n       -       -       smtpd
tlsproxy  unix  -       -       n       -       0       tlsproxy
dnsblog   unix  -       -       n       -       0       dnsblog
# The same smtpd asking postgrey about every known recipient.
{grey_ip}:{grey_port} inet n   -       n       -       -       smtpd
  -o smtpd_recipient_restrictions=$greylisting_restrictions
# The same smtpd taking one recipient a transaction.
{single_ip}:{single_port} inet n -     n       -       -       smtpd
  -o smtpd_recipient_limit=1
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
virtual_mailbox_domains = {domain}, {screened}, {grey}, {single}
# Used by the greylisting service of master.cf only: unknown users are refused at once,
# known ones are greylisted first (the usual order).
greylisting_restrictions = reject_unlisted_recipient,
    check_policy_service inet:127.0.0.1:{postgrey_port}
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
def postgrey_port() -> int:
    """Where postgrey listens; Postfix's greylisting service asks it there."""
    return free_port("127.0.0.1")


@pytest.fixture(scope="session")
def postfix(ca: trustme.CA, mta_root: Path, postgrey_port: int) -> Iterator[MTA]:
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
    ps_port, grey_port = free_port(POSTSCREEN_IP), free_port(GREY_IP)
    single_port = free_port(SINGLE_IP)
    domains = (POSTFIX_DOMAIN, SCREENED_DOMAIN, GREY_DOMAIN, SINGLE_DOMAIN)
    (folder / "vmailbox").write_text(
        "".join(f"{box}@{d} {d}/{box}/\n" for d in domains for box in MAILBOXES)
    )
    (folder / "etc" / "master.cf").write_text(
        POSTFIX_MASTER_CF.format(
            ip=POSTFIX_IP,
            port=port,
            ps_ip=POSTSCREEN_IP,
            ps_port=ps_port,
            grey_ip=GREY_IP,
            grey_port=grey_port,
            postgrey_port=postgrey_port,
            single_ip=SINGLE_IP,
            single_port=single_port,
        )
    )
    (folder / "etc" / "main.cf").write_text(
        POSTFIX_MAIN_CF.format(
            folder=folder,
            ip=POSTFIX_IP,
            domain=POSTFIX_DOMAIN,
            screened=SCREENED_DOMAIN,
            grey=GREY_DOMAIN,
            single=SINGLE_DOMAIN,
            postgrey_port=postgrey_port,
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
    for name, ip, sibling_port, domain in (
        ("postscreen", POSTSCREEN_IP, ps_port, SCREENED_DOMAIN),
        ("greylisting", GREY_IP, grey_port, GREY_DOMAIN),
        ("one-recipient", SINGLE_IP, single_port, SINGLE_DOMAIN),
    ):
        mta.siblings[name] = MTA(
            name=name,
            version=mta.version,
            ip=ip,
            port=sibling_port,
            domain=domain,
            mx=f"mx.{domain}",
            folder=folder,
            log_files=mta.log_files,
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


@pytest.fixture(scope="session")
def postscreen(postfix: MTA) -> MTA:
    """The Postfix of ``postfix`` behind postscreen, on its own address and port."""
    return postfix.siblings["postscreen"]


# --- postgrey ------------------------------------------------------------------------


def wait_for_port(ip: str, port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Poll until *ip*:*port* accepts a connection, or fail after START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((ip, port), timeout=2):
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on {ip}:{port} within {START_TIMEOUT}s")


@pytest.fixture(scope="session")
def postgrey(mta_root: Path, postgrey_port: int) -> Iterator[subprocess.Popen[bytes]]:
    """postgrey on loopback with a short delay and a database of its own."""
    binary = _find(POSTGREY_CANDIDATES, "postgrey")
    folder = mta_root / "postgrey"
    folder.mkdir()
    shutil.chown(folder, user="postgrey")
    empty = folder / "whitelist"
    empty.write_text("")
    with (folder / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own arguments
            [
                binary,
                f"--inet=127.0.0.1:{postgrey_port}",
                f"--dbdir={folder}",
                f"--pidfile={folder}/postgrey.pid",
                f"--delay={GREYLIST_DELAY}",
                # One triplet per client address, not per /24: each test has its own.
                "--lookup-by-host",
                "--auto-whitelist-clients=0",
                f"--whitelist-clients={empty}",
                f"--whitelist-recipients={empty}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port("127.0.0.1", postgrey_port, proc, "postgrey")
        yield proc
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def greylisting(postfix: MTA, postgrey: subprocess.Popen[bytes]) -> MTA:
    """The Postfix of ``postfix`` asking postgrey about every known recipient."""
    return postfix.siblings["greylisting"]


_next_client = iter(range(1, 250))


@pytest.fixture
def client_ip() -> str:
    """A loopback source address of this test's own (postscreen and postgrey key on it)."""
    return f"127.0.10.{next(_next_client)}"


# --- OpenSMTPD -----------------------------------------------------------------------

OPENSMTPD_CONF = """\
pki {mx} cert "{cert}"
pki {mx} key "{key}"
table users file:{folder}/users
table virtuals file:{folder}/virtuals
listen on {ip} port {port} tls pki {mx} hostname {mx}
action "mailboxes" maildir "{folder}/mail" virtual <virtuals>
# shop3.test: a static table of users filters recipients; the rest is "Invalid recipient".
match from any for domain "{domain}" rcpt-to <users> action "mailboxes"
# shop4.test: the virtual table alone (smtpd.conf(5)'s virtual domain example).
match from any for domain "{virtual_domain}" action "mailboxes"
"""


@pytest.fixture(scope="session")
def opensmtpd(ca: trustme.CA, mta_root: Path) -> Iterator[MTA]:
    binary = _find(OPENSMTPD_CANDIDATES, "OpenSMTPD")
    folder = mta_root / "opensmtpd"
    for sub in ("run", "spool", "mail"):
        (folder / sub).mkdir(parents=True)
    folder.chmod(0o755)
    cert, key = _write_server_cert(ca, f"mx.{OPENSMTPD_DOMAIN}", folder)
    key.chmod(0o600)
    port = free_port(OPENSMTPD_IP)
    domains = (OPENSMTPD_DOMAIN, OPENSMTPD_VIRTUAL_DOMAIN)
    (folder / "users").write_text("".join(f"{box}@{OPENSMTPD_DOMAIN}\n" for box in MAILBOXES))
    # Every mailbox is delivered to one system user; nothing is ever delivered here.
    (folder / "virtuals").write_text(
        "".join(f"{box}@{d} nobody\n" for d in domains for box in MAILBOXES)
    )
    conf = folder / "smtpd.conf"
    conf.write_text(
        OPENSMTPD_CONF.format(
            folder=folder,
            ip=OPENSMTPD_IP,
            port=port,
            mx=f"mx.{OPENSMTPD_DOMAIN}",
            cert=cert,
            key=key,
            domain=OPENSMTPD_DOMAIN,
            virtual_domain=OPENSMTPD_VIRTUAL_DOMAIN,
        )
    )
    Path("/var/lib/opensmtpd/empty").mkdir(parents=True, exist_ok=True)
    said = subprocess.run(  # noqa: S603 - our own arguments
        [binary, "-h"], capture_output=True, text=True, check=False
    )
    version = next(
        (line for line in (said.stdout + said.stderr).splitlines() if "OpenSMTPD" in line),
        "OpenSMTPD",
    )
    command = [binary, "-d", "-f", str(conf)]
    unshare = shutil.which("unshare")
    if unshare:
        # Its control socket (/run/smtpd.sock) and queue (/var/spool/smtpd) are compiled
        # in: a mount namespace of its own gives it private ones, so that two test runs
        # on one machine do not meet.
        script = (
            f'mount --make-rprivate / && mount --bind "{folder}/run" /run'
            f' && mount --bind "{folder}/spool" /var/spool && exec "$@"'
        )
        command = [unshare, "--mount", "sh", "-c", script, "opensmtpd", *command]
    with (folder / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own arguments
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    mta = MTA(
        name="opensmtpd",
        version=version.removeprefix("version: "),
        ip=OPENSMTPD_IP,
        port=port,
        domain=OPENSMTPD_DOMAIN,
        mx=f"mx.{OPENSMTPD_DOMAIN}",
        folder=folder,
        log_files=[folder / "stdout.log"],
    )
    mta.siblings["virtual"] = MTA(
        name="opensmtpd-virtual",
        version=mta.version,
        ip=OPENSMTPD_IP,
        port=port,
        domain=OPENSMTPD_VIRTUAL_DOMAIN,
        mx=f"mx.{OPENSMTPD_VIRTUAL_DOMAIN}",
        folder=folder,
        log_files=mta.log_files,
    )
    try:
        wait_for_banner(OPENSMTPD_IP, port, proc, "OpenSMTPD", mta.log)
        yield mta
    finally:
        stop_process(proc)
