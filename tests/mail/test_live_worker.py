"""The long-running worker (`mail_sync` without --once) waits with IMAP IDLE and stores
mail as soon as Dovecot announces it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from inbox.models import Event, Message
from mail import worker
from mail.imap import ImapSession
from mail.models import FolderCheckpoint, Mailbox
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running_watcher(mailbox_id: int, name: str) -> Iterator[worker.MailboxWatcher]:
    """A mailbox watcher thread, stopped and joined however the test ends."""
    stop = threading.Event()
    watcher = worker.MailboxWatcher(mailbox_id, name, stop)
    watcher.start()
    try:
        yield watcher
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


def deliver_after_first_sync(dovecot: Dovecot, mailbox: object, name: str, body: str) -> None:
    wait_for(lambda: FolderCheckpoint.objects.filter(mailbox=mailbox).exists(), "first sync")
    dovecot.deliver(
        mailbox.imap_user,  # type: ignore[attr-defined]
        corpus.plain(
            sender=f"{name} <{name.lower()}@shop.test>",
            subject=name,
            body=body,
            message_id=f"<{name.lower()}@shop.test>",
        ),
    )
    wait_for(lambda: Message.objects.filter(body_text=body).exists(), "the mail")


def test_the_worker_stores_mail_announced_while_it_idles(
    make_mailbox: MakeMailbox, dovecot: Dovecot, settings: pytest.FixtureRequest
) -> None:
    settings.MAIL_IDLE_SECONDS = 60
    settings.MAIL_POLL_SECONDS = 60  # a poll would come far too late: only IDLE can pass
    mailbox = make_mailbox()
    with running_watcher(mailbox.pk, "idle-worker"):
        deliver_after_first_sync(dovecot, mailbox, "Live", "Arrives live.")
    assert Event.objects.filter(type="message.created").count() == 1


def test_the_worker_backs_off_and_reconnects_when_the_server_comes_back(
    make_mailbox: MakeMailbox, dovecot: Dovecot, settings: pytest.FixtureRequest
) -> None:
    settings.MAIL_MAX_BACKOFF_SECONDS = 1
    mailbox = make_mailbox()
    dovecot.deliver(
        mailbox.imap_user,
        corpus.plain(
            sender="Late <late@shop.test>",
            subject="Late",
            body="After the outage.",
            message_id="<late@shop.test>",
        ),
    )
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())  # the server is "down"
    with running_watcher(mailbox.pk, "retrying-worker"):
        wait_for(lambda: Mailbox.objects.get(pk=mailbox.pk).last_error != "", "the failure")
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=dovecot.port)  # back up
        wait_for(lambda: Message.objects.filter(body_text="After the outage.").exists(), "the mail")
    assert Mailbox.objects.get(pk=mailbox.pk).last_error == ""


def test_the_worker_polls_a_server_without_idle(
    make_mailbox: MakeMailbox,
    dovecot: Dovecot,
    settings: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImapSession, "supports_idle", property(lambda self: False))
    settings.MAIL_POLL_SECONDS = 0.2
    mailbox = make_mailbox()
    with running_watcher(mailbox.pk, "polling-worker"):
        deliver_after_first_sync(dovecot, mailbox, "Poll", "Found by polling.")
