"""The generic CTI endpoint for PBXes other than Twilio: a token per integration;
newCall pops the screen, answer assigns the call, hangup closes it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hub.actions import PhoneInput, do_create_contact
from hub.models import Task
from inbox.models import AgentPresence, Event, Inbox
from telephony.models import AgentLine, Call, CtiIntegration
from tests.factories import Personas
from tests.telephony.conftest import OUR_NUMBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def pbx(phone_inbox: Inbox) -> CtiIntegration:
    return CtiIntegration.objects.create(name="Asterisk", inbox=phone_inbox)


def post(pbx: CtiIntegration | str, payload: Any) -> Any:
    token = pbx if isinstance(pbx, str) else pbx.token
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return Client().post(f"/telephony/cti/{token}/", body, content_type="application/json")


def new_call(call_id: str = "1700000000.42", caller: str = "+49 30 1234567", **extra: Any) -> dict:
    return {
        "event": "newCall",
        "call_id": call_id,
        "from": caller,
        "to": OUR_NUMBER,
        "direction": "inbound",
        **extra,
    }


def test_a_new_call_pops_the_same_screen_pop_as_twilio(
    people: Personas, pbx: CtiIntegration
) -> None:
    AgentPresence.objects.create(user=people.agent, effective="online")
    customer = do_create_contact("Jens", country="DE", phones=[PhoneInput("030/123 456-7")])
    response = post(pbx, new_call())
    assert response.status_code == 201
    assert response.json()["contact"]["name"] == "Jens"
    call = Call.objects.get()
    assert call.source == f"cti:{pbx.pk}"
    assert call.contact == customer
    assert call.conversation.channel == "phone"
    (pop,) = Event.objects.filter(type="call.incoming")
    assert pop.data["contact"]["id"] == customer.pk
    assert pop.data["call"]["sid"] == "1700000000.42"
    assert f"user.{people.agent.pk}" in pop.audience_keys
    assert f"team.{people.support.pk}" in pop.audience_keys
    # A PBX resending the event changes nothing.
    assert post(pbx, new_call()).status_code == 200
    assert Call.objects.count() == 1
    assert Event.objects.filter(type="call.incoming").count() == 1


def test_answer_assigns_the_call_to_the_answering_agent_and_hangup_closes_it(
    people: Personas, pbx: CtiIntegration
) -> None:
    post(pbx, new_call())
    AgentLine.objects.create(user=people.teammate, client_identity="201")
    response = post(pbx, {"event": "answer", "call_id": "1700000000.42", "user": "201"})
    assert response.status_code == 200
    call = Call.objects.get()
    assert call.answered_by == people.teammate
    assert call.status == "in-progress"
    assert call.conversation.assignee == people.teammate
    update = Event.objects.filter(type="call.updated").last()
    assert update.data["call"]["answered_by"] == people.teammate.pk
    assert f"user.{people.teammate.pk}" in update.audience_keys

    response = post(pbx, {"event": "hangup", "call_id": "1700000000.42", "duration": 65})
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == "completed"
    assert call.duration == 65
    assert Task.objects.count() == 0  # it was answered


def test_an_agent_may_be_named_by_email(people: Personas, pbx: CtiIntegration) -> None:
    post(pbx, new_call())
    post(pbx, {"event": "answer", "call_id": "1700000000.42", "user": "ALICE@hub.test"})
    assert Call.objects.get().answered_by == people.agent


def test_a_call_hung_up_unanswered_leaves_a_call_back_task(
    people: Personas, pbx: CtiIntegration
) -> None:
    post(pbx, new_call(caller="0049 30 7654321"))
    post(pbx, {"event": "hangup", "call_id": "1700000000.42"})
    task = Task.objects.get()
    assert task.team == people.support
    assert "+49307654321" in task.description


def test_an_outbound_call_looks_up_the_dialled_customer(
    people: Personas, pbx: CtiIntegration
) -> None:
    customer = do_create_contact("Ola", country="NO", phones=[PhoneInput("22 12 34 56")])
    response = post(
        pbx,
        {
            "event": "newCall",
            "call_id": "out-1",
            "from": OUR_NUMBER,
            "to": "+47 22 12 34 56",
            "direction": "outbound",
        },
    )
    assert response.status_code == 201
    call = Call.objects.get()
    assert call.contact == customer
    assert call.direction == "outbound"


def test_a_wrong_or_disabled_token_is_refused_and_changes_nothing(
    people: Personas, pbx: CtiIntegration
) -> None:
    assert post("not-a-token", new_call()).status_code == 404
    pbx.is_active = False
    pbx.save()
    assert post(pbx, new_call()).status_code == 404
    assert Call.objects.count() == 0
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        {"event": "ring", "call_id": "1"},
        {"event": "newCall"},
        {"event": "newCall", "call_id": "1", "direction": "sideways"},
        {"event": "answer", "call_id": "1"},
        {"event": "hangup", "call_id": "1", "duration": -4},
        {"event": "newCall", "call_id": {"nested": True}},
    ],
)
def test_a_malformed_event_is_a_clear_bad_request(pbx: CtiIntegration, payload: Any) -> None:
    response = post(pbx, payload)
    assert response.status_code == 400
    assert response.json()["error"]
    assert Call.objects.count() == 0


def test_answer_or_hangup_of_an_unknown_call_is_not_found(
    people: Personas, pbx: CtiIntegration
) -> None:
    assert post(pbx, {"event": "hangup", "call_id": "nope"}).status_code == 404
    post(pbx, new_call())
    response = post(pbx, {"event": "answer", "call_id": "1700000000.42", "user": "ghost"})
    assert response.status_code == 400
    assert Call.objects.get().answered_by is None


def test_two_pbxes_may_use_the_same_call_id(people: Personas, pbx: CtiIntegration) -> None:
    other = CtiIntegration.objects.create(name="3CX", inbox=pbx.inbox)
    post(pbx, new_call(call_id="1"))
    post(other, new_call(call_id="1"))
    assert Call.objects.count() == 2
