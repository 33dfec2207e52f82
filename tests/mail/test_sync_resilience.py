"""Running the sync twice, killing it mid-batch, deleting in the hub, or running two
workers at once loses and duplicates nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inbox.models import Conversation, Event, Message
from mail import actions, parsing, worker
from mail.models import FolderCheckpoint, Mailbox
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot, free_port


def mails(count: int, prefix: str = "m") -> list[bytes]:
    return [
        corpus.plain(
            sender=f"Customer {n} <c{n}@shop.test>",
            subject=f"Question {n}",
            body=f"Question number {n}",
            message_id=f"<{prefix}{n}@shop.test>",
        )
        for n in range(count)
    ]


def test_a_sync_killed_mid_batch_resumes_without_losing_or_duplicating(
    make_mailbox: MakeMailbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fetch batch (20 mails) is one transaction with its checkpoint: killed while
    storing mail 23, the first batch is kept whole and the second not at all."""
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(25))
    real_receive = actions.receive_message
    calls = {"n": 0}

    def dies_on_the_23rd(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 23:
            raise KeyboardInterrupt  # the process is killed while storing mail 23
        return real_receive(*args, **kwargs)

    monkeypatch.setattr(actions, "receive_message", dies_on_the_23rd)
    with pytest.raises(KeyboardInterrupt):
        worker.run_once()
    assert Message.objects.count() == 20
    assert FolderCheckpoint.objects.get(mailbox=mailbox).last_uid == 20

    monkeypatch.setattr(actions, "receive_message", real_receive)
    worker.run_once()
    worker.run_once()
    assert sorted(Message.objects.values_list("body_text", flat=True)) == sorted(
        f"Question number {n}" for n in range(25)
    )


def test_a_conversation_deleted_in_the_hub_is_never_imported_again(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(2))
    worker.run_once()
    Conversation.objects.get(subject="Question 0").delete()
    worker.run_once()
    assert list(Conversation.objects.values_list("subject", flat=True)) == ["Question 1"]


def test_a_mail_that_breaks_storage_is_kept_raw_and_the_rest_still_arrives(
    make_mailbox: MakeMailbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(3))
    real_parse = parsing.parse

    def breaks_on_one(raw: bytes) -> parsing.ParsedMail:
        if b"Question 1" in raw:
            raise ValueError("parser bug")
        return real_parse(raw)

    monkeypatch.setattr(parsing, "parse", breaks_on_one)
    worker.run_once()
    assert Message.objects.count() == 3
    flagged = Message.objects.get(metadata__has_key="flagged")
    assert "parser bug" in flagged.metadata["flagged"]
    assert flagged.attachments.get().filename == "original.eml"


def test_a_mailbox_leased_by_another_worker_is_left_alone(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(2))
    assert worker.claim_lease(mailbox, "worker-a")
    assert worker.sync_mailbox_once(mailbox, "worker-b") is None
    assert not Message.objects.exists()

    # A worker that died leaves a lease that runs out; then another takes over.
    Mailbox.objects.filter(pk=mailbox.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    report = worker.sync_mailbox_once(mailbox, "worker-b")
    assert report is not None and report.counts == {"stored": 2}
    # Even a worker that thinks it owns the mailbox cannot store a mail twice.
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_owner="")
    FolderCheckpoint.objects.filter(mailbox=mailbox).update(last_uid=0)
    report = worker.sync_mailbox_once(mailbox, "worker-a")
    assert report is not None and report.counts == {"duplicate": 2}
    assert Message.objects.count() == 2


def test_a_renumbered_folder_is_read_again_without_duplicates(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(2))
    worker.run_once()
    FolderCheckpoint.objects.filter(mailbox=mailbox).update(uidvalidity=1)
    dovecot.deliver(mailbox.imap_user, *mails(1, prefix="new"))
    worker.run_once()
    assert Message.objects.count() == 3


def test_ingested_mail_is_in_the_event_log_for_servers_in_other_processes(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    # In the embedded default the worker is its own process: web servers pick its
    # events up from the log, so each stored mail must be there.
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(2))
    worker.run_once()
    created = Event.objects.filter(type="message.created")
    assert created.count() == 2
    team = mailbox.inbox.default_team_id
    assert all(f"team.{team}" in event.audience_keys for event in created)


def test_an_unreachable_server_is_reported_and_the_other_mailboxes_still_sync(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    broken = make_mailbox("broken-email")
    Mailbox.objects.filter(pk=broken.pk).update(imap_port=free_port())
    working = make_mailbox("support-email")
    dovecot.deliver(working.imap_user, *mails(1))
    reports = worker.run_once()
    assert reports[broken.pk] is None
    assert Mailbox.objects.get(pk=broken.pk).last_error
    assert Message.objects.count() == 1


def test_a_mail_that_breaks_its_batch_is_flagged_alone_and_the_others_are_stored(
    make_mailbox: MakeMailbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storing one mail of a batch fails (not parsing it): the batch is stored again
    one mail per transaction, that mail is kept raw and flagged, the others arrive."""
    mailbox = make_mailbox()
    dovecot.deliver(mailbox.imap_user, *mails(5))
    real_receive = actions.receive_message

    def fails_for_question_2(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("body_text") == "Question number 2":
            raise ValueError("a storage bug")
        return real_receive(*args, **kwargs)

    monkeypatch.setattr(actions, "receive_message", fails_for_question_2)
    report = worker.run_once()[mailbox.pk]
    assert report is not None
    assert report.counts == {"stored": 4, "flagged": 1}
    flagged = Message.objects.get(metadata__has_key="flagged")
    assert "ValueError: a storage bug" in flagged.metadata["flagged"]
    assert Message.objects.count() == 5
    assert FolderCheckpoint.objects.get(mailbox=mailbox).last_uid == 5
    worker.run_once()
    assert Message.objects.count() == 5


def test_a_batchs_events_are_in_mail_order_with_attachments_after_their_message(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    """The batch writes its mails' events at its end, except before a mail's
    attachments, whose message.updated must follow that mail's message.created."""
    mailbox = make_mailbox()
    first, last = mails(2)
    dovecot.deliver(
        mailbox.imap_user, first, corpus.alternative_with_attachment("<quote@fjord.test>"), last
    )

    worker.run_once()

    stored = list(Message.objects.order_by("id").values_list("pk", "conversation_id"))
    assert len(stored) == 3
    expected = []
    for message_id, conversation_id in stored:
        expected += [("conversation.created", conversation_id), ("message.created", message_id)]
    expected.insert(4, ("message.updated", stored[1][0]))
    logged = [
        (
            event.type,
            event.data["message"]["id"] if "message" in event.data else event.conversation_id,
        )
        for event in Event.objects.order_by("id")
    ]
    assert logged == expected
