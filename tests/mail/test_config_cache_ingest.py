"""The mail sync reads routing rules, SLA policies, business hours and scoring from
a per-process cache checked once per batch: a change made anywhere is seen by the
next batch."""

from __future__ import annotations

import pytest

from inbox.models import Conversation, RoutingRule
from mail import worker
from tests.factories import Personas
from tests.hub.test_config_cache import another_process_changed_the_configuration
from tests.inbox.routing_fixtures import rule
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(dovecot: Dovecot, user: str, numbers: range) -> None:
    dovecot.deliver(
        user,
        *[
            corpus.plain(
                sender=f"Customer {n} <c{n}@shop.test>",
                subject=f"Billing question {n}",
                body=f"A billing question, number {n}",
                message_id=f"<cache-{n}@shop.test>",
            )
            for n in numbers
        ],
    )


def priorities() -> list[str]:
    return list(Conversation.objects.order_by("id").values_list("priority", flat=True))


def test_a_rule_saved_between_two_batches_routes_the_second(
    make_mailbox: MakeMailbox, dovecot: Dovecot, people: Personas
) -> None:
    mailbox = make_mailbox()
    deliver(dovecot, mailbox.imap_user, range(2))
    worker.run_once()
    rule(people.supervisor, "billing", {"words": ["billing"]}, {"priority": "urgent"})
    deliver(dovecot, mailbox.imap_user, range(2, 4))
    worker.run_once()
    assert priorities() == ["normal", "normal", "urgent", "urgent"]


def test_a_change_made_by_another_process_is_seen_by_the_next_batch(
    make_mailbox: MakeMailbox, dovecot: Dovecot, people: Personas
) -> None:
    mailbox = make_mailbox()
    billing = rule(people.supervisor, "billing", {"words": ["billing"]}, {"priority": "high"})
    deliver(dovecot, mailbox.imap_user, range(2))
    worker.run_once()
    # Another process edits the rule: here no signal runs, only its token arrives.
    RoutingRule.objects.filter(pk=billing.pk).update(actions={"priority": "low"})
    another_process_changed_the_configuration()
    deliver(dovecot, mailbox.imap_user, range(2, 4))
    worker.run_once()
    assert priorities() == ["high", "high", "low", "low"]
