"""The event log: how a write becomes something a socket sees (DESIGN §5).

Domain actions call record_event() inside their transaction. The row commits with
the write it describes; after commit, a doorbell goes to every server process
(`hub.events` group), which reads new rows from the log and fans them out. A server
process that wrote the events itself (a webhook served by Daphne) also hands the
committed rows straight to its own pump (`add_committed_listener`), which sends them
without reading them back when they follow the last event it sent: the screen pop
then waits neither for the channel layer nor for a read queued behind the webhook's
next statements.

Ordering: event ids must become visible in id order, or a reader that saw id 7
could later find a 6 it skipped. SQLite already serializes writers (IMMEDIATE
transactions); on PostgreSQL, record_event takes a transaction-level advisory lock
before drawing the id, so ids are drawn and committed in the same order. The lock
is held only from the event insert to the commit: actions record their event last.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from inbox.models import Event

logger = logging.getLogger(__name__)

# Every server process listens on this group; messages on it are only doorbells.
EVENTS_GROUP = "hub.events"
EVENT_LOG_LOCK_KEY = 0x48554245  # "HUBE": the advisory lock that orders event ids

# One schema per event type: the keys its data must carry (Zulip's event_schema idea).
EVENT_SCHEMAS: dict[str, frozenset[str]] = {
    "conversation.created": frozenset({"conversation"}),
    "conversation.updated": frozenset({"conversation"}),
    "conversation.unshared": frozenset({"conversation"}),
    "message.created": frozenset({"conversation", "message"}),
    "message.updated": frozenset({"conversation", "message"}),
    "note.created": frozenset({"conversation", "note"}),
    "note.mentioned": frozenset({"note", "by"}),
    "call.incoming": frozenset({"call", "contact"}),
    "call.updated": frozenset({"call"}),
    "presence.changed": frozenset({"user", "name", "status"}),
    "typing": frozenset({"conversation", "typing"}),
    "collision": frozenset({"conversation", "viewers"}),
    "sla.warning": frozenset({"conversation", "target", "due_at"}),
    # Notes and documents of kb_documents shared with / withdrawn from a partner.
    "note.shared": frozenset({"item"}),
    "note.unshared": frozenset({"item"}),
    "document.shared": frozenset({"item"}),
    "document.unshared": frozenset({"item"}),
    "sla.breached": frozenset({"conversation", "target", "due_at", "supervisors"}),
    # Analytics (issue 11): live team figures for the supervisor dashboard.
    "figures.updated": frozenset({"team", "figures"}),
}


class EventSchemaError(ValueError):
    pass


def check_event(event_type: str, data: dict[str, Any]) -> None:
    required = EVENT_SCHEMAS.get(event_type)
    if required is None:
        raise EventSchemaError(f"unknown event type {event_type!r}")
    missing = required - data.keys()
    if missing:
        raise EventSchemaError(f"{event_type} lacks {sorted(missing)}")


def format_audience(keys: Iterable[str]) -> str:
    cleaned = sorted({key for key in keys if key})
    if not cleaned:
        raise ValueError("an event needs an audience")
    return " " + " ".join(cleaned) + " "


def _lock_event_log() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOG_LOCK_KEY])


@dataclass(frozen=True)
class PendingEvent:
    """An event an action has decided on but not yet written: actions that record
    several events of one write hand them to record_events() together (one INSERT)."""

    type: str
    data: dict[str, Any]
    audience: Iterable[str]
    conversation_id: int | None = None


def record_event(
    event_type: str,
    data: dict[str, Any],
    audience: Iterable[str],
    *,
    conversation_id: int | None = None,
) -> Event:
    """Write an event in the caller's transaction; it is announced after commit."""
    return record_events([PendingEvent(event_type, data, audience, conversation_id)])[0]


def record_events(pending: list[PendingEvent]) -> list[Event]:
    """Write events in the caller's transaction, in one statement, ids in list order
    (PostgreSQL and SQLite both number the rows of one multi-row INSERT in order, and
    the event-log lock keeps other transactions' ids out of the run)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of its write")
    if not pending:
        return []
    for item in pending:
        check_event(item.type, item.data)
    first_in_transaction = not _doorbell_pending()
    if first_in_transaction:
        _lock_event_log()
    now = timezone.now()
    events = [
        Event(
            type=item.type,
            data=item.data,
            audience=format_audience(item.audience),
            conversation_id=item.conversation_id,
            created_at=now,
        )
        for item in pending
    ]
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        Event.objects.bulk_create(events)
    if _committed_listeners and all(event.pk is not None for event in events):
        # Registered per call, not once per transaction: Django drops it with the
        # savepoint its events die with. Before the doorbell, whose group_send the
        # writer's thread waits for.
        transaction.on_commit(_Handover(events))
    if first_in_transaction:
        transaction.on_commit(_Doorbell(events))
    else:
        _raise_pending_doorbell(events)
    return events


# Callables of this process that take committed events (the server's event pump). A
# listener is called in the writer's thread right after the commit and must only
# hand the events over (to its event loop); it raises RuntimeError once its loop is
# gone, and is then dropped.
CommittedListener = Callable[[list[Event]], None]
_committed_listeners: list[CommittedListener] = []


def add_committed_listener(listener: CommittedListener) -> None:
    _committed_listeners.append(listener)


def remove_committed_listener(listener: CommittedListener) -> None:
    if listener in _committed_listeners:
        _committed_listeners.remove(listener)


class _Handover:
    """After commit: this process's listeners get copies of the events as a reader of
    the log would see them (data through JSON, as the column stores it; no object the
    writer may still change)."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def __call__(self) -> None:
        try:
            copies = events_from_json(events_to_json(self.events))
        except (TypeError, ValueError):  # the log is read as usual
            logger.warning("could not hand over events", exc_info=True)
            return
        for listener in list(_committed_listeners):
            try:
                listener(copies)
            except RuntimeError:
                remove_committed_listener(listener)  # its event loop is closed
            except Exception:  # the doorbell and the poll still bring the events
                logger.warning("event hand-over failed", exc_info=True)


def events_to_json(events: list[Event]) -> str:
    """Committed events as the log holds them, for a doorbell or a hand-over."""
    return json.dumps(
        [
            {
                "id": event.pk,
                "type": event.type,
                "data": event.data,
                "audience": event.audience,
                "conversation_id": event.conversation_id,
                "at": event.created_at.isoformat(),
            }
            for event in events
        ]
    )


def events_from_json(text: str) -> list[Event]:
    return [
        Event(
            pk=row["id"],
            type=row["type"],
            data=row["data"],
            audience=row["audience"],
            conversation_id=row["conversation_id"],
            created_at=datetime.fromisoformat(row["at"]),
        )
        for row in json.loads(text)
    ]


def _raise_pending_doorbell(events: list[Event]) -> None:
    """The doorbell names the transaction's highest event id, so that a server that
    has sent that id already can skip reading the log (the id may belong to a
    savepoint rolled back since, which only costs a read). It carries the events
    only while they all commit or roll back with it: recorded under a savepoint it
    does not share, they could be rolled back while it still rings."""
    for savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _Doorbell) and not callback.rung:
            callback.event_id = max(callback.event_id, events[-1].pk)
            if callback.events is not None and savepoints == set(connection.savepoint_ids):
                callback.events.extend(events)
            else:
                callback.events = None


class _Doorbell:
    """The after-commit callback of a transaction's events. It remembers having rung:
    a test that runs on-commit callbacks inside its own outer transaction leaves
    them in the list, and they must not stand in for the next event's doorbell."""

    def __init__(self, events: list[Event]) -> None:
        self.event_id = events[-1].pk
        # The events it carries to the other processes (None: they read the log).
        self.events: list[Event] | None = list(events)
        self.rung = False

    def __call__(self) -> None:
        self.rung = True
        ring_doorbell(self.event_id, self.events)


def _doorbell_pending() -> bool:
    """Whether an earlier event of this transaction already took the event-log lock
    and registered the doorbell; then neither is needed again.

    One doorbell per transaction, however many events it records: servers read
    everything new from the log when woken, whatever id the doorbell names (a
    group_send costs milliseconds; an inbound message records two or three events).
    The lock and the callback live and die together: a savepoint rolled back drops
    the callbacks registered in it and releases the locks taken in it (PostgreSQL
    releases a lock taken after a savepoint when rolling back to it), so a callback
    still registered means the lock is still held."""
    return any(
        isinstance(callback, _Doorbell) and not callback.rung
        for _savepoints, callback, _robust in connection.run_on_commit
    )


class _LayerLoop:
    """One long-lived event loop per process for the doorbells of sync writers.

    async_to_sync outside a server's loop runs each call in a new event loop, and
    channels_redis keeps its connections per loop: every doorbell opened (and
    closed) a Redis connection, about 6 ms of each inbound message in the mail
    worker. Sending from one loop that stays up reuses one connection."""

    SEND_TIMEOUT_SECONDS = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="event-doorbell", daemon=True
                ).start()
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            future.result(timeout=self.SEND_TIMEOUT_SECONDS)
        finally:
            future.cancel()  # a send that timed out must not linger on the loop


_layer_loop = _LayerLoop()


# A doorbell carries its events up to this size of their JSON; a larger batch (a mail
# sync's) rings with the id only, and every process reads it from the log.
DOORBELL_EVENTS_MAX_CHARS = 16_000


def ring_doorbell(event_id: int, events: list[Event] | None = None) -> None:
    """Tell every server process that the log has grown, with the committed events
    themselves when they are few: a process whose last event sent directly precedes
    them sends them without reading the log. Losing this is harmless: servers also
    poll the log."""
    layer = get_channel_layer()
    if layer is None:
        return
    message: dict[str, Any] = {"type": "events.new", "id": event_id}
    if events:
        try:
            carried = events_to_json(events)
        except (TypeError, ValueError):  # the readers fetch them from the log
            carried = ""
        if 0 < len(carried) <= DOORBELL_EVENTS_MAX_CHARS:
            message["events"] = carried
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # Its queues belong to the server's own loop: async_to_sync finds that
            # loop when called from a server's thread.
            async_to_sync(layer.group_send)(EVENTS_GROUP, message)
        else:
            _layer_loop.run(layer.group_send(EVENTS_GROUP, message))
    except Exception:  # the poll picks the event up; a dead layer must not fail the write
        logger.warning("could not announce event %s on the channel layer", event_id, exc_info=True)


def doorbell_events(message: dict[str, Any]) -> list[Event]:
    """The committed events a doorbell carries (none: read the log)."""
    carried = message.get("events")
    if not isinstance(carried, str):
        return []
    try:
        return events_from_json(carried)
    except (TypeError, ValueError, KeyError):
        logger.warning("unreadable events on a doorbell; reading the log", exc_info=True)
        return []


def envelope(event: Event) -> dict[str, Any]:
    """The §4 envelope every client receives."""
    return {
        "id": event.pk,
        "type": event.type,
        "at": event.created_at.isoformat(),
        "data": event.data,
    }


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_after(event_id: int, *, limit: int = 1000) -> list[Event]:
    return list(Event.objects.filter(id__gt=event_id).order_by("id")[:limit])


def events_for(keys: Iterable[str], after: int, *, limit: int = 1000) -> QuerySet[Event]:
    """Events after an id that any of these audience keys may receive, in id order."""
    condition = Q()
    for key in keys:
        condition |= Q(audience__contains=f" {key} ")
    if not condition:
        return Event.objects.none()
    return Event.objects.filter(condition, id__gt=after).order_by("id")[:limit]


def partner_view(event_type: str, data: dict[str, Any], organization_id: int) -> dict[str, Any]:
    """The event as a partner of one organization may see it: never which other
    partners a conversation is shared with."""
    conversation = data.get("conversation")
    if isinstance(conversation, dict) and "partners" in conversation:
        partners = [pk for pk in conversation["partners"] if pk == organization_id]
        data = {**data, "conversation": {**conversation, "partners": partners}}
    note = data.get("note")
    if isinstance(note, dict) and "shared_with" in note:
        shared = [pk for pk in note["shared_with"] if pk == organization_id]
        data = {**data, "note": {**note, "shared_with": shared}}
    return data


def visitor_view(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """What a web chat visitor may see of an event, or None: the message text and who
    wrote it, never internal ids, addresses or notes."""
    if event_type == "message.created":
        message = data["message"]
        return {
            "conversation": data["conversation"],
            "message": {
                "id": message["id"],
                "direction": message["direction"],
                "body_text": message["body_text"],
                "author_name": message.get("author_name") or message.get("sender_name"),
                "created_at": message["created_at"],
            },
        }
    if event_type == "typing" and "user" in data:
        return {
            "conversation": data["conversation"],
            "typing": data["typing"],
            "name": data.get("name"),
        }
    return None
