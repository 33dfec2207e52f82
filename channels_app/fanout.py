"""One event pump per server process: reads the event log in id order and hands each
event to the local sockets whose audience keys it names.

Doorbells on the channel layer (group `hub.events`) bring what other processes
committed: the events themselves when they are few (inbox.events.ring_doorbell), else
only the news that the log has grown; a poll picks up what other processes wrote when
there is no shared layer (the embedded default) or a doorbell was lost. Events this
process wrote itself arrive on commit from the writer's thread
(inbox.events.add_committed_listener). Events handed over either way are sent without
a read when they follow the last event sent; otherwise they only wake the reader.
Each event is serialized once per view (staff, one partner organization, visitor),
not once per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections import defaultdict
from datetime import timedelta
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from channels_app.daphne_send import Frame
from inbox.actions import wake_snoozed_conversations
from inbox.events import (
    EVENTS_GROUP,
    add_committed_listener,
    doorbell_events,
    envelope,
    events_after,
    last_event_id,
    partner_view,
    remove_committed_listener,
    visitor_view,
)
from inbox.models import Event
from inbox.presence import sweep_stale_sessions

logger = logging.getLogger(__name__)

SERVER_NAME = f"{socket.gethostname()}:{os.getpid()}"
BATCH = 500
MAINTENANCE_SECONDS = 15
GROUP_REFRESH_SECONDS = 600

# A view turns an event into the frame one kind of client may see (None: nothing).
View = tuple[str, ...]
STAFF_VIEW: View = ("staff",)
VISITOR_VIEW: View = ("visitor",)


def partner_view_of(organization_id: int) -> View:
    return ("partner", str(organization_id))


def frame_for(event: Event, view: View) -> str | None:
    if view == STAFF_VIEW:
        return json.dumps(envelope(event))
    if view[0] == "partner":
        data = partner_view(event.type, event.data, int(view[1]))
        return json.dumps({**envelope(event), "data": data})
    if view == VISITOR_VIEW:
        data = visitor_view(event.type, event.data)
        return None if data is None else json.dumps({**envelope(event), "data": data})
    raise ValueError(f"unknown view {view}")


class Subscriber(Protocol):
    view: View

    async def deliver(self, event_id: int, frame: Frame) -> None: ...


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.CONSOLE_HEARTBEAT_TIMEOUT)


def _read_after(event_id: int) -> list[Event]:
    # No close_old_connections() here: with SQLite it would reconnect (and rerun the
    # PRAGMAs) on every poll. Broken connections are dropped on failure, below.
    return events_after(event_id, limit=BATCH)


def _maintenance() -> None:
    close_old_connections()
    sweep_stale_sessions(timeout=heartbeat_timeout())
    wake_snoozed_conversations()


class EventFanout:
    def __init__(self) -> None:
        self.by_key: dict[str, set[Subscriber]] = defaultdict(set)
        self.last_id: int | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._started = asyncio.Event()
        self._layer = get_channel_layer()
        self._channel: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Reading the log and taking events handed over both send under this lock, in
        # id order: whichever comes second skips what the other sent.
        self._sending = asyncio.Lock()
        self._handovers: set[asyncio.Task[None]] = set()

    # -- subscriptions -------------------------------------------------------
    def subscribe(self, subscriber: Subscriber, keys: set[str]) -> None:
        for key in keys:
            self.by_key[key].add(subscriber)

    def unsubscribe(self, subscriber: Subscriber, keys: set[str]) -> None:
        for key in keys:
            subscribers = self.by_key.get(key)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self.by_key[key]

    @property
    def socket_count(self) -> int:
        return len({sub for subs in self.by_key.values() for sub in subs})

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        if self._tasks:
            await self._started.wait()
            return
        self._tasks.append(asyncio.create_task(self._run(), name="event-fanout"))
        await self._started.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A blocking Redis pop may take a moment to notice; don't wait on it forever.
            await asyncio.wait(self._tasks, timeout=0.5)
        self._tasks.clear()
        remove_committed_listener(self._take_committed)
        if self._channel is not None and self._layer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._layer.group_discard(EVENTS_GROUP, self._channel), 1)

    async def _run(self) -> None:
        self.last_id = await database_sync_to_async(last_event_id)()
        self._loop = asyncio.get_running_loop()
        add_committed_listener(self._take_committed)
        if self._layer is not None:
            # The default prefix matters: channels_redis reads every process-local
            # channel of a process from one list, keyed by that prefix.
            self._channel = await self._layer.new_channel()
            await self._layer.group_add(EVENTS_GROUP, self._channel)
            self._tasks.append(asyncio.create_task(self._listen(), name="event-doorbell"))
        self._tasks.append(asyncio.create_task(self._poll(), name="event-poll"))
        self._tasks.append(asyncio.create_task(self._maintain(), name="event-maintenance"))
        self._started.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except Exception:
                logger.exception("event fan-out failed; retrying on the next doorbell")
                await database_sync_to_async(close_old_connections)()
                await asyncio.sleep(0.5)
                self._wake.set()

    async def _listen(self) -> None:
        assert self._layer is not None and self._channel is not None
        while True:
            try:
                message = await self._layer.receive(self._channel)
                rung_for = message.get("id") if isinstance(message, dict) else None
                if (
                    isinstance(rung_for, int)
                    and self.last_id is not None
                    and rung_for <= self.last_id
                ):
                    # Sent already (handed over by this process's writer): a doorbell
                    # names its transaction's highest event id.
                    continue
                carried = doorbell_events(message) if isinstance(message, dict) else []
                if carried:
                    # Sent as they are if they follow the last event sent, else read.
                    self._start_handover(carried)
                else:
                    self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The layer is down (Redis restarting): the poll keeps events flowing.
                logger.warning(
                    "channel layer receive failed; polling until it is back", exc_info=True
                )
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await self._layer.group_add(EVENTS_GROUP, self._channel)

    async def _poll(self) -> None:
        interval = settings.EVENT_LOG_POLL_SECONDS
        while True:
            await asyncio.sleep(interval)
            self._wake.set()

    async def _maintain(self) -> None:
        refreshed = 0.0
        while True:
            await asyncio.sleep(MAINTENANCE_SECONDS)
            try:
                await database_sync_to_async(_maintenance)()
                refreshed += MAINTENANCE_SECONDS
                if self._layer is not None and refreshed >= GROUP_REFRESH_SECONDS:
                    # Group membership expires in the layer; renew it.
                    await self._layer.group_add(EVENTS_GROUP, self._channel)
                    refreshed = 0.0
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("event maintenance failed")

    async def _drain(self) -> None:
        while True:
            assert self.last_id is not None
            events = await database_sync_to_async(_read_after)(self.last_id)
            async with self._sending:
                for event in events:
                    if event.pk <= self.last_id:
                        continue  # handed over while the read ran
                    await self._dispatch(event)
                    self.last_id = event.pk
            if len(events) < BATCH:
                return

    def _take_committed(self, events: list[Event]) -> None:
        """Called in a writer's thread after its commit (RuntimeError once the loop
        is closed: the listener is then dropped)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._start_handover, events)

    def _start_handover(self, events: list[Event]) -> None:
        task = asyncio.create_task(self._send_committed(events))
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    async def _send_committed(self, events: list[Event]) -> None:
        """Events are sent without a read only if they directly follow the last event
        sent: ids are committed in id order (inbox.events), so nothing below them can
        still appear. After a gap (a rolled-back id, an event of another process not
        read yet) the reader fetches them from the log, in order."""
        async with self._sending:
            assert self.last_id is not None
            fresh = [event for event in events if event.pk > self.last_id]
            if not fresh:
                return
            expected = range(self.last_id + 1, self.last_id + 1 + len(fresh))
            if [event.pk for event in fresh] != list(expected):
                self._wake.set()
                return
            for event in fresh:
                await self._dispatch(event)
                self.last_id = event.pk

    async def _dispatch(self, event: Event) -> None:
        targets: set[Subscriber] = set()
        for key in event.audience_keys:
            subscribers = self.by_key.get(key)
            if subscribers:
                targets.update(subscribers)
        if not targets:
            return
        # One frame per view, shared by its sockets (under Daphne framed once, too).
        frames: dict[View, Frame | None] = {}
        for subscriber in targets:
            view = subscriber.view
            if view not in frames:
                text = frame_for(event, view)
                frames[view] = None if text is None else Frame(text)
            frame = frames[view]
            if frame is None:
                continue
            try:
                await subscriber.deliver(event.pk, frame)
            except Exception:
                # One broken socket must never cost the others their events.
                logger.warning(
                    "delivery of event %s failed for one socket", event.pk, exc_info=True
                )


_fanouts: dict[asyncio.AbstractEventLoop, EventFanout] = {}


async def get_fanout() -> EventFanout:
    """This process's pump (one per event loop: tests run a loop per test)."""
    loop = asyncio.get_running_loop()
    fanout = _fanouts.get(loop)
    if fanout is None:
        fanout = _fanouts[loop] = EventFanout()
    await fanout.start()
    return fanout


async def stop_fanout() -> None:
    fanout = _fanouts.pop(asyncio.get_running_loop(), None)
    if fanout is not None:
        await fanout.stop()
