"""The web chat channel: anonymous visitors on /ws/chat/<key>/ (issue 3, item 4)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from hub.asgi import application
from hub.models import Contact
from inbox import actions
from inbox.models import Conversation, Message
from tests import sockets
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import make_inbox

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def people() -> Personas:
    return await db(make_personas)()


@pytest.fixture
async def chat_inbox(people: Personas) -> object:
    return await db(make_inbox)(people.support, key="site", allowed_origins="https://shop.example")


async def test_a_visitor_message_lands_in_the_inbox_and_the_agent_reply_comes_back_live(
    people: Personas, chat_inbox: object
) -> None:
    agent = await sockets.console(people.agent)
    visitor, session = await sockets.chat("site")
    assert session["data"]["token"] and session["data"]["conversation"] is None

    await visitor.send(
        {
            "action": "send",
            "text": "Do you ship to Tromsø?",
            "name": "Åse",
            "email": "ase@example.no",
        }
    )
    echo = await visitor.receive_type("message.created")
    assert echo["data"]["message"]["body_text"] == "Do you ship to Tromsø?"
    seen = await agent.receive_type("message.created")
    conversation_id = seen["data"]["conversation"]
    conversation = await db(Conversation.objects.select_related("contact").get)(pk=conversation_id)
    assert conversation.channel == "chat"
    assert conversation.team_id == people.support.pk
    assert conversation.contact.name == "Åse"

    await db(actions.do_reply)(conversation, "Yes, in 3 days.", by=people.agent)
    reply = await visitor.receive_type("message.created")
    assert reply["data"]["message"]["body_text"] == "Yes, in 3 days."
    assert reply["data"]["message"]["direction"] == "outbound"
    assert reply["data"]["message"]["author_name"] == "Alice Agent"
    # The visitor sees text and names, never internal ids or addresses.
    assert set(reply["data"]["message"]) == {
        "id",
        "direction",
        "body_text",
        "author_name",
        "created_at",
    }

    await db(actions.do_add_note)(conversation, "VIP, offer free shipping", by=people.agent)
    assert not [f for f in await visitor.drain() if f["type"] == "note.created"]
    await visitor.close()
    await agent.close()


async def test_a_reload_with_the_token_continues_the_same_conversation(
    people: Personas, chat_inbox: object
) -> None:
    visitor, session = await sockets.chat("site")
    await visitor.send({"action": "send", "text": "first visit"})
    first = await visitor.receive_type("message.created")
    await visitor.close()

    again, session2 = await sockets.chat("site", token=session["data"]["token"])
    assert session2["data"]["visitor"] == session["data"]["visitor"]
    assert session2["data"]["conversation"] == first["data"]["conversation"]
    await again.send({"action": "send", "text": "back again"})
    second = await again.receive_type("message.created")
    assert second["data"]["conversation"] == first["data"]["conversation"]
    await again.close()


async def test_a_forged_token_starts_a_new_visitor(people: Personas, chat_inbox: object) -> None:
    visitor, session = await sockets.chat("site")
    await visitor.close()
    forged = session["data"]["token"][:-2] + "xx"
    again, session2 = await sockets.chat("site", token=forged)
    assert session2["data"]["visitor"] != session["data"]["visitor"]
    await again.close()


async def test_a_visitor_with_a_known_email_is_linked_to_the_existing_contact(
    people: Personas, chat_inbox: object
) -> None:
    from hub.actions import EmailInput, do_create_contact

    known = await db(do_create_contact)("Jürgen Müller", emails=[EmailInput("jm@example.de")])
    visitor, _ = await sockets.chat("site")
    await visitor.send({"action": "send", "text": "Hallo", "email": "JM@example.de"})
    frame = await visitor.receive_type("message.created")
    conversation = await db(Conversation.objects.get)(pk=frame["data"]["conversation"])
    assert conversation.contact_id == known.pk
    assert await db(Contact.objects.count)() == 1
    await visitor.close()


async def test_a_resent_frame_with_the_same_client_id_is_stored_once(
    people: Personas, chat_inbox: object
) -> None:
    visitor, _ = await sockets.chat("site")
    for _ in range(3):
        await visitor.send({"action": "send", "text": "only once", "client_id": "c-1"})
    acks = [f for f in await visitor.drain() if f["type"] == "ack"]
    assert len(acks) == 3
    assert {a["data"]["client_id"] for a in acks} == {"c-1"}
    assert len({a["data"]["message"] for a in acks}) == 1
    assert await db(Message.objects.filter(body_text="only once").count)() == 1
    await visitor.close()


async def test_flooding_is_rate_limited_with_a_clear_error_and_the_socket_stays_open(
    people: Personas, chat_inbox: object
) -> None:
    visitor, _ = await sockets.chat("site")
    for number in range(12):
        await visitor.send({"action": "send", "text": f"spam {number}"})
    # Every send is answered, with an ack or an error; wait for all twelve answers.
    answers = []
    while len(answers) < 12:
        frame = await visitor.receive(timeout=10)
        if frame["type"] in ("ack", "error"):
            answers.append(frame)
    errors = [f["data"]["code"] for f in answers if f["type"] == "error"]
    assert "rate_limited" in errors
    assert await db(Message.objects.filter(body_text__startswith="spam").count)() < 12
    await visitor.send({"action": "ping"})
    assert (await visitor.receive())["type"] == "pong"
    await visitor.close()


async def test_oversized_or_empty_messages_are_refused(
    people: Personas, chat_inbox: object
) -> None:
    visitor, _ = await sockets.chat("site")
    await visitor.send({"action": "send", "text": "x" * 5001})
    assert (await visitor.receive())["data"]["code"] == "too_long"
    await visitor.send({"action": "send", "text": "   "})
    assert (await visitor.receive())["data"]["code"] == "empty"
    await visitor.send({"action": "send", "text": 42})
    assert (await visitor.receive())["data"]["code"] == "bad_frame"
    await visitor.send({"action": "send", "text": "hi", "email": "not-an-address"})
    assert (await visitor.receive())["data"]["code"] == "invalid_email"
    assert await db(Message.objects.count)() == 0
    await visitor.close()


async def test_only_listed_origins_and_the_hub_itself_may_open_a_chat(
    people: Personas, chat_inbox: object
) -> None:
    allowed, _ = await sockets.chat("site", origin=b"https://shop.example")
    await allowed.close()
    for origin, path in (
        (b"https://evil.example", "/ws/chat/site/"),
        (b"http://127.0.0.1", "/ws/chat/nope/"),
    ):
        communicator = WebsocketCommunicator(application, path, headers=[(b"origin", origin)])
        connected, _code = await communicator.connect()
        assert not connected


async def test_the_agent_typing_is_shown_to_the_visitor(
    people: Personas, chat_inbox: object
) -> None:
    visitor, _ = await sockets.chat("site")
    await visitor.send({"action": "send", "text": "hello?"})
    conversation_id = (await visitor.receive_type("message.created"))["data"]["conversation"]
    agent = await sockets.console(people.agent)
    await agent.send({"action": "typing", "conversation": conversation_id, "typing": True})
    typing = await visitor.receive_type("typing")
    assert typing["data"] == {
        "conversation": conversation_id,
        "typing": True,
        "name": "Alice Agent",
    }
    await visitor.close()
    await agent.close()
