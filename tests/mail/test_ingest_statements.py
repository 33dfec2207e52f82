"""The SQL statements inbound e-mail costs through the mail sync (issue 10's ingest
target): a fixed number per fetch batch plus a fixed number per mail, whatever the
number of routing rules, SLA policies or online agents. Fails when someone adds a
query inside a loop (five rules, five agents or four policies: a query per item
adds four or more per mail)."""

from __future__ import annotations

import pytest

from inbox.models import Message
from mail import worker
from tests.factories import Personas
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot
from tests.write_path import busy_configuration, capture, statements

pytestmark = pytest.mark.django_db(transaction=True)

# A batch of one mail is stored as a mail of its own (ingest_mail). Measured: 27 on
# PostgreSQL (33 before issue 10's write-path work) for a new conversation of a known
# customer, with the sync's own statements (lease, checkpoints, the configuration
# token) and its search index job.
MAX_FIRST_MAIL = 27
# A batch of several mails is one transaction (mail.actions.ingest_batch): what it
# reads once (configuration token, checkpoint, stored keys, contacts with their
# open deal value), what it writes once at its end (the Message-ID records, the
# event-log lock and the events, the checkpoint) plus each mail's own writes and
# the reads that depend on it (assignment), and one INSERT of the batch's search
# index jobs. Measured for five mails on PostgreSQL: 47 (59 before the batch wrote its events and records at its end and the lead
# score stopped reading the contact under lock; 94 before that), i.e. 11 for the
# batch and the sync and 7 per mail (with auto-assignment, a rule on the
# account's tier and a lead score counting deals).
MAX_BATCH = 12
MAX_EACH_MAIL_IN_A_BATCH = 7


def deliver(dovecot: Dovecot, user: str, numbers: range, sender: str) -> None:
    client = dovecot.client(user)
    try:
        for n in numbers:
            client.append(
                "INBOX",
                corpus.plain(
                    sender=sender,
                    subject=f"Order {n}: where is it?",
                    body=f"Hello, where is order {n}?",
                    message_id=f"<statements-{n}@nordlys.test>",
                ),
            )
    finally:
        client.logout()


def test_an_inbound_mail_costs_a_fixed_number_of_statements(
    make_mailbox: MakeMailbox, dovecot: Dovecot, people: Personas
) -> None:
    mailbox = make_mailbox("support-email")
    busy_configuration(people)
    sender = "Olga Nordmann <olga@nordlys.test>"

    deliver(dovecot, mailbox.imap_user, range(1), sender)
    with capture() as one:
        worker.sync_mailbox_once(mailbox, "statements")
    worker.release_lease(mailbox, "statements")
    deliver(dovecot, mailbox.imap_user, range(1, 6), sender)
    with capture() as five:
        worker.sync_mailbox_once(mailbox, "statements")

    assert Message.objects.count() == 6
    first, further = len(statements(one)), len(statements(five))
    print(f"statements: first mail {first}, five more {further}")
    assert first <= MAX_FIRST_MAIL, "\n".join(statements(one))
    assert further <= MAX_BATCH + 5 * MAX_EACH_MAIL_IN_A_BATCH, "\n".join(statements(five))
