"""REST endpoints of the unified inbox: same permission rules as the socket."""

from __future__ import annotations

import pytest
from django.test import Client

from inbox import actions
from inbox.models import Conversation, ConversationShare, Event, Message
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_and_secret(people: Personas) -> tuple[Conversation, Conversation]:
    inbox = make_inbox(people.support)
    shared = inbound(inbox, "Shared with org A", thread_key="a").conversation
    secret = inbound(inbox, "Internal only", thread_key="b").conversation
    actions.do_share(shared, people.org_a, by=people.agent)
    return shared, secret


def post(client: Client, path: str, data: dict) -> object:
    return client.post(path, data, content_type="application/json")


def test_a_conversation_has_the_contract_fields(people: Personas, shared_and_secret: tuple) -> None:
    body = login_client(people.agent).get("/api/v1/conversations/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    first = body["results"][0]
    for field in ("id", "channel", "status", "subject", "contact", "team", "assignee"):
        assert field in first
    assert first["channel"] == "chat"


def test_lists_filter_by_channel_status_team_and_assignee(
    people: Personas, shared_and_secret: tuple
) -> None:
    shared, secret = shared_and_secret
    actions.do_assign(secret, people.agent, by=people.supervisor)
    actions.do_change_status(shared, "resolved", by=people.agent)
    client = login_client(people.agent)

    def ids(**params: str) -> list[int]:
        return [c["id"] for c in client.get("/api/v1/conversations/", params).json()["results"]]

    assert ids(assignee="me") == [secret.pk]
    assert ids(assignee="none") == [shared.pk]
    assert ids(status="resolved") == [shared.pk]
    assert ids(channel="email") == []
    assert set(ids(team=str(people.support.pk))) == {shared.pk, secret.pk}
    assert set(ids(team="support")) == {shared.pk, secret.pk}
    assert ids(team=str(people.billing.pk)) == []


def test_a_partner_lists_and_reads_only_what_is_shared_and_gets_404_elsewhere(
    people: Personas, shared_and_secret: tuple
) -> None:
    shared, secret = shared_and_secret
    partner = login_client(people.partner_a)
    assert [c["id"] for c in partner.get("/api/v1/conversations/").json()["results"]] == [shared.pk]
    assert partner.get(f"/api/v1/conversations/{shared.pk}/").status_code == 200
    for path in (
        f"/api/v1/conversations/{secret.pk}/",
        f"/api/v1/conversations/{secret.pk}/messages/",
        f"/api/v1/conversations/{secret.pk}/notes/",
        f"/api/v1/conversations/{secret.pk + 999}/",
    ):
        assert partner.get(path).status_code == 404, path
    for action in ("messages", "notes", "assign", "status", "share", "unshare"):
        response = post(partner, f"/api/v1/conversations/{secret.pk}/{action}/", {"body": "x"})
        assert response.status_code == 404, action
    other = login_client(people.partner_b)
    assert other.get("/api/v1/conversations/").json()["count"] == 0
    assert other.get(f"/api/v1/conversations/{shared.pk}/").status_code == 404


def test_a_partner_replies_and_notes_on_a_shared_conversation_but_cannot_run_it(
    people: Personas, shared_and_secret: tuple
) -> None:
    shared, _ = shared_and_secret
    partner = login_client(people.partner_a)
    reply = post(
        partner, f"/api/v1/conversations/{shared.pk}/messages/", {"body": "Part ships Monday"}
    )
    assert reply.status_code == 201
    assert reply.json()["direction"] == "outbound"
    note = post(partner, f"/api/v1/conversations/{shared.pk}/notes/", {"body": "Stock confirmed"})
    assert note.status_code == 201
    assert note.json()["shared_with"] == [people.org_a.pk]
    before = Event.objects.count()
    for action, data in (
        ("assign", {"assignee": people.agent.pk}),
        ("status", {"status": "resolved"}),
        ("share", {"partner": people.org_b.pk}),
    ):
        assert (
            post(partner, f"/api/v1/conversations/{shared.pk}/{action}/", data).status_code == 403
        )
    assert Event.objects.count() == before


def test_partners_see_shared_notes_only(people: Personas, shared_and_secret: tuple) -> None:
    shared, _ = shared_and_secret
    actions.do_add_note(shared, "internal remark", by=people.agent)
    actions.do_add_note(shared, "for the supplier", by=people.agent, share_with=[people.org_a])
    partner_notes = (
        login_client(people.partner_a).get(f"/api/v1/conversations/{shared.pk}/notes/").json()
    )
    assert [n["body"] for n in partner_notes["results"]] == ["for the supplier"]
    staff_notes = (
        login_client(people.teammate).get(f"/api/v1/conversations/{shared.pk}/notes/").json()
    )
    assert [n["body"] for n in staff_notes["results"]] == ["internal remark", "for the supplier"]


def test_a_reply_is_stored_with_its_event_in_one_go(
    people: Personas, shared_and_secret: tuple
) -> None:
    _, secret = shared_and_secret
    client = login_client(people.agent)
    response = post(
        client, f"/api/v1/conversations/{secret.pk}/messages/", {"body": "Looking into it"}
    )
    assert response.status_code == 201
    body = response.json()
    for field in ("id", "conversation", "direction", "body_text", "author", "created_at"):
        assert field in body
    event = Event.objects.filter(type="message.created").latest("id")
    assert event.data["message"]["id"] == body["id"]
    listed = client.get(f"/api/v1/conversations/{secret.pk}/messages/").json()["results"]
    assert [m["body_text"] for m in listed] == ["Internal only", "Looking into it"]


def test_bad_input_gets_400_and_changes_nothing(people: Personas, shared_and_secret: tuple) -> None:
    _, secret = shared_and_secret
    client = login_client(people.agent)
    messages, events = Message.objects.count(), Event.objects.count()
    cases = [
        ("messages", {"body": ""}),
        ("messages", {"body": "x" * 20_001}),
        ("messages", {}),
        ("status", {"status": "exploded"}),
        ("status", {"status": "snoozed"}),
        ("assign", {"assignee": people.partner_a.pk}),
        ("assign", {"assignee": 999_999}),
        ("share", {"partner": 999_999}),
    ]
    for action, data in cases:
        response = post(client, f"/api/v1/conversations/{secret.pk}/{action}/", data)
        assert response.status_code == 400, (action, data, response.content)
        assert response.json()
    assert (Message.objects.count(), Event.objects.count()) == (messages, events)


def test_staff_assign_change_status_and_share(people: Personas, shared_and_secret: tuple) -> None:
    _, secret = shared_and_secret
    client = login_client(people.supervisor)
    assigned = post(
        client, f"/api/v1/conversations/{secret.pk}/assign/", {"assignee": people.teammate.pk}
    )
    assert assigned.json()["assignee"] == people.teammate.pk
    resolved = post(client, f"/api/v1/conversations/{secret.pk}/status/", {"status": "resolved"})
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    snoozed = post(
        client,
        f"/api/v1/conversations/{secret.pk}/status/",
        {"status": "snoozed", "snooze_until": "2099-01-01T09:00:00Z"},
    )
    assert snoozed.json()["status"] == "snoozed"
    shared = post(client, f"/api/v1/conversations/{secret.pk}/share/", {"partner": people.org_b.pk})
    assert shared.json()["partners"] == [people.org_b.pk]
    post(client, f"/api/v1/conversations/{secret.pk}/unshare/", {"partner": people.org_b.pk})
    assert not ConversationShare.objects.filter(conversation=secret).exists()


def test_the_console_state_comes_with_the_event_id_it_reflects(
    people: Personas, shared_and_secret: tuple
) -> None:
    state = login_client(people.agent).get("/api/v1/console/state/").json()
    assert state["event_id"] == Event.objects.latest("id").pk
    assert {c["id"] for c in state["conversations"]} == {c.pk for c in shared_and_secret}
    assert {p["name"] for p in state["presence"]} >= {"Alice Agent", "Bob Teammate"}
    partner_state = login_client(people.partner_a).get("/api/v1/console/state/").json()
    assert [c["id"] for c in partner_state["conversations"]] == [shared_and_secret[0].pk]
    assert partner_state["presence"] == []


def test_an_inbound_redelivery_is_a_no_op(people: Personas) -> None:
    inbox = make_inbox(people.support)
    first = inbound(inbox, "hello", external_id="ext-1")
    events = Event.objects.count()
    again = inbound(inbox, "hello", external_id="ext-1")
    assert not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Event.objects.count() == events


def test_a_customer_writing_again_reopens_a_resolved_conversation(people: Personas) -> None:
    inbox = make_inbox(people.support)
    conversation = inbound(inbox, "first", thread_key="t").conversation
    actions.do_change_status(conversation, "resolved", by=people.agent)
    inbound(inbox, "it broke again", thread_key="t")
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.resolved_at is None


def test_a_snoozed_conversation_wakes_when_its_time_comes(people: Personas) -> None:
    from datetime import timedelta

    from django.utils import timezone

    inbox = make_inbox(people.support)
    conversation = inbound(inbox).conversation
    actions.do_snooze(conversation, timezone.now() + timedelta(hours=1), by=people.agent)
    assert actions.wake_snoozed_conversations() == 0
    assert actions.wake_snoozed_conversations(timezone.now() + timedelta(hours=2)) == 1
    conversation.refresh_from_db()
    assert conversation.status == "open"
