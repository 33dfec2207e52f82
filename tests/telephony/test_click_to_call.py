"""Click-to-call: Twilio rings the agent first, then bridges the customer."""

from __future__ import annotations

import pytest

from hub.actions import PhoneInput, do_create_contact
from inbox.models import Event, Inbox
from telephony.models import AgentLine, Call
from tests.conftest import login_client
from tests.factories import Personas
from tests.telephony.conftest import ACCOUNT_SID, OUR_NUMBER, FakeTwilio, twilio_post, twiml

pytestmark = pytest.mark.django_db


def test_an_agent_calls_a_contact_and_twilio_bridges_them(
    people: Personas, phone_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    customer = do_create_contact(
        "Jens", country="DE", phones=[PhoneInput("030/123 456-7"), PhoneInput("0171 1234567")]
    )
    response = login_client(people.agent).post(
        f"/api/v1/contacts/{customer.pk}/call/",
        {"phone": "+49 171 1234567"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["contact"]["name"] == "Jens"

    (request,) = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request["form"]["To"] == f"client:agent-{people.agent.pk}"
    assert request["form"]["From"] == OUR_NUMBER
    call = Call.objects.get()
    assert call.sid == "CA" + "1".zfill(32)
    assert call.direction == "outbound"
    assert call.answered_by == people.agent
    assert call.contact == customer
    assert call.conversation.assignee == people.agent
    assert request["form"]["Url"].endswith(f"/telephony/twilio/voice/bridge/?call={call.pk}")

    # The agent picked up: Twilio asks what next, and we dial the customer.
    path = f"/telephony/twilio/voice/bridge/?call={call.pk}"
    root = twiml(twilio_post(path, {"CallSid": call.sid, "CallStatus": "in-progress"}))
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("callerId") == OUR_NUMBER
    assert [n.text for n in dial.findall("Number")] == ["+491711234567"]
    assert Event.objects.filter(type="call.updated").last().data["call"]["to"] == "+491711234567"


def test_an_agent_with_a_forwarding_number_is_rung_there(
    people: Personas, phone_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    AgentLine.objects.create(user=people.agent, forward_number="+4915112345678")
    customer = do_create_contact("Ola", phones=[PhoneInput("+47 22 12 34 56")])
    login_client(people.agent).post(f"/api/v1/contacts/{customer.pk}/call/")
    assert fake_twilio.requests[0]["form"]["To"] == "+4915112345678"


def test_calling_a_number_the_contact_does_not_have_is_refused(
    people: Personas, phone_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    customer = do_create_contact("Ola", phones=[PhoneInput("+47 22 12 34 56")])
    response = login_client(people.agent).post(
        f"/api/v1/contacts/{customer.pk}/call/",
        {"phone": "+1 900 555 0100"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert fake_twilio.requests == []
    assert Call.objects.count() == 0


def test_twilio_refusing_the_call_marks_it_failed(
    people: Personas, phone_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_with = [400]
    customer = do_create_contact("Ola", phones=[PhoneInput("+47 22 12 34 56")])
    response = login_client(people.agent).post(f"/api/v1/contacts/{customer.pk}/call/")
    assert response.status_code == 400
    assert Call.objects.get().status == "failed"


def test_partners_cannot_place_calls(
    people: Personas, phone_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    customer = do_create_contact("Ola", phones=[PhoneInput("+47 22 12 34 56")])
    response = login_client(people.partner_a).post(f"/api/v1/contacts/{customer.pk}/call/")
    assert response.status_code == 404
    assert fake_twilio.requests == []
