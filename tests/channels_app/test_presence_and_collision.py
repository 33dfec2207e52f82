"""Presence across tabs and collision warnings (issue 3, item 3)."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from inbox.models import AgentPresence
from tests import sockets
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def people() -> Personas:
    return await db(make_personas)()


def statuses(frames: list[dict], user_id: int) -> list[str]:
    return [
        f["data"]["status"]
        for f in frames
        if f["type"] == "presence.changed" and f["data"]["user"] == user_id
    ]


async def effective(user_id: int) -> str:
    return await db(lambda: AgentPresence.objects.get(user_id=user_id).effective)()


async def test_an_agent_with_two_tabs_goes_offline_only_when_the_last_one_closes(
    people: Personas,
) -> None:
    teammate = await sockets.console(people.teammate)
    await teammate.drain()
    first_tab = await sockets.console(people.agent)
    second_tab = await sockets.console(people.agent)
    assert statuses(await teammate.drain(), people.agent.pk) == ["online"]

    await first_tab.close()
    assert statuses(await teammate.drain(), people.agent.pk) == []
    assert await effective(people.agent.pk) == "online"

    await second_tab.close()
    assert statuses(await teammate.drain(), people.agent.pk) == ["offline"]
    assert await effective(people.agent.pk) == "offline"
    await teammate.close()


async def test_choosing_away_shows_away_to_teammates_but_not_to_other_teams(
    people: Personas,
) -> None:
    teammate, outsider = (
        await sockets.console(people.teammate),
        await sockets.console(people.other_agent),
    )
    agent = await sockets.console(people.agent)
    await teammate.drain()
    await outsider.drain()
    await agent.send({"action": "presence", "status": "away"})
    assert statuses(await teammate.drain(), people.agent.pk) == ["away"]
    assert statuses(await outsider.drain(), people.agent.pk) == []
    # A new tab keeps the chosen status rather than flipping back to online.
    extra_tab = await sockets.console(people.agent)
    assert statuses(await teammate.drain(), people.agent.pk) == []
    assert await effective(people.agent.pk) == "away"
    for socket in (teammate, outsider, agent, extra_tab):
        await socket.close()


async def test_a_tab_that_stops_answering_is_closed_and_its_agent_goes_offline(
    people: Personas, settings: object
) -> None:
    settings.CONSOLE_HEARTBEAT_TIMEOUT = 0.6  # type: ignore[attr-defined]
    teammate = await sockets.console(people.teammate)
    silent = await sockets.console(people.agent)
    # The teammate keeps pinging; the agent's tab says nothing.
    for _ in range(6):
        await teammate.send({"action": "ping"})
        await asyncio.sleep(0.25)
    output = await silent.communicator.receive_output(timeout=2)
    while output["type"] != "websocket.close":
        output = await silent.communicator.receive_output(timeout=2)
    assert output["code"] == 4408
    frames = await teammate.drain()
    assert "offline" in statuses(frames, people.agent.pk)
    await teammate.close()


async def test_two_agents_on_one_conversation_see_each_other_viewing_and_replying(
    people: Personas,
) -> None:
    inbox = await db(make_inbox)(people.support)
    conversation = (await db(inbound)(inbox)).conversation
    alice, bob = await sockets.console(people.agent), await sockets.console(people.teammate)
    await alice.send({"action": "view", "conversation": conversation.pk})
    await bob.send({"action": "view", "conversation": conversation.pk})

    collision = await alice.receive_type("collision")
    while len(collision["data"]["viewers"]) < 2:
        collision = await alice.receive_type("collision")
    viewers = {v["name"]: v["activity"] for v in collision["data"]["viewers"]}
    assert viewers == {"Alice Agent": "viewing", "Bob Teammate": "viewing"}

    await bob.send({"action": "typing", "conversation": conversation.pk, "typing": True})
    typing = await alice.receive_type("typing")
    assert typing["data"] == {
        "conversation": conversation.pk,
        "typing": True,
        "user": people.teammate.pk,
        "name": "Bob Teammate",
    }
    collision = await alice.receive_type("collision")
    assert {v["name"]: v["activity"] for v in collision["data"]["viewers"]}[
        "Bob Teammate"
    ] == "replying"

    await bob.close()
    collision = await alice.receive_type("collision")
    assert [v["name"] for v in collision["data"]["viewers"]] == ["Alice Agent"]
    await alice.close()


async def test_agents_elsewhere_and_partners_hear_no_collision(people: Personas) -> None:
    inbox = await db(make_inbox)(people.support)
    conversation = (await db(inbound)(inbox)).conversation
    from inbox import actions

    await db(actions.do_share)(conversation, people.org_a, by=people.agent)
    outsider, partner = (
        await sockets.console(people.other_agent),
        await sockets.console(people.partner_a),
    )
    alice = await sockets.console(people.agent)
    await alice.send({"action": "view", "conversation": conversation.pk})
    await alice.receive_type("collision")
    await partner.send({"action": "view", "conversation": conversation.pk})
    partner_frames = await partner.drain()
    assert [f["type"] for f in partner_frames] == ["viewing"]
    assert not [f for f in await outsider.drain() if f["type"] in ("collision", "typing")]
    for socket in (outsider, partner, alice):
        await socket.close()
