"""The IMAP side of a mailbox (imapclient): connect, read new mail by UID, wait with
IDLE. Folders are opened read-only (EXAMINE) and bodies fetched with BODY.PEEK, so the
hub never changes \\Seen: a colleague's mail client shows exactly what it did before."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from mail.models import Mailbox, Security
from mail.secrets import resolve_password


class MailboxConnectionError(RuntimeError):
    """The server could not be reached or refused us; the worker backs off and retries."""


@dataclass(frozen=True)
class RawMail:
    uid: int
    size: int
    raw: bytes
    oversized: bool


class ImapSession:
    def __init__(self, mailbox: Mailbox, *, timeout: float = 30) -> None:
        self.mailbox = mailbox
        try:
            ssl_context = ssl.create_default_context()
            self.client = IMAPClient(
                mailbox.imap_host,
                port=mailbox.imap_port,
                ssl=mailbox.imap_security == Security.TLS,
                ssl_context=ssl_context,
                timeout=timeout,
            )
            if mailbox.imap_security == Security.STARTTLS:
                self.client.starttls(ssl_context)
            self.client.login(
                mailbox.imap_user,
                resolve_password(mailbox.imap_password_env, mailbox.imap_password_encrypted),
            )
        except (OSError, IMAPClientError) as exc:
            raise MailboxConnectionError(f"{mailbox.imap_host}:{mailbox.imap_port}: {exc}") from exc

    @property
    def supports_idle(self) -> bool:
        return self.client.has_capability("IDLE")

    def select(self, folder: str) -> tuple[int, int]:
        """Open a folder read-only; returns its UIDVALIDITY and message count."""
        info = self.client.select_folder(folder, readonly=True)
        return int(info.get(b"UIDVALIDITY", 0)), int(info.get(b"EXISTS", 0))

    def new_uids(self, after_uid: int) -> list[int]:
        # "N:*" always matches the newest message, even below N: filter it out.
        found = self.client.search(["UID", f"{after_uid + 1}:*"])
        return sorted(uid for uid in found if uid > after_uid)

    def fetch(self, uids: list[int], *, max_bytes: int, batch: int = 20) -> Iterator[RawMail]:
        for mails in self.fetch_batches(uids, max_bytes=max_bytes, batch=batch):
            yield from mails

    def fetch_batches(
        self, uids: list[int], *, max_bytes: int, batch: int = 20
    ) -> Iterator[list[RawMail]]:
        """The mails of `uids` in uid order, one list per FETCH of `batch` uids (the
        sync stores each list in one transaction)."""
        for start in range(0, len(uids), batch):
            chunk = uids[start : start + batch]
            sizes = {
                uid: int(data.get(b"RFC822.SIZE", 0))
                for uid, data in self.client.fetch(chunk, ["RFC822.SIZE"]).items()
            }
            small = [uid for uid in chunk if sizes.get(uid, 0) <= max_bytes]
            large = [uid for uid in chunk if uid in sizes and sizes[uid] > max_bytes]
            bodies = self.client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            headers = self.client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}
            mails = []
            for uid in chunk:
                if uid in bodies:
                    mails.append(RawMail(uid, sizes[uid], bodies[uid].get(b"BODY[]") or b"", False))
                elif uid in headers:
                    mails.append(
                        RawMail(uid, sizes[uid], headers[uid].get(b"BODY[HEADER]") or b"", True)
                    )
            if mails:
                yield mails

    def idle(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait (IDLE) for the server to announce new mail; True when it did. Waits in
        one-second slices so that a stopping worker is not held up for minutes."""
        deadline = time.monotonic() + seconds
        self.client.idle()
        try:
            while time.monotonic() < deadline and not (stop and stop.is_set()):
                responses = self.client.idle_check(timeout=1)
                if any(
                    isinstance(response, tuple) and b"EXISTS" in response for response in responses
                ):
                    return True
        finally:
            self.client.idle_done()
        return False

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # closing a broken connection
            with contextlib.suppress(Exception):
                self.client.shutdown()
