"""Real mail servers on loopback for the tests: Dovecot with a throw-away configuration
and one user per test mailbox, and aiosmtpd as the SMTP server."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)
DOVEADM = shutil.which("doveadm") or (
    "/usr/bin/doveadm" if Path("/usr/bin/doveadm").exists() else None
)
PASSWORD = "imap-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    root: Path
    port: int
    config: Path
    users: set[str] = field(default_factory=set)

    def add_user(self, user: str) -> str:
        """Any user name logs in with PASSWORD (a static passdb): each test mailbox
        takes a fresh name and so gets a maildir of its own."""
        self.users.add(user)
        return user

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client

    def deliver(
        self, user: str, *messages: bytes, folder: str = "INBOX", flags: tuple = ()
    ) -> None:
        """APPEND: the mail is in the server as if its MTA had delivered it."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw, flags=flags)
        finally:
            client.logout()

    def stop(self) -> None:
        subprocess.run([DOVEADM, "-c", str(self.config), "stop"], capture_output=True, timeout=20)


def start_dovecot() -> Dovecot:
    root = Path(tempfile.mkdtemp(prefix="hub-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 - Dovecot's own user must reach its maildir
    port = free_port()
    if os.getuid() == 0:
        account = pwd.getpwnam("dovecot") if _has_user("dovecot") else pwd.getpwnam("nobody")
        internal = "dovecot" if _has_user("dovecot") else "nobody"
        login = "dovenull" if _has_user("dovenull") else internal
    else:
        account = pwd.getpwuid(os.getuid())
        internal = login = account.pw_name
    for sub in ("mail", "home"):
        (root / sub).mkdir()
        os.chown(root / sub, account.pw_uid, account.pw_gid) if os.getuid() == 0 else None
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={account.pw_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
    )
    # Dovecot daemonizes and its children keep inherited pipes open: no capture_output.
    with (root / "start.log").open("w") as start_log:
        code = subprocess.call(
            [DOVECOT, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=start_log, timeout=20
        )
    if code != 0:
        raise RuntimeError(f"dovecot did not start: {(root / 'start.log').read_text()}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot is not listening on {port}: {log[-2000:]}")
    return Dovecot(root=root, port=port, config=config)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class RecordingHandler:
    """aiosmtpd handler that keeps every mail; `replies` scripts the answers to DATA
    (e.g. a 451 first), after which it accepts."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.replies: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.received.append(envelope)
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.handler = RecordingHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        if self.controller.loop.is_running():
            self.controller.stop()
