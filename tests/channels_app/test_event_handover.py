"""Events written in the server's own process go to its consoles from the commit, not
from a read of the log behind a doorbell (issue 10, the screen pop): the same frames,
in id order, once each; after a gap the pump reads the log as before."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from channels_app import fanout as fanout_module
from channels_app.fanout import EventFanout
from hub.models import User
from inbox import events as events_module
from inbox.events import _Doorbell, envelope, record_event
from inbox.models import Event
from tests import sockets
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def people() -> Personas:
    return await db(make_personas)()


async def live_console(user: User) -> sockets.Socket:
    """A console whose live stream is released (its first frame is not a resume)."""
    console = await sockets.console(user)
    await console.send({"action": "ping"})
    await console.receive_type("pong")
    return console


def unreadable_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pump's reads of the log bring nothing from here on."""

    def no_read(event_id: int) -> list[Event]:
        return []

    monkeypatch.setattr(fanout_module, "_read_after", no_read)


def _as_logged(event_ids: list[int]) -> list[dict[str, Any]]:
    return [envelope(event) for event in Event.objects.filter(pk__in=event_ids).order_by("id")]


async def test_events_written_in_the_server_process_reach_consoles_without_a_read(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await db(make_inbox)(people.support)
    agent = await live_console(people.agent)
    unreadable_log(monkeypatch)  # only the hand-over can deliver
    received = await db(inbound)(inbox, "Where is my parcel?")

    created = await agent.receive_type("conversation.created")
    message = await agent.receive_type("message.created")
    assert message["data"]["message"]["body_text"] == "Where is my parcel?"
    assert created["data"]["conversation"]["id"] == received.conversation.pk
    # The frames are the log's rows, as a reader of the log would have sent them.
    logged = await db(_as_logged)([created["id"], message["id"]])
    assert [created, message] == logged
    await agent.close()


async def test_a_partner_gets_only_the_partner_view_of_a_handed_over_event(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await db(make_inbox)(people.support)
    partner = await live_console(people.partner_a)
    unreadable_log(monkeypatch)
    await db(inbound)(inbox, "Not shared with any partner")
    assert await partner.drain() == []
    await partner.close()


async def test_after_a_gap_the_pump_reads_the_log_in_order_and_sends_each_event_once(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await db(make_inbox)(people.support)
    agent = await live_console(people.agent)

    # Written as another process would: no hand-over reaches this pump.
    monkeypatch.setattr(events_module, "_committed_listeners", [])
    first = await db(inbound)(inbox, "first, from another process")
    monkeypatch.undo()
    second = await db(inbound)(inbox, "second, from this process")

    frames = [f for f in await agent.drain(quiet=1.0) if f["type"] == "message.created"]
    assert [f["data"]["message"]["body_text"] for f in frames] == [
        "first, from another process",
        "second, from this process",
    ]
    assert [f["data"]["conversation"] for f in frames] == [
        first.conversation.pk,
        second.conversation.pk,
    ]
    await agent.close()


async def test_events_of_another_process_reach_consoles_from_the_doorbell_without_a_read(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await db(make_inbox)(people.support)
    agent = await live_console(people.agent)
    unreadable_log(monkeypatch)  # only the doorbell can deliver
    # Written as another process would: no hand-over reaches this pump.
    monkeypatch.setattr(events_module, "_committed_listeners", [])
    await db(inbound)(inbox, "Is my order on its way?")

    created = await agent.receive_type("conversation.created")
    message = await agent.receive_type("message.created")
    assert message["data"]["message"]["body_text"] == "Is my order on its way?"
    logged = await db(_as_logged)([created["id"], message["id"]])
    assert [created, message] == logged
    await agent.close()


def _write_around_a_rolled_back_savepoint() -> None:
    with transaction.atomic():
        record_event("typing", {"conversation": 1, "typing": True}, {"staff"})
        with contextlib.suppress(RuntimeError), transaction.atomic():
            record_event("typing", {"conversation": 2, "typing": True}, {"staff"})
            raise RuntimeError("the inner write fails")


async def test_an_event_rolled_back_with_its_savepoint_reaches_no_console_of_another_process(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await live_console(people.agent)
    monkeypatch.setattr(events_module, "_committed_listeners", [])
    await db(_write_around_a_rolled_back_savepoint)()
    frames = [f for f in await agent.drain(quiet=1.5) if f["type"] == "typing"]
    assert [f["data"]["conversation"] for f in frames] == [1]
    await agent.close()


async def test_a_doorbell_for_events_already_sent_does_not_wake_the_reader() -> None:
    class Layer:
        def __init__(self) -> None:
            self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def receive(self, channel: str) -> dict[str, Any]:
            return await self.messages.get()

    pump = EventFanout()
    layer = Layer()
    pump._layer, pump._channel, pump.last_id = layer, "pump", 10  # type: ignore[assignment]
    listening = asyncio.create_task(pump._listen())
    try:
        layer.messages.put_nowait({"type": "events.new", "id": 10})
        await asyncio.sleep(0.05)
        assert not pump._wake.is_set()
        layer.messages.put_nowait({"type": "events.new", "id": 11})
        await asyncio.sleep(0.05)
        assert pump._wake.is_set()
    finally:
        listening.cancel()


def _doorbell_ids_of_two_writes(people: Personas) -> tuple[list[int], int]:
    with transaction.atomic():
        record_event("typing", {"conversation": 1, "typing": True}, {"staff"})
        last = record_event("typing", {"conversation": 1, "typing": False}, {"staff"})
        doorbells = [
            callback.event_id
            for _savepoints, callback, _robust in connection.run_on_commit
            if isinstance(callback, _Doorbell)
        ]
        transaction.set_rollback(True)
    return doorbells, last.pk


async def test_the_doorbell_names_the_highest_event_id_of_its_transaction(
    people: Personas,
) -> None:
    doorbells, last = await db(_doorbell_ids_of_two_writes)(people)
    assert doorbells == [last]
