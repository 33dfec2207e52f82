"""The screen pop on a real console socket: the rung agent sees the caller, an agent of
another team and a partner see nothing, and saving an unknown caller updates it live."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from hub.actions import PhoneInput, do_create_contact
from hub.models import Account, Contact
from telephony.models import Call
from tests import sockets
from tests.conftest import login_client
from tests.factories import Personas
from tests.telephony.conftest import call_params, twilio_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stop_event_pump"),
]

VOICE = "/telephony/twilio/voice/"


@database_sync_to_async
def incoming_call(caller: str, sid: str = "CA" + "5" * 32) -> Any:
    return twilio_post(VOICE, call_params(sid=sid, caller=caller))


@database_sync_to_async
def api_post(user: Any, path: str, data: dict) -> Any:
    return login_client(user).post(path, data, content_type="application/json")


@database_sync_to_async
def contact(name: str, raw: str, account: Account | None = None) -> Contact:
    return do_create_contact(name, account=account, phones=[PhoneInput(raw)], country="US")


@database_sync_to_async
def account(name: str) -> Account:
    return Account.objects.create(name=name)


async def test_the_rung_agent_sees_the_callers_profile_pop_up(
    people: Personas, phone_inbox: Any
) -> None:
    acme = await account("Acme Corp")
    await contact("Dana Customer", "(415) 555-0132", acme)
    agent = await sockets.console(people.agent)  # online now: the phone rings them
    other_team = await sockets.console(people.other_agent)
    partner = await sockets.console(people.partner_a)
    await agent.drain()

    response = await incoming_call("+14155550132")
    assert response.status_code == 200
    assert b"<Client" in response.content

    pop = await agent.receive_type("call.incoming")
    assert set(pop) == {"id", "type", "at", "data"}
    assert pop["data"]["call"]["from"] == "+14155550132"
    assert pop["data"]["call"]["status"] == "ringing"
    assert pop["data"]["contact"]["name"] == "Dana Customer"
    assert pop["data"]["contact"]["account"]["name"] == "Acme Corp"
    assert pop["data"]["contact"]["phones"][0]["e164"] == "+14155550132"
    # The pop commits before the call's conversation is written; call.updated links it.
    assert pop["data"]["call"]["conversation"] is None
    linked = await agent.receive_type("call.updated")
    assert linked["id"] > pop["id"]
    assert linked["data"]["call"]["id"] == pop["data"]["call"]["id"]
    stored = await database_sync_to_async(lambda: Call.objects.get().conversation_id)()
    assert linked["data"]["call"]["conversation"] == stored is not None
    for outsider in (other_team, partner):
        frames = await outsider.drain()
        assert "call.incoming" not in {f["type"] for f in frames}
    for sock in (agent, other_team, partner):
        await sock.close()


async def test_an_unknown_caller_saved_from_the_pop_updates_the_console_live(
    people: Personas, phone_inbox: Any
) -> None:
    agent = await sockets.console(people.agent)
    await agent.drain()
    await incoming_call("+44 20 7946 0958")
    pop = await agent.receive_type("call.incoming")
    assert pop["data"]["contact"] is None
    call_id = pop["data"]["call"]["id"]

    response = await api_post(
        people.agent,
        f"/api/v1/calls/{call_id}/contact/",
        {"name": "Harriet Caller", "email": "harriet@example.test"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["contact"]["phones"][0]["e164"] == "+442079460958"

    frames = {frame["type"]: frame for frame in await agent.drain()}
    update = frames["call.updated"]
    assert update["data"]["contact"]["name"] == "Harriet Caller"
    assert update["data"]["contact"]["emails"][0]["address"] == "harriet@example.test"
    assert update["data"]["call"]["contact"] == update["data"]["contact"]["id"]
    conversation = frames["conversation.updated"]["data"]["conversation"]
    assert conversation["id"] == update["data"]["call"]["conversation"]
    assert conversation["contact_name"] == "Harriet Caller"
    await agent.close()


async def test_a_switchboard_caller_is_picked_from_the_candidates(
    people: Personas, phone_inbox: Any
) -> None:
    acme = await account("Acme Corp")
    await contact("Ann", "+1 415 555 0100", acme)
    ben = await contact("Ben", "415-555-0100", acme)
    agent = await sockets.console(people.agent)
    await agent.drain()
    await incoming_call("+14155550100")
    pop = await agent.receive_type("call.incoming")
    assert pop["data"]["contact"] is None
    assert [c["name"] for c in pop["data"]["candidates"]] == ["Ann", "Ben"]
    await agent.receive_type("call.updated")  # the call's conversation, written after the pop

    call_id = pop["data"]["call"]["id"]
    response = await api_post(
        people.agent, f"/api/v1/calls/{call_id}/contact/", {"contact": ben.pk}
    )
    assert response.status_code == 200
    update = await agent.receive_type("call.updated")
    assert update["data"]["contact"]["name"] == "Ben"
    assert update["data"]["candidates"] == []
    await agent.close()


async def test_partners_cannot_touch_a_call(people: Personas, phone_inbox: Any) -> None:
    await incoming_call("+14155550177")
    call_id = await database_sync_to_async(lambda: Call.objects.get().pk)()
    response = await api_post(people.partner_a, f"/api/v1/calls/{call_id}/contact/", {"name": "X"})
    assert response.status_code == 404
