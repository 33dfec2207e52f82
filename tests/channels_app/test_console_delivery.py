"""Events reach exactly the consoles allowed to see them (DESIGN §4, §6)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from channels_app.consumers.chat import ChatConsumer
from channels_app.consumers.console import ConsoleConsumer
from inbox import actions
from inbox.models import Conversation
from tests import sockets
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def people() -> Personas:
    return await db(make_personas)()


async def test_an_inbound_message_reaches_every_online_member_of_the_team_and_nobody_else(
    people: Personas,
) -> None:
    inbox = await db(make_inbox)(people.support)
    agent, teammate = await sockets.console(people.agent), await sockets.console(people.teammate)
    outsider, partner = (
        await sockets.console(people.other_agent),
        await sockets.console(people.partner_a),
    )
    received = await db(inbound)(inbox, "My parcel never arrived")

    for socket in (agent, teammate):
        created = await socket.receive_type("conversation.created")
        assert created["data"]["conversation"]["id"] == received.conversation.pk
        assert created["data"]["conversation"]["team"] == people.support.pk
        message = await socket.receive_type("message.created")
        assert message["data"]["conversation"] == received.conversation.pk
        assert message["data"]["message"]["body_text"] == "My parcel never arrived"
        assert message["data"]["message"]["direction"] == "inbound"
        assert message["id"] > created["id"]
        assert set(message) == {"id", "type", "at", "data"}
    assert not [
        f for f in await outsider.drain() if f["type"].startswith(("conversation", "message"))
    ]
    assert await partner.drain() == []
    for socket in (agent, teammate, outsider, partner):
        await socket.close()


async def test_the_supervisor_hears_every_team_and_the_assignee_hears_their_own(
    people: Personas,
) -> None:
    billing_inbox = await db(make_inbox)(people.billing, key="billing")
    supervisor, agent = (
        await sockets.console(people.supervisor),
        await sockets.console(people.agent),
    )
    received = await db(inbound)(billing_inbox, "Invoice question")
    assert (await supervisor.receive_type("message.created"))["data"][
        "conversation"
    ] == received.conversation.pk
    assert not [f for f in await agent.drain() if f["type"] == "message.created"]

    await db(actions.do_assign)(received.conversation, people.agent, by=people.supervisor)
    updated = await agent.receive_type("conversation.updated")
    assert updated["data"]["conversation"]["assignee"] == people.agent.pk
    await supervisor.close()
    await agent.close()


async def test_a_partner_hears_only_conversations_shared_with_their_organization(
    people: Personas,
) -> None:
    inbox = await db(make_inbox)(people.support)
    received = await db(inbound)(inbox, "Where is the spare part?")
    conversation = received.conversation
    partner_a, partner_b = (
        await sockets.console(people.partner_a),
        await sockets.console(people.partner_b),
    )

    await db(actions.do_share)(conversation, people.org_a, by=people.agent)
    await db(actions.do_share)(conversation, people.org_b, by=people.agent)
    shared = await partner_a.receive_type("conversation.updated")
    # A partner never learns which other partners see the conversation.
    assert shared["data"]["conversation"]["partners"] == [people.org_a.pk]

    await db(inbound)(inbox, "Any news?", conversation=conversation)
    assert (await partner_a.receive_type("message.created"))["data"]["message"][
        "body_text"
    ] == "Any news?"

    await db(actions.do_add_note)(conversation, "Supplier is slow, escalate", by=people.agent)
    await db(actions.do_add_note)(
        conversation, "Org A: please confirm stock", by=people.agent, share_with=[people.org_a]
    )
    note = await partner_a.receive_type("note.created")
    assert note["data"]["note"]["body"] == "Org A: please confirm stock"
    assert note["data"]["note"]["shared_with"] == [people.org_a.pk]
    b_frames = [
        f["data"].get("note", {}).get("body")
        for f in await partner_b.drain()
        if f["type"] == "note.created"
    ]
    assert b_frames == []

    await db(actions.do_unshare)(conversation, people.org_a, by=people.agent)
    gone = await partner_a.receive_type("conversation.unshared")
    assert gone["data"] == {"conversation": {"id": conversation.pk}}
    await db(inbound)(inbox, "After unsharing", conversation=conversation)
    assert not [f for f in await partner_a.drain() if f["type"] == "message.created"]
    await partner_a.close()
    await partner_b.close()


async def test_a_partner_probing_conversation_ids_learns_nothing(people: Personas) -> None:
    inbox = await db(make_inbox)(people.support)
    secret = (await db(inbound)(inbox, "Internal matter")).conversation
    partner = await sockets.console(people.partner_a)
    answers = []
    for conversation_id in (secret.pk, secret.pk + 1000):
        for action in ("view", "typing", "leave"):
            await partner.send({"action": action, "conversation": conversation_id})
            answers.append((await partner.receive())["data"])
    assert all(
        answer == {"code": "not_found", "message": "No such conversation."} for answer in answers
    )
    await partner.close()


async def test_anonymous_sockets_and_foreign_origins_are_refused(people: Personas) -> None:
    from channels.testing import WebsocketCommunicator

    from hub.asgi import application

    anonymous = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"origin", sockets.ORIGIN)]
    )
    connected, code = await anonymous.connect()
    assert not connected and code == 4401
    with pytest.raises(AssertionError):
        await sockets.console(people.agent, origin=b"http://evil.example")


async def test_a_session_ended_by_logout_or_a_password_change_opens_no_console(
    people: Personas,
) -> None:
    """The console reads the session once at connect (channels_app.sessions): that
    read must still honour what ended the session over HTTP."""
    from channels.testing import WebsocketCommunicator
    from django.conf import settings
    from django.test import Client

    from hub.asgi import application

    async def connect_with(cookie: str) -> tuple[bool, int | None]:
        communicator = WebsocketCommunicator(
            application,
            "/ws/console/",
            headers=[
                (b"origin", sockets.ORIGIN),
                (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
            ],
        )
        connected, code = await communicator.connect(timeout=5)
        if connected:
            await communicator.disconnect()
        return connected, code

    @db
    def logged_out_cookie() -> str:
        client = Client()
        client.force_login(people.agent)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.post("/accounts/logout/")
        return cookie

    @db
    def change_password() -> None:
        people.teammate.set_password("a brand new passphrase 42")
        people.teammate.save()

    assert await connect_with(await logged_out_cookie()) == (False, 4401)
    cookie = await sockets.session_cookie(people.teammate)
    assert (await connect_with(cookie))[0]
    await change_password()
    assert await connect_with(cookie) == (False, 4401)


async def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(people: Personas) -> None:
    socket = await sockets.console(people.agent)
    await socket.drain()
    cases = [
        ("not json", "bad_json"),
        ('{"action": "dance"}', "unknown_action"),
        ("[1, 2]", "bad_frame"),
        ('{"action": "resume", "since": "yesterday"}', "bad_resume"),
        ('{"action": "view", "conversation": "one"}', "bad_conversation"),
        ('{"action": "presence", "status": "asleep"}', "bad_status"),
        ('{"action": "ping", "pad": "' + "x" * 70_000 + '"}', "frame_too_large"),
    ]
    # Other frames may interleave (the agent's own presence going online is announced
    # asynchronously, late on a busy machine); each bad frame gets its error, in order.
    for text, code in cases:
        await socket.send(text)
        frame = await socket.receive_type("error")
        assert frame["data"]["code"] == code, text
        assert frame["data"]["message"]
    await socket.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_type("error"))["data"]["code"] == "bad_frame"
    await socket.send({"action": "ping"})
    await socket.receive_type("pong")
    await socket.close()


async def test_a_client_sending_garbage_does_not_cost_another_client_its_events(
    people: Personas,
) -> None:
    inbox = await db(make_inbox)(people.support)
    noisy, quiet = await sockets.console(people.teammate), await sockets.console(people.agent)
    for _ in range(20):
        await noisy.send("{{{")
    received = await db(inbound)(inbox, "Still delivered")
    frame = await quiet.receive_type("message.created")
    assert frame["data"]["conversation"] == received.conversation.pk
    await noisy.close()
    await quiet.close()


async def test_an_agent_reply_reaches_the_team_once(people: Personas) -> None:
    inbox = await db(make_inbox)(people.support)
    conversation = (await db(inbound)(inbox)).conversation
    teammate = await sockets.console(people.teammate)
    await teammate.drain()
    await db(actions.do_reply)(conversation, "We are on it", by=people.agent)
    frames = await teammate.drain(quiet=0.6)
    replies = [f for f in frames if f["type"] == "message.created"]
    assert len(replies) == 1
    assert replies[0]["data"]["message"]["direction"] == "outbound"
    assert replies[0]["data"]["message"]["author"] == people.agent.pk
    fresh = await db(Conversation.objects.get)(pk=conversation.pk)
    assert fresh.first_response_at is not None
    await teammate.close()


@pytest.mark.parametrize("consumer", [ConsoleConsumer, ChatConsumer])
def test_sockets_take_no_channel_of_their_own_on_the_layer(consumer: type) -> None:
    """Events come from the process's pump: a channel, a receive task and a buffer
    on the layer for each of 500 sockets would be memory and work for nothing."""
    assert get_channel_layer() is not None
    assert get_channel_layer(consumer.channel_layer_alias) is None
