"""The Twilio voice webhook: signed requests only, one call per CallSid, a phone
conversation in the inbox, the screen pop to the routed agents, and TwiML that rings,
queues or takes a voicemail."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from hub.actions import PhoneInput, do_create_contact
from hub.models import Account, Contact, Deal, Tag, Task
from inbox.models import AgentPresence, Conversation, Event, Inbox, Message
from telephony.actions import calls as call_actions
from telephony.models import AgentLine, Call
from telephony.screen_pop import CONVERSATIONS_SCANNED, screen_pop_for
from tests.factories import Personas
from tests.inbox.routing_fixtures import rule
from tests.inbox_fixtures import inbound, make_inbox
from tests.telephony.conftest import OUR_NUMBER, call_params, sign, twilio_post, twiml

pytestmark = pytest.mark.django_db

VOICE = "/telephony/twilio/voice/"


def online(*users: Any) -> None:
    for user in users:
        AgentPresence.objects.update_or_create(user=user, defaults={"effective": "online"})


def events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(type=event_type).order_by("id"))


def test_an_unsigned_or_forged_call_is_refused_and_changes_nothing(phone_inbox: Inbox) -> None:
    params = call_params()
    assert twilio_post(VOICE, params, signature="").status_code == 403
    assert twilio_post(VOICE, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    forged = sign(VOICE, params, token="someone-elses-token")
    assert twilio_post(VOICE, params, signature=forged).status_code == 403
    # Signed for another URL, or the params changed after signing.
    assert twilio_post(VOICE, params, signature=sign("/other/", params)).status_code == 403
    tampered = {**params, "From": "+15551234567"}
    assert twilio_post(VOICE, tampered, signature=sign(VOICE, params)).status_code == 403
    assert Call.objects.count() == 0
    assert Conversation.objects.count() == 0
    assert Event.objects.count() == 0


def test_without_a_configured_auth_token_every_webhook_is_refused(
    phone_inbox: Inbox, settings: Any
) -> None:
    params = call_params()
    signature = sign(VOICE, params)
    settings.TWILIO_AUTH_TOKEN = ""
    assert twilio_post(VOICE, params, signature=signature).status_code == 403
    assert Call.objects.count() == 0


def test_a_known_caller_rings_the_online_agents_and_pops_their_profile(
    people: Personas, phone_inbox: Inbox
) -> None:
    online(people.agent, people.teammate)
    AgentLine.objects.create(user=people.teammate, forward_number="+4915112345678")
    acme = Account.objects.create(name="Acme Corp", country="US")
    customer = do_create_contact(
        "Dana Customer", account=acme, phones=[PhoneInput("(415) 555-0132")], country="US"
    )
    customer.tags.add(Tag.objects.create(name="vip"))
    Deal.objects.create(title="Fleet renewal", account=acme, contact=customer, value=5000)
    chat = make_inbox(people.support, key="web")
    inbound(chat, "Where is my invoice?", contact=customer)

    root = twiml(twilio_post(VOICE, call_params(caller="+14155550132")))

    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("action", "").endswith("/telephony/twilio/voice/after-dial/")
    assert [c.text for c in dial.findall("Client")] == [f"agent-{people.agent.pk}"]
    assert [n.text for n in dial.findall("Number")] == ["+4915112345678"]
    for leg in [*dial.findall("Client"), *dial.findall("Number")]:
        assert leg.get("statusCallbackEvent") == "answered"
    call = Call.objects.get()
    assert call.contact == customer
    assert call.conversation.channel == "phone"
    assert call.conversation.inbox == phone_inbox
    assert call.conversation.contact == customer

    (pop,) = events("call.incoming")
    assert pop.audience_keys >= {
        f"team.{people.support.pk}",
        f"user.{people.agent.pk}",
        f"user.{people.teammate.pk}",
    }
    assert f"team.{people.sales.pk}" not in pop.audience_keys
    data = pop.data
    assert data["call"]["sid"] == call.sid
    assert data["call"]["from"] == "+14155550132"
    assert data["call"]["to"] == OUR_NUMBER
    assert data["call"]["status"] == "ringing"
    profile = data["contact"]
    assert profile["name"] == "Dana Customer"
    assert profile["account"]["name"] == "Acme Corp"
    assert profile["phones"][0]["e164"] == "+14155550132"
    assert profile["tags"] == ["vip"]
    assert [d["title"] for d in profile["open_deals"]] == ["Fleet renewal"]
    # The customer's history: the pop commits before this call's own conversation
    # and message are written (telephony.actions.calls.do_receive_call).
    channels = {i["channel"] for i in profile["recent_interactions"]}
    assert channels == {"chat"}
    assert data["call"]["conversation"] is None
    assert any(c["channel"] == "chat" for c in profile["open_conversations"])
    assert "pinned_notes" in profile


def test_the_same_callsid_delivered_twice_makes_one_call(
    people: Personas, phone_inbox: Inbox
) -> None:
    online(people.agent)
    first = twiml(twilio_post(VOICE, call_params()))
    second = twiml(twilio_post(VOICE, call_params()))
    assert Call.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert len(events("call.incoming")) == 1
    assert [c.text for c in second.iter("Client")] == [c.text for c in first.iter("Client")]


def test_an_unknown_caller_pops_with_no_contact(people: Personas, phone_inbox: Inbox) -> None:
    online(people.agent)
    twiml(twilio_post(VOICE, call_params(caller="anonymous")))
    (pop,) = events("call.incoming")
    assert pop.data["contact"] is None
    assert pop.data["candidates"] == []
    assert Call.objects.get().customer_e164 == ""


def test_a_switchboard_number_pops_the_candidates_with_their_accounts(
    people: Personas, phone_inbox: Inbox
) -> None:
    online(people.agent)
    acme = Account.objects.create(name="Acme Corp")
    do_create_contact("Ann", account=acme, phones=[PhoneInput("+1 415 555 0100")])
    do_create_contact("Ben", account=acme, phones=[PhoneInput("415.555.0100")], country="US")
    twiml(twilio_post(VOICE, call_params(caller="+14155550100")))
    (pop,) = events("call.incoming")
    assert pop.data["contact"] is None
    assert [c["name"] for c in pop.data["candidates"]] == ["Ann", "Ben"]
    assert {c["account"]["name"] for c in pop.data["candidates"]} == {"Acme Corp"}
    assert Call.objects.get().contact is None


def test_when_every_online_agent_is_busy_the_caller_queues_with_hold_music(
    people: Personas, phone_inbox: Inbox
) -> None:
    online(people.agent)
    people.agent.capacity = 1
    people.agent.save()
    conversation = inbound(make_inbox(people.support, key="web")).conversation
    conversation.assignee = people.agent
    conversation.save()

    root = twiml(twilio_post(VOICE, call_params()))
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    hold_path = "/telephony/twilio/voice/hold/"
    assert enqueue.get("waitUrl", "").endswith(hold_path)
    hold = twiml(
        twilio_post(
            hold_path,
            {"CallSid": call_params()["CallSid"], "QueuePosition": "1", "QueueTime": "0"},
        )
    )
    assert hold.find("Say") is not None
    assert hold.find("Play") is not None
    assert hold.find("Leave") is None
    assert Call.objects.get().outcome == "queue"


def test_when_nobody_is_online_the_caller_gets_voicemail_with_transcription(
    people: Personas, phone_inbox: Inbox
) -> None:
    root = twiml(twilio_post(VOICE, call_params()))
    assert root.find("Dial") is None
    record = root.find("Record")
    assert record is not None
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback", "").endswith("/telephony/twilio/voice/recording/")
    assert record.get("recordingStatusCallback", "").endswith("/telephony/twilio/voice/recording/")
    assert Call.objects.get().outcome == "voicemail"
    # Nobody was rung, but the team still sees the call.
    (pop,) = events("call.incoming")
    assert pop.audience_keys == {f"team.{people.support.pk}"}


def test_an_agent_away_is_not_rung(people: Personas, phone_inbox: Inbox) -> None:
    online(people.agent)
    AgentPresence.objects.update_or_create(user=people.teammate, defaults={"effective": "away"})
    root = twiml(twilio_post(VOICE, call_params()))
    assert [c.text for c in root.iter("Client")] == [f"agent-{people.agent.pk}"]


def test_a_call_to_a_number_no_inbox_answers_is_told_so(phone_inbox: Inbox) -> None:
    root = twiml(twilio_post(VOICE, {**call_params(), "To": "+15005550001"}))
    assert root.find("Hangup") is not None
    assert Call.objects.count() == 0


def test_a_call_without_a_callsid_is_a_bad_request(phone_inbox: Inbox) -> None:
    params = call_params()
    del params["CallSid"]
    assert twilio_post(VOICE, params).status_code == 400
    assert Call.objects.count() == 0


def database_gone(*args: Any, **kwargs: Any) -> None:
    raise OperationalError("server closed the connection unexpectedly")


def test_a_database_failure_before_the_pop_gives_twilio_a_5xx_and_writes_nothing(
    people: Personas, phone_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    online(people.agent)
    # The first transaction's last write: the call.incoming event.
    monkeypatch.setattr(call_actions, "record_event", database_gone)
    response = twilio_post(VOICE, call_params(), client=Client(raise_request_exception=False))
    assert response.status_code == 500
    assert Call.objects.count() == 0
    assert Conversation.objects.count() == 0
    assert Message.objects.count() == 0
    assert Event.objects.count() == 0
    monkeypatch.undo()
    # Twilio's retry then goes through as if it were the first delivery.
    twiml(twilio_post(VOICE, call_params()))
    assert Call.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert len(events("call.incoming")) == 1
    assert Task.objects.count() == 0


def test_a_failure_after_the_pop_gives_a_5xx_and_the_retry_completes_the_call_once(
    people: Personas, phone_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pop's transaction committed, the conversation's failed: Twilio gets a 5xx
    and retries; the retry writes the call's conversation, and pops no screen again."""
    online(people.agent)
    do_create_contact("Dana", phones=[PhoneInput("+14155550132")])
    # The second transaction's last write: the conversation's events and call.updated.
    monkeypatch.setattr(call_actions, "record_events", database_gone)
    response = twilio_post(VOICE, call_params(), client=Client(raise_request_exception=False))
    assert response.status_code == 500
    call = Call.objects.get()
    assert call.conversation_id is None
    assert call.rung_user_ids == [people.agent.pk]
    assert Conversation.objects.count() == 0
    assert Message.objects.count() == 0
    assert [event.type for event in Event.objects.all()] == ["call.incoming"]
    monkeypatch.undo()

    answer = twiml(twilio_post(VOICE, call_params()))
    assert [c.text for c in answer.find("Dial").findall("Client")] == [f"agent-{people.agent.pk}"]
    call.refresh_from_db()
    conversation = Conversation.objects.get()
    assert call.conversation == conversation
    assert conversation.contact == call.contact
    assert conversation.team == people.support
    assert Message.objects.get().external_id == f"call:twilio:{call.sid}"
    assert len(events("call.incoming")) == 1
    (linked,) = events("call.updated")
    assert linked.data["call"]["conversation"] == conversation.pk
    # Another retry finds everything in place.
    twiml(twilio_post(VOICE, call_params()))
    assert (Call.objects.count(), Conversation.objects.count(), Message.objects.count()) == (
        1,
        1,
        1,
    )
    assert (
        Event.objects.count() == 4
    )  # call.incoming, conversation.created, message.created, call.updated


def test_a_retried_call_writes_its_conversation_into_the_team_it_rang(
    people: Personas, phone_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule changed between the pop and the retry that writes the conversation: the
    conversation still goes where the call rang (the call and it never part)."""
    online(people.agent)
    monkeypatch.setattr(call_actions, "record_events", database_gone)
    response = twilio_post(VOICE, call_params(), client=Client(raise_request_exception=False))
    assert response.status_code == 500
    monkeypatch.undo()
    rule(people.supervisor, "Phone to billing", {"channel": ["phone"]}, {"team": "billing"})

    twiml(twilio_post(VOICE, call_params()))

    conversation = Conversation.objects.get()
    assert Call.objects.get().team == conversation.team == people.support
    assert "the call already rang team Support: team Support" in conversation.routing_trace


def test_a_caller_saved_from_the_pop_before_the_conversation_is_written_is_its_contact(
    people: Personas, phone_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent saves the unknown caller between the pop's commit and the conversation's
    write: the conversation belongs to the saved contact."""
    online(people.agent)
    open_conversation = call_actions._open_conversation
    saved: list[Contact] = []

    def agent_saves_the_caller_first(inbox: Inbox, call: Call, contact: Any) -> None:
        popped = Call.objects.get(pk=call.pk)
        saved.append(
            call_actions.do_create_contact_for_call(popped, name="Harriet", by=people.agent)
        )
        open_conversation(inbox, call, contact)

    monkeypatch.setattr(call_actions, "_open_conversation", agent_saves_the_caller_first)
    twiml(twilio_post(VOICE, call_params()))

    conversation = Conversation.objects.get()
    assert conversation.contact == saved[0]
    assert Call.objects.get().contact == saved[0]
    assert Message.objects.get().sender_name == "Harriet"


def test_the_screen_pop_costs_the_same_few_queries_however_busy_the_contact_is(
    people: Personas, phone_inbox: Inbox, django_assert_max_num_queries: Any
) -> None:
    acme = Account.objects.create(name="Acme Corp")
    customer = do_create_contact("Dana", account=acme, phones=[PhoneInput("+14155550132")])
    chat = make_inbox(people.support, key="web")
    for index in range(30):
        inbound(chat, f"message {index}", contact=customer, thread_key=f"t{index % 6}")
        Deal.objects.create(title=f"Deal {index}", account=acme, value=index)
    twiml(twilio_post(VOICE, call_params()))
    call = Call.objects.get()
    # The contact with account, phones, emails and tags (4), its latest conversations
    # (the open ones among them), their latest messages, open deals.
    with django_assert_max_num_queries(7):
        pop = screen_pop_for(call)
    assert len(pop["contact"]["recent_interactions"]) == 10
    assert len(pop["contact"]["open_conversations"]) == 5
    assert len(pop["contact"]["open_deals"]) == 5


def test_the_pop_shows_open_conversations_older_than_the_latest_it_scans(
    people: Personas, phone_inbox: Inbox
) -> None:
    customer = do_create_contact("Dana", phones=[PhoneInput("+14155550132")])
    chat = make_inbox(people.support, key="web")
    still_open = inbound(chat, "Any news on my refund?", contact=customer, thread_key="old")
    for index in range(CONVERSATIONS_SCANNED):
        later = inbound(chat, f"question {index}", contact=customer, thread_key=f"t{index}")
        Conversation.objects.filter(pk=later.conversation.pk).update(status="resolved")
    twiml(twilio_post(VOICE, call_params()))
    pop = events("call.incoming")[0].data
    shown = [row["id"] for row in pop["contact"]["open_conversations"]]
    # The call's own conversation is written after the pop: not among them.
    assert shown == [still_open.conversation.pk]


def test_a_number_taken_out_of_service_stops_answering_at_once(
    people: Personas, phone_inbox: Inbox
) -> None:
    """The webhooks find the inbox of a number in the configuration cache: a change
    to the inbox reaches the next call all the same."""
    twiml(twilio_post(VOICE, call_params()))
    phone_inbox.is_active = False
    phone_inbox.save()
    root = twiml(twilio_post(VOICE, call_params(sid="CA" + "2" * 32)))
    assert root.find("Say").text == "This number is not in service."
    assert Call.objects.count() == 1


def test_a_calls_events_are_logged_in_order_pop_then_conversation_message_and_link(
    people: Personas, phone_inbox: Inbox
) -> None:
    """The pop first (its own transaction), then the conversation written after it."""
    online(people.agent)
    twiml(twilio_post(VOICE, call_params()))
    logged = list(Event.objects.order_by("id").values_list("type", "conversation_id"))
    conversation_id = Call.objects.get().conversation_id
    assert conversation_id is not None
    assert logged == [
        ("call.incoming", None),
        ("conversation.created", conversation_id),
        ("message.created", conversation_id),
        ("call.updated", conversation_id),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/telephony/twilio/voice/",
        "/telephony/twilio/voice/status/",
        "/telephony/twilio/voice/status/?agent=1",
        "/telephony/twilio/voice/after-dial/",
        "/telephony/twilio/voice/hold/",
        "/telephony/twilio/voice/recording/",
        "/telephony/twilio/voice/goodbye/",
        "/telephony/twilio/voice/bridge/?call=1",
        "/telephony/twilio/sms/",
        "/telephony/twilio/sms/status/",
    ],
)
def test_every_twilio_webhook_refuses_a_missing_or_forged_signature(
    people: Personas, phone_inbox: Inbox, path: str
) -> None:
    params = call_params(MessageSid="SM1", Body="hi", MessageStatus="delivered")
    assert twilio_post(path, params, signature="").status_code == 403
    forged = sign(path, params, token="not-our-token")
    assert twilio_post(path, params, signature=forged).status_code == 403
    assert Client().get(path).status_code in (403, 405)
    assert Event.objects.count() == 0
    assert Message.objects.count() == 0
