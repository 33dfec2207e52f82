"""Events carry conversations and messages "as the API shows it" (DESIGN §4): the plain
builders of inbox.event_payloads must give exactly what the API serializers give, for
every shape of object, in any active time zone."""

from __future__ import annotations

import json
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.actions import EmailInput, do_create_contact
from hub.models import Account
from inbox import actions
from inbox.attachments import AttachmentInput, do_add_attachments
from inbox.event_payloads import conversation_data, message_data
from inbox.models import Conversation, ConversationShare, Event, Message
from inbox.serializers import ConversationSerializer, MessageSerializer
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


def same(built: dict, serialized: dict) -> None:
    # Equal as values and as the JSON the event log stores (key order included).
    assert built == dict(serialized)
    assert json.dumps(built) == json.dumps(serialized)


def fresh_conversation(pk: int) -> Conversation:
    return (
        Conversation.objects.select_related("contact", "team", "assignee", "inbox")
        .prefetch_related("shares")
        .get(pk=pk)
    )


def varied_conversations(people: Personas) -> list[Conversation]:
    inbox = make_inbox(people.support)
    account = Account.objects.create(name="Acme")
    with_account = do_create_contact("Dana", account=account, emails=[EmailInput("d@acme.test")])
    without_account = do_create_contact("Eve", emails=[EmailInput("eve@x.test")])

    plain = inbound(inbox, "no contact").conversation
    known = inbound(inbox, "with account", contact=with_account).conversation
    loner = inbound(inbox, "without account", contact=without_account).conversation

    assigned_shared = inbound(inbox, "to be shared", contact=with_account).conversation
    actions.do_assign(assigned_shared, people.agent, by=people.supervisor)
    actions.do_share(assigned_shared, people.org_b, by=people.supervisor)
    actions.do_share(assigned_shared, people.org_a, by=people.supervisor)
    actions.do_reply(assigned_shared, "On its way", by=people.agent)

    resolved = inbound(inbox, "resolved").conversation
    actions.do_change_status(resolved, "resolved", by=people.agent)
    snoozed = inbound(inbox, "snoozed").conversation
    actions.do_snooze(snoozed, timezone.now() + timedelta(hours=3), by=people.agent)

    no_team = inbound(inbox, "teamless").conversation
    Conversation.objects.filter(pk=no_team.pk).update(team=None, sla_breached_at=timezone.now())
    ConversationShare.objects.create(conversation=no_team, organization=people.org_a)
    ids = [c.pk for c in (plain, known, loner, assigned_shared, resolved, snoozed, no_team)]
    return [fresh_conversation(pk) for pk in ids]


def test_conversation_data_is_what_the_api_serializer_gives(people: Personas) -> None:
    conversations = varied_conversations(people)
    for conversation in conversations:
        same(conversation_data(conversation), ConversationSerializer(conversation).data)
    # Passing the shares the caller knows gives the same.
    shared = conversations[3]
    partner_ids = [people.org_b.pk, people.org_a.pk]
    same(
        conversation_data(shared, partner_ids=partner_ids),
        ConversationSerializer(shared).data,
    )


def test_conversation_data_follows_the_active_time_zone_like_the_serializer(
    people: Personas,
) -> None:
    conversations = varied_conversations(people)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        for conversation in conversations:
            built = conversation_data(conversation)
            assert "+0" in built["created_at"]
            same(built, ConversationSerializer(conversation).data)


def test_message_data_is_what_the_api_serializer_gives(people: Personas) -> None:
    inbox = make_inbox(people.support)
    received = inbound(inbox, "Hello", sender_address="c@x.test", body_html="<p>Hello</p>")
    reply = actions.do_reply(received.conversation, "Hi there", by=people.agent)
    with_files = inbound(inbox, "see attached").message
    do_add_attachments(
        with_files,
        [
            AttachmentInput("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
            AttachmentInput("photo.png", "image/png", b"\x89PNG....", "photo@x"),
        ],
    )
    Message.objects.filter(pk=reply.pk).update(status="failed", error="The number is invalid.")
    messages = Message.objects.select_related("author").filter(
        pk__in=[received.message.pk, reply.pk, with_files.pk]
    )
    assert len(messages) == 3
    for message in messages:
        same(message_data(message), MessageSerializer(message).data)
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        for message in messages:
            same(message_data(message), MessageSerializer(message).data)
    fresh = Message.objects.get(pk=received.message.pk)
    same(message_data(fresh, without_attachments=True), MessageSerializer(fresh).data)


def recorded_for(received: actions.Received) -> tuple[dict, Event]:
    """The conversation data and the message event an inbound message recorded."""
    message_event = Event.objects.get(type="message.created", data__message__id=received.message.pk)
    conversation_event = (
        Event.objects.filter(
            conversation_id=received.conversation.pk,
            type__in=("conversation.created", "conversation.updated"),
            pk__lt=message_event.pk,
        )
        .order_by("-id")
        .first()
    )
    assert conversation_event is not None
    return conversation_event.data["conversation"], message_event


def test_an_inbound_message_records_what_the_api_shows_after_it(people: Personas) -> None:
    """receive_message builds its events from the objects it wrote, without reading
    them back: the data must still be what the API shows of the stored rows."""
    inbox = make_inbox(people.support)
    contact = do_create_contact("Dana", emails=[EmailInput("dana@x.test")])

    first = inbound(inbox, "Hello", contact=contact, thread_key="t-1")
    conversation, message_event = recorded_for(first)
    stored = fresh_conversation(first.conversation.pk)
    assert conversation == dict(ConversationSerializer(stored).data)
    message = Message.objects.get(pk=first.message.pk)
    assert message_event.data["message"] == dict(MessageSerializer(message).data)

    actions.do_share(first.conversation, people.org_a, by=people.supervisor)
    actions.do_change_status(first.conversation, "resolved", by=people.agent)
    again = inbound(inbox, "Me again", thread_key="t-1", sender_address="dana@x.test")
    assert again.conversation.pk == first.conversation.pk
    conversation, message_event = recorded_for(again)
    stored = fresh_conversation(again.conversation.pk)
    assert conversation == dict(ConversationSerializer(stored).data)
    assert conversation["partners"] == [people.org_a.pk]
    assert conversation["status"] == "open"
    message = Message.objects.get(pk=again.message.pk)
    assert message_event.data["message"] == dict(MessageSerializer(message).data)
    assert f" partner.{people.org_a.pk} " in message_event.audience
