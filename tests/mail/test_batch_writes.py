"""A fetch batch writes its mails' messages, new conversations and lead-score counts
with one statement per table (mail.actions._BatchWrites, inbox.actions.write_receipts,
hub.scoring.PendingInteractions), and stays correct when that shortcut cannot hold:
a contact changed by someone else after the batch read it, a reply to a mail of the
same batch, the search index that listens to saved messages."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

import kb_documents.signals
from hub.models import AuditLogEntry, Contact
from hub.scoring import ContactChanged, PendingInteractions, deal_value_read
from inbox.models import Conversation, Event, Message
from mail import actions, worker
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot
from tests.write_path import capture, statements

pytestmark = pytest.mark.django_db(transaction=True)

# A batch of known customers' mails, with no auto-assignment: the sync's and the
# batch's own statements, and for all the mails together one UPDATE of the contacts,
# one INSERT of conversations, one of messages, one of Message-ID records, one of
# events and one of search index jobs. Measured 15 on PostgreSQL for ten mails (41
# before: three per mail).
MAX_BATCH_OF_KNOWN_CUSTOMERS = 15


def mail(n: int, sender: str = "Olga Nordmann <olga@nordlys.test>", **headers: str) -> bytes:
    return corpus.plain(
        sender=sender,
        subject=headers.get("subject", f"Order {n}: where is it?"),
        body=f"Hello, where is order {n}?",
        message_id=f"<batch-{n}@nordlys.test>",
        headers={"In-Reply-To": headers["in_reply_to"]} if "in_reply_to" in headers else None,
    )


def test_a_batch_of_known_customers_mail_writes_once_per_table(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox("support-email")
    dovecot.deliver(
        mailbox.imap_user,
        mail(0),
        mail(1, sender="Per Hansen <per@nordlys.test>"),
    )
    worker.run_once(owner="statements")
    worker.release_lease(mailbox, "statements")
    dovecot.deliver(
        mailbox.imap_user,
        *(
            mail(n, sender="Per Hansen <per@nordlys.test>" if n % 2 else "Olga <olga@nordlys.test>")
            for n in range(2, 12)
        ),
    )
    with capture() as batch:
        worker.sync_mailbox_once(mailbox, "statements")

    print(f"statements: ten mails {len(statements(batch))}")
    assert len(statements(batch)) <= MAX_BATCH_OF_KNOWN_CUSTOMERS, "\n".join(statements(batch))
    assert Message.objects.count() == 12
    olga = Contact.objects.get(emails__address="olga@nordlys.test")
    per = Contact.objects.get(emails__address="per@nordlys.test")
    assert (olga.interaction_count, per.interaction_count) == (6, 6)
    # Ids, events and the order of arrival agree.
    messages = list(Message.objects.order_by("id"))
    assert [m.external_id for m in messages] == [f"<batch-{n}@nordlys.test>" for n in range(12)]
    created = [
        e.data["message"]["id"] for e in Event.objects.filter(type="message.created").order_by("id")
    ]
    assert created == [m.pk for m in messages]
    assert all(m.conversation.contact_id in (olga.pk, per.pk) for m in messages)


def test_a_contact_changed_after_the_batch_read_it_is_counted_once_per_mail(
    make_mailbox: MakeMailbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction counts a message of the contact between the batch's read
    and its write: the batch's conditional UPDATE misses, the batch is stored again
    one mail per transaction, and every message is counted once."""
    if connection.vendor != "postgresql":
        pytest.skip("a second connection writing mid-transaction needs PostgreSQL")
    mailbox = make_mailbox("support-email")
    dovecot.deliver(mailbox.imap_user, mail(0))
    worker.run_once(owner="statements")
    worker.release_lease(mailbox, "statements")
    olga = Contact.objects.get(emails__address="olga@nordlys.test")
    assert olga.interaction_count == 1
    dovecot.deliver(mailbox.imap_user, *(mail(n) for n in range(1, 4)))
    real_load = actions._BatchLookups.load
    calls: list[int] = []

    def meanwhile_a_call(mails: Any) -> actions._BatchLookups:
        lookups = real_load(mails)
        if not calls:  # another transaction, committed at once (the batch holds no lock)
            calls.append(1)
            other = connection.get_new_connection(connection.get_connection_params())
            try:
                other.autocommit = True
                other.cursor().execute(
                    "UPDATE hub_contact SET interaction_count = 10 WHERE id = %s", [olga.pk]
                )
            finally:
                other.close()
        return lookups

    monkeypatch.setattr(actions._BatchLookups, "load", meanwhile_a_call)
    worker.sync_mailbox_once(mailbox, "statements")

    assert Message.objects.count() == 4
    assert Contact.objects.get(pk=olga.pk).interaction_count == 13


def test_pending_interactions_refuse_to_overwrite_a_changed_contact(
    make_mailbox: MakeMailbox,
) -> None:
    make_mailbox("support-email")
    contact = Contact.objects.create(name="Olga")
    pending = PendingInteractions()
    pending.count(contact, timezone.now(), deal_value_read(None))
    Contact.objects.filter(pk=contact.pk).update(lead_score=99)
    with pytest.raises(ContactChanged):
        pending.write()


def test_pending_interactions_write_every_contact_and_skip_only_a_changed_one(
    make_mailbox: MakeMailbox,
) -> None:
    """Both forms of the UPDATE (raw on PostgreSQL, the ORM's on SQLite) write each
    contact's own count, time and score, and leave a contact changed since the read
    as the other transaction left it."""
    make_mailbox("support-email")
    at = timezone.now()
    contacts = [Contact.objects.create(name=f"Customer {n}", interaction_count=n) for n in range(3)]
    pending = PendingInteractions()
    for contact in contacts:
        pending.count(contact, at, deal_value_read(None))
    pending.count(contacts[2], at, deal_value_read(None))
    pending.write()
    written = {c.pk: c for c in Contact.objects.filter(pk__in=[c.pk for c in contacts])}
    assert [written[c.pk].interaction_count for c in contacts] == [1, 2, 4]
    assert [written[c.pk].last_interaction_at for c in contacts] == [at, at, at]
    assert [written[c.pk].lead_score for c in contacts] == [c.lead_score for c in contacts]

    later = timezone.now()
    for contact in contacts:
        pending.count(contact, later, deal_value_read(None))
    Contact.objects.filter(pk=contacts[1].pk).update(interaction_count=50)
    with pytest.raises(ContactChanged, match="1 of 3"):
        pending.write()
    assert Contact.objects.get(pk=contacts[1].pk).interaction_count == 50


def test_pending_interactions_are_written_without_per_row_conditions_on_postgresql(
    make_mailbox: MakeMailbox,
) -> None:
    """On PostgreSQL the batch's contacts are written by one statement taking the rows
    as arrays: no CASE/WHEN per row and column nor OR per row for Django to build."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps the ORM's UPDATE")
    make_mailbox("support-email")
    pending = PendingInteractions()
    for n in range(5):
        pending.count(Contact.objects.create(name=f"C{n}"), timezone.now(), deal_value_read(None))
    with capture() as written:
        pending.write()
    (update,) = statements(written)
    assert "CASE" not in update.upper() and " OR " not in update.upper(), update


def test_a_batchs_new_senders_are_created_with_one_insert_per_table(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    """Five new senders (one writing twice), a duplicate of a mail of the batch and a
    bounce: four contacts in mail order, with one INSERT of contacts, one of
    addresses and one of audit rows for them all, the audit rows in the order
    do_create_contact writes them one by one."""
    mailbox = make_mailbox("support-email")
    senders = [f"Customer {n} <customer{n}@shop.test>" for n in range(4)]
    dovecot.deliver(
        mailbox.imap_user,
        *(mail(n, sender=sender) for n, sender in enumerate(senders)),
        mail(4, sender=senders[1]),
        mail(0, sender="Someone Else <else@shop.test>"),  # a duplicate: no contact
    )
    with capture() as batch:
        worker.run_once()

    inserts = [
        sql
        for sql in statements(batch)
        if sql.startswith(('INSERT INTO "hub_contact"', 'INSERT INTO "hub_contactemail"'))
    ]
    assert len(inserts) == 2, "\n".join(inserts)
    contacts = list(Contact.objects.order_by("id"))
    assert [c.name for c in contacts] == [f"Customer {n}" for n in range(4)]
    assert [c.interaction_count for c in contacts] == [1, 2, 1, 1]
    assert not Contact.objects.filter(emails__address="else@shop.test").exists()
    audit = [
        (row.action, row.object_id)
        for row in AuditLogEntry.objects.filter(object_type="hub.contact").order_by("id")
    ]
    assert audit == [
        (action, str(c.pk)) for c in contacts for action in ("email.added", "contact.created")
    ]


def test_a_reply_to_a_mail_of_the_same_batch_joins_its_conversation(
    make_mailbox: MakeMailbox, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox("support-email")
    dovecot.deliver(
        mailbox.imap_user,
        mail(0),
        mail(1, subject="Re: Order 0", in_reply_to="<batch-0@nordlys.test>"),
        mail(2),
    )
    worker.run_once()

    assert Conversation.objects.count() == 2
    first, reply, other = Message.objects.order_by("id")
    assert reply.conversation_id == first.conversation_id != other.conversation_id
    assert Event.objects.filter(type="conversation.updated").count() == 1


def test_messages_of_a_batch_are_indexed_for_search(
    make_mailbox: MakeMailbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bulk_create sends no post_save; write_receipts does, for the search index."""
    indexed: list[Any] = []
    monkeypatch.setattr(
        kb_documents.signals, "index_on_commit", lambda kind, *ids: indexed.append((kind, ids))
    )
    mailbox = make_mailbox("support-email")
    dovecot.deliver(mailbox.imap_user, *(mail(n) for n in range(3)))
    worker.run_once()

    ids = sorted(Message.objects.values_list("pk", flat=True))
    assert sorted(i for kind, found in indexed if kind == "message" for i in found) == ids
