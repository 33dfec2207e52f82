"""`manage.py mail_sync`: one thread per mailbox (IDLE, or polling where the server has
no IDLE) and the outbox sender, in as many processes as you like. A mailbox is read by
the one worker holding its lease (a conditional UPDATE on Mailbox); outbox rows are
claimed the same way, so two workers never ingest or send the same thing."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from mail import actions
from mail.imap import ImapSession, MailboxConnectionError
from mail.models import FolderCheckpoint, Mailbox
from mail.smtp import SendError, send_reply

logger = logging.getLogger(__name__)


def recycle_connections() -> None:
    """close_old_connections() per unit of work, except inside an outer transaction
    (a test, a caller's atomic block), where closing would break that transaction."""
    if not connection.in_atomic_block:
        close_old_connections()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# ---------------------------------------------------------------- leases


def claim_lease(mailbox: Mailbox, owner: str) -> bool:
    """Take or renew the mailbox's lease; False while another live worker holds it."""
    now = timezone.now()
    won = (
        Mailbox.objects.filter(pk=mailbox.pk, is_active=True)
        .filter(Q(lease_owner="") | Q(lease_owner=owner) | Q(lease_expires_at__lt=now))
        .update(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=settings.MAIL_LEASE_SECONDS),
        )
    )
    return bool(won)


def release_lease(mailbox: Mailbox, owner: str) -> None:
    Mailbox.objects.filter(pk=mailbox.pk, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None
    )


# ---------------------------------------------------------------- one pass


@dataclass
class SyncReport:
    counts: dict[str, int] = field(default_factory=dict)
    outcomes: list[actions.IngestResult] = field(default_factory=list)


def sync_folders(mailbox: Mailbox, session: ImapSession, owner: str) -> SyncReport:
    """Read every new mail of the mailbox's folders, one transaction per fetched
    batch (actions.ingest_batch; one per mail when a mail of the batch fails).

    The lease is renewed while reading, once a quarter of its time has passed rather
    than per mail (an autocommitted UPDATE, a disk flush on PostgreSQL, per mail
    halved the ingest rate). Callers claim the lease at most half its time before
    calling, so it is renewed before it can run out; a live lease cannot be taken
    over, and the folder checkpoint each mail's transaction advances keeps two
    workers from storing one mail even if it had been."""
    report = SyncReport()
    renew_every = settings.MAIL_LEASE_SECONDS / 4
    renewed_at = time.monotonic()
    for folder in mailbox.folder_names:
        uidvalidity, exists = session.select(folder)
        checkpoint = actions.checkpoint_for(mailbox, folder, uidvalidity)
        uids = session.new_uids(checkpoint.last_uid) if exists else []
        for raws in session.fetch_batches(uids, max_bytes=settings.MAIL_MAX_MESSAGE_BYTES):
            recycle_connections()
            if time.monotonic() - renewed_at >= renew_every:
                if not claim_lease(mailbox, owner):
                    logger.warning("mailbox %s: lease lost, stopping", mailbox.pk)
                    return report
                renewed_at = time.monotonic()
            results = actions.ingest_batch(
                mailbox,
                folder,
                uidvalidity,
                [actions.FetchedMail(raw.uid, raw.raw, raw.size, raw.oversized) for raw in raws],
            )
            for result in results:
                report.outcomes.append(result)
                report.counts[result.outcome] = report.counts.get(result.outcome, 0) + 1
    Mailbox.objects.filter(pk=mailbox.pk).update(last_synced_at=timezone.now(), last_error="")
    return report


def sync_mailbox_once(mailbox: Mailbox, owner: str) -> SyncReport | None:
    """Connect, read what is new, disconnect. None when another worker holds the lease."""
    if not claim_lease(mailbox, owner):
        return None
    session = ImapSession(mailbox)
    try:
        return sync_folders(mailbox, session, owner)
    finally:
        session.close()


def send_outbox(owner: str) -> int:
    """Send every due outbox row this worker can claim; returns how many were tried."""
    actions.fail_abandoned_sends(older_than=timedelta(seconds=settings.MAIL_SEND_STALE_SECONDS))
    tried = 0
    for item in actions.claim_outbox(owner):
        tried += 1
        recycle_connections()
        try:
            response = send_reply(item)
        except SendError as exc:
            if exc.permanent:
                actions.mark_failed(item, str(exc))
            else:
                actions.mark_retry(item, str(exc))
            continue
        actions.mark_sent(item, response)
    return tried


# ---------------------------------------------------------------- forever


class MailboxWatcher(threading.Thread):
    """Keeps one mailbox in sync: IDLE where offered, polling otherwise, reconnecting
    with exponential backoff after any failure."""

    def __init__(self, mailbox_id: int, owner: str, stop: threading.Event) -> None:
        super().__init__(name=f"mailbox-{mailbox_id}", daemon=True)
        self.mailbox_id = mailbox_id
        self.owner = owner
        self.stop_event = stop
        self.backoff = 1.0

    def run(self) -> None:
        while not self.stop_event.is_set():
            recycle_connections()
            mailbox = (
                Mailbox.objects.select_related("inbox")
                .filter(pk=self.mailbox_id, is_active=True)
                .first()
            )
            if mailbox is None:
                return
            if not claim_lease(mailbox, self.owner):
                self.stop_event.wait(settings.MAIL_LEASE_SECONDS / 2)
                continue
            try:
                self._watch(mailbox)
                self.backoff = 1.0
            except (MailboxConnectionError, OSError, Exception) as exc:  # keep the thread alive
                logger.warning("mailbox %s: %s; retrying in %.0fs", mailbox.pk, exc, self.backoff)
                Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:1000])
                self.stop_event.wait(self.backoff)
                self.backoff = min(self.backoff * 2, settings.MAIL_MAX_BACKOFF_SECONDS)
            finally:
                recycle_connections()
        release_lease(Mailbox(pk=self.mailbox_id), self.owner)
        connection.close()

    def _watch(self, mailbox: Mailbox) -> None:
        session = ImapSession(mailbox)
        try:
            while not self.stop_event.is_set():
                sync_folders(mailbox, session, self.owner)
                recycle_connections()
                if not claim_lease(mailbox, self.owner):
                    return
                wait = min(settings.MAIL_IDLE_SECONDS, settings.MAIL_LEASE_SECONDS / 2)
                if session.supports_idle:
                    # Mail that arrived during the pass would announce nothing in IDLE.
                    folder = mailbox.folder_names[0]
                    _uidvalidity, exists = session.select(folder)
                    checkpoint = FolderCheckpoint.objects.filter(mailbox=mailbox, folder=folder)
                    last_uid = checkpoint.values_list("last_uid", flat=True).first() or 0
                    if exists and session.new_uids(last_uid):
                        continue
                    session.idle(wait, self.stop_event)
                else:
                    self.stop_event.wait(min(settings.MAIL_POLL_SECONDS, wait))
        finally:
            session.close()


def run_forever(stop: threading.Event, *, owner: str | None = None) -> None:
    owner = owner or worker_name()
    watchers: dict[int, MailboxWatcher] = {}
    while not stop.is_set():
        recycle_connections()
        for mailbox_id in Mailbox.objects.filter(is_active=True).values_list("pk", flat=True):
            watcher = watchers.get(mailbox_id)
            if watcher is None or not watcher.is_alive():
                watchers[mailbox_id] = MailboxWatcher(mailbox_id, owner, stop)
                watchers[mailbox_id].start()
        try:
            send_outbox(owner)
        except Exception:
            logger.exception("outbox pass failed")
        stop.wait(settings.MAIL_OUTBOX_POLL_SECONDS)
    for watcher in watchers.values():
        watcher.join(timeout=settings.MAIL_IDLE_SECONDS + 5)


def run_once(*, owner: str | None = None) -> dict[int, SyncReport | None]:
    owner = owner or worker_name()
    reports: dict[int, SyncReport | None] = {}
    for mailbox in Mailbox.objects.select_related("inbox").filter(is_active=True):
        recycle_connections()
        try:
            reports[mailbox.pk] = sync_mailbox_once(mailbox, owner)
        except Exception as exc:  # one broken mailbox must not stop the others
            logger.warning(
                "mailbox %s: %s",
                mailbox.pk,
                exc,
                exc_info=not isinstance(exc, MailboxConnectionError),
            )
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:1000])
            reports[mailbox.pk] = None
        finally:
            release_lease(mailbox, owner)
    send_outbox(owner)
    return reports
