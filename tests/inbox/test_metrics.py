"""Conversation metrics and attribution on hand-built data, with exact figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hub.actions import do_save_deal
from hub.models import Account, Contact, Deal, DealStage
from inbox import actions
from inbox.metrics import attribution, conversation_metrics
from inbox.models import Channel, Conversation, Message
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


def _conversation(inbox, thread: str, assignee, *, by) -> Conversation:  # type: ignore[no-untyped-def]
    conversation = inbound(inbox, "Help", thread_key=thread).conversation
    actions.do_assign(conversation, assignee, by=by)
    return conversation


@pytest.fixture
def window():  # type: ignore[no-untyped-def]
    now = timezone.now()
    return now - timedelta(days=1), now + timedelta(days=1)


def test_first_contact_resolution_counts_one_reply_and_no_customer_coming_back(
    people: Personas, window
) -> None:
    inbox = make_inbox(people.support)
    agent, teammate = people.agent, people.teammate
    # A: one reply, resolved: first-contact resolution.
    a = _conversation(inbox, "a", agent, by=agent)
    actions.do_reply(a, "Fixed", by=agent)
    actions.do_change_status(a, "resolved", by=agent)
    # B: two replies: not first contact.
    b = _conversation(inbox, "b", agent, by=agent)
    actions.do_reply(b, "Try this", by=agent)
    actions.do_reply(b, "Or this", by=agent)
    actions.do_change_status(b, "resolved", by=agent)
    # C: one reply, resolved, the customer writes again (reopens), resolved again.
    c = _conversation(inbox, "c", teammate, by=agent)
    actions.do_reply(c, "Done", by=teammate)
    actions.do_change_status(c, "resolved", by=teammate)
    inbound(inbox, "It is still broken", thread_key="c")
    actions.do_change_status(c, "resolved", by=teammate)
    # D: one reply, resolved by the teammate: first-contact resolution.
    d = _conversation(inbox, "d", teammate, by=agent)
    actions.do_reply(d, "Here you go", by=teammate)
    actions.do_change_status(d, "resolved", by=teammate)
    # E: one reply, still open: not resolved, so not in the rate.
    e = _conversation(inbox, "e", agent, by=agent)
    actions.do_reply(e, "Looking", by=agent)

    [everything] = conversation_metrics(*window)
    assert everything.conversations == 5
    assert everything.resolved == 4
    assert everything.first_contact_resolved == 2
    assert everything.fcr_rate == 50.0

    by_agent = {f.label: f for f in conversation_metrics(*window, "agent")}
    assert by_agent["Alice Agent"].resolved == 2
    assert by_agent["Alice Agent"].first_contact_resolved == 1
    assert by_agent["Alice Agent"].fcr_rate == 50.0
    assert by_agent["Bob Teammate"].fcr_rate == 50.0
    # The survey message sent at resolution has no author: it is not a reply.
    assert Message.objects.filter(conversation=a, metadata__has_key="survey").count() == 1


def test_first_response_and_resolution_times_are_averaged_per_channel(
    people: Personas, window
) -> None:
    chat = make_inbox(people.support)
    sms = make_inbox(people.support, key="sms", channel=Channel.SMS)
    start = timezone.now() - timedelta(hours=5)
    rows = [
        (chat, "c1", 10, 60),  # first response after 10 min, resolved after 60 min
        (chat, "c2", 30, None),
        (sms, "s1", 5, 120),
    ]
    for inbox, thread, response_min, resolution_min in rows:
        conversation = inbound(inbox, "Hi", thread_key=thread).conversation
        Conversation.objects.filter(pk=conversation.pk).update(
            created_at=start,
            first_response_at=start + timedelta(minutes=response_min),
            resolved_at=start + timedelta(minutes=resolution_min) if resolution_min else None,
            status="resolved" if resolution_min else "open",
        )
    figures = {f.key: f for f in conversation_metrics(*window, "channel")}
    assert figures["chat"].first_response_avg == 20 * 60
    assert figures["chat"].resolution_avg == 60 * 60
    assert figures["sms"].first_response_avg == 5 * 60
    assert figures["sms"].resolution_avg == 120 * 60
    only_sms = conversation_metrics(*window, "all", channel="sms")
    assert [f.conversations for f in only_sms] == [1]


def test_conversations_outside_the_range_are_not_counted(people: Personas) -> None:
    inbox = make_inbox(people.support)
    inbound(inbox, "Hi", thread_key="x")
    now = timezone.now()
    assert conversation_metrics(now + timedelta(hours=1), now + timedelta(days=2)) == []


def test_attribution_first_last_and_weighted_multi_touch(people: Personas) -> None:
    email = make_inbox(people.support, key="mail", channel=Channel.EMAIL)
    chat = make_inbox(people.support, key="web", channel=Channel.CHAT)
    sms = make_inbox(people.support, key="sms", channel=Channel.SMS)
    account = Account.objects.create(name="Buyer Ltd")
    contact = Contact.objects.create(name="Buyer", account=account)
    base = timezone.now() - timedelta(days=3)
    for offset, inbox in enumerate((email, chat, sms)):
        message = inbound(inbox, "Interested", thread_key=f"t{offset}", contact=contact).message
        Message.objects.filter(pk=message.pk).update(created_at=base + timedelta(hours=offset))
    do_save_deal(
        Deal(
            title="Big", account=account, contact=contact, value=Decimal(1000), stage=DealStage.WON
        )
    )
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)

    assert attribution(start, end, "first").by_channel == {"email": Decimal("1000.00")}
    assert attribution(start, end, "last").by_channel == {"sms": Decimal("1000.00")}
    multi = attribution(start, end, "multi", weights={"email": 2, "chat": 1, "sms": 1})
    assert multi.deals == 1
    assert multi.by_channel == {
        "chat": Decimal("250.00"),
        "email": Decimal("500.00"),
        "sms": Decimal("250.00"),
    }
    ignoring_sms = attribution(start, end, "multi", weights={"sms": 0})
    assert ignoring_sms.by_channel == {"chat": Decimal("500.00"), "email": Decimal("500.00")}


def test_a_won_deal_without_interactions_is_credited_to_none(people: Personas) -> None:
    account = Account.objects.create(name="Walk-in Ltd")
    do_save_deal(Deal(title="Walk-in", account=account, value=Decimal(70), stage=DealStage.WON))
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    assert attribution(start, end, "last").by_channel == {"none": Decimal("70.00")}


def test_multi_touch_weights_come_from_settings_unless_given(
    people: Personas, settings: object
) -> None:
    settings.ATTRIBUTION_CHANNEL_WEIGHTS = {"email": 3}  # type: ignore[attr-defined]
    email = make_inbox(people.support, key="mail", channel=Channel.EMAIL)
    chat = make_inbox(people.support, key="web", channel=Channel.CHAT)
    account = Account.objects.create(name="Weights Ltd")
    contact = Contact.objects.create(name="Buyer", account=account)
    inbound(email, "Hi", thread_key="m", contact=contact)
    inbound(chat, "Hi", thread_key="c", contact=contact)
    do_save_deal(
        Deal(title="W", account=account, contact=contact, value=Decimal(400), stage=DealStage.WON)
    )
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    result = attribution(start, end, "multi")
    assert result.by_channel == {"chat": Decimal("100.00"), "email": Decimal("300.00")}
