"""Resume (DESIGN §4): a reconnecting console first receives every event it may see
after its last id, in order, then live ones; nothing lost or shown twice."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from inbox import actions
from inbox.models import Event
from tests import sockets
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
async def people() -> Personas:
    return await db(make_personas)()


def ids(frames: list[dict]) -> list[int]:
    return [frame["id"] for frame in frames if "id" in frame]


async def test_a_reconnecting_console_gets_what_it_missed_in_order_then_live(
    people: Personas,
) -> None:
    inbox = await db(make_inbox)(people.support)
    socket = await sockets.console(people.agent)
    first = await db(inbound)(inbox, "first")
    last_seen = (await socket.receive_type("message.created"))["id"]
    await socket.close()

    # While the agent is away: two messages, a note, an assignment elsewhere.
    await db(inbound)(inbox, "second", conversation=first.conversation)
    await db(inbound)(inbox, "third", conversation=first.conversation)
    await db(actions.do_add_note)(first.conversation, "call them back", by=people.teammate)

    socket = await sockets.console(people.agent)
    await socket.send({"action": "resume", "since": last_seen})
    replayed = await socket.drain(quiet=0.5)
    missed = [f for f in replayed if f["type"] in ("message.created", "note.created")]
    assert [
        f["data"]
        .get("message", f["data"].get("note", {}))
        .get("body_text", f["data"].get("note", {}).get("body"))
        for f in missed
    ] == [
        "second",
        "third",
        "call them back",
    ]
    assert ids(replayed) == sorted(set(ids(replayed)))
    assert min(ids(replayed)) > last_seen

    await db(inbound)(inbox, "fourth", conversation=first.conversation)
    live = await socket.receive_type("message.created")
    assert live["data"]["message"]["body_text"] == "fourth"
    assert live["id"] > max(ids(replayed))
    rest = await socket.drain()
    assert all(f["id"] > live["id"] for f in rest if "id" in f)
    await socket.close()


async def test_resume_does_not_repeat_events_already_sent_live(people: Personas) -> None:
    inbox = await db(make_inbox)(people.support)
    socket = await sockets.console(people.agent)
    before = await db(
        lambda: Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    )()
    await db(inbound)(inbox, "arrives live before the client resumes")
    live = await socket.receive_type("message.created")
    # The client resumes from an older id (e.g. the page's state) after a live event.
    await socket.send({"action": "resume", "since": before})
    again = [f for f in await socket.drain() if f.get("id") == live["id"]]
    assert again == []
    await socket.close()


async def test_resume_replays_only_what_the_user_may_see(people: Personas) -> None:
    inbox = await db(make_inbox)(people.support)
    conversation = (await db(inbound)(inbox, "start")).conversation
    await db(actions.do_share)(conversation, people.org_a, by=people.agent)
    await db(actions.do_add_note)(conversation, "internal only", by=people.agent)
    await db(actions.do_add_note)(
        conversation, "for org A", by=people.agent, share_with=[people.org_a]
    )
    partner = await sockets.console(people.partner_a)
    await partner.send({"action": "resume", "since": 0})
    frames = await partner.drain(quiet=0.5)
    notes = [f["data"]["note"]["body"] for f in frames if f["type"] == "note.created"]
    assert notes == ["for org A"]
    assert not [f for f in frames if f["type"] == "conversation.created"]  # before the share
    await partner.close()


def _hold_transaction_open(
    inbox_id: int, written: threading.Event, release: threading.Event
) -> None:
    """Writer A: records its events, then keeps its transaction open until told."""
    from inbox.models import Inbox

    try:
        with transaction.atomic():
            inbound(Inbox.objects.get(pk=inbox_id), "A (slow writer)")
            written.set()
            release.wait(10)
    finally:
        connection.close()


def _write_now(inbox_id: int, done: threading.Event) -> None:
    from inbox.models import Inbox

    try:
        inbound(Inbox.objects.get(pk=inbox_id), "B (fast writer)")
        done.set()
    finally:
        connection.close()


async def test_two_writers_commit_in_event_id_order_so_resume_misses_nothing(
    people: Personas,
) -> None:
    """With ids drawn from a plain sequence, writer B could commit id 6 while writer A
    still holds id 5: a client would see 6, reconnect with since=6, and never get 5."""
    inbox = await db(make_inbox)(people.support)
    socket = await sockets.console(people.agent)
    await socket.drain()
    written, release, b_done = threading.Event(), threading.Event(), threading.Event()
    writer_a = threading.Thread(target=_hold_transaction_open, args=(inbox.pk, written, release))
    writer_a.start()
    assert await asyncio.to_thread(written.wait, 10)
    writer_b = threading.Thread(target=_write_now, args=(inbox.pk, b_done))
    writer_b.start()
    await asyncio.sleep(1.5)
    # B must not have become visible ahead of A: the console has heard of no message yet.
    early = await socket.drain(quiet=0.2)
    assert [f for f in early if f["type"] == "message.created"] == []
    assert not b_done.is_set()
    release.set()
    await asyncio.to_thread(writer_a.join, 15)
    await asyncio.to_thread(writer_b.join, 25)
    assert b_done.is_set()

    frames = []
    while len([f for f in frames if f["type"] == "message.created"]) < 2:
        frames.append(await socket.receive(timeout=5))
    texts = [f["data"]["message"]["body_text"] for f in frames if f["type"] == "message.created"]
    assert texts == ["A (slow writer)", "B (fast writer)"]
    assert ids(frames) == sorted(ids(frames))

    # A client that disconnected right after A's first event resumes and gets all of B.
    a_first = frames[0]["id"]
    await socket.close()
    again = await sockets.console(people.agent)
    await again.send({"action": "resume", "since": a_first})
    replay = await again.drain(quiet=0.5)
    # (Later ids are the agent's own presence going offline and back online.)
    assert [f["id"] for f in replay if f["id"] <= frames[-1]["id"]] == [f["id"] for f in frames[1:]]
    await again.close()
