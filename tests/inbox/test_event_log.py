"""The event log: one schema per type, written with its change, never outside it."""

from __future__ import annotations

import pytest
from django.db import transaction

from inbox import actions
from inbox.events import EVENT_SCHEMAS, EventSchemaError, check_event, record_event
from inbox.models import Event
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


def test_every_event_a_conversation_goes_through_matches_its_schema(people: Personas) -> None:
    inbox = make_inbox(people.support)
    conversation = inbound(inbox, "hello").conversation
    actions.do_reply(conversation, "hi", by=people.agent)
    actions.do_add_note(conversation, "note", by=people.agent)
    actions.do_assign(conversation, people.teammate, by=people.agent)
    actions.do_share(conversation, people.org_a, by=people.agent)
    actions.do_unshare(conversation, people.org_a, by=people.agent)
    actions.do_change_status(conversation, "resolved", by=people.agent)
    events = list(Event.objects.all())
    assert {e.type for e in events} >= {
        "conversation.created",
        "conversation.updated",
        "conversation.unshared",
        "message.created",
        "note.created",
    }
    for event in events:
        check_event(event.type, event.data)
        assert EVENT_SCHEMAS[event.type] <= event.data.keys()
        assert event.audience.startswith(" ") and event.audience.endswith(" ")
    assert [e.pk for e in events] == sorted(e.pk for e in events)


def test_an_event_missing_its_data_or_of_unknown_type_is_refused() -> None:
    with pytest.raises(EventSchemaError):
        check_event("message.created", {"conversation": 1})
    with pytest.raises(EventSchemaError):
        check_event("message.exploded", {})


@pytest.mark.django_db(transaction=True)
def test_an_event_cannot_be_written_outside_the_transaction_of_its_change() -> None:
    with pytest.raises(RuntimeError):
        record_event("typing", {"conversation": 1, "typing": True}, {"staff"})


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_leaves_no_event_behind(people: Personas) -> None:
    inbox = make_inbox(people.support)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        inbound(inbox, "rolled back")
        raise ZeroDivisionError
    assert not Event.objects.exists()
