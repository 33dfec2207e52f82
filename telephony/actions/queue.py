"""Callers on hold. A call the team cannot take at once waits in the team's Twilio
queue (`<Enqueue>`, telephony.twiml.queue_caller). Each time its hold music ends,
Twilio asks the hold URL what next, with the caller's place in the queue; the hub
answers "leave" once there is a free agent for that place, or once the caller has
waited the longest wait or the team's business hours have ended. Twilio then asks
the queue's action URL, where `do_ring_from_queue` rings the free agents, or takes a
voicemail.

A free agent is one the ring plan calls available (online, with room, not on a call)
whom no other call of the team is ringing right now: without that, two callers
leaving one after the other would both ring the one agent who just came free."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from hub.models import Team
from inbox.events import PendingEvent, record_events
from telephony.actions.calls import call_audience
from telephony.models import Call
from telephony.routing import RingLeg, agents_to_ring, is_open_now, legs_of, ring_group_size
from telephony.screen_pop import call_data, screen_pop_for
from telephony.twiml import RING_SECONDS

# A Dial rings for RING_SECONDS; its agents count as rung a little longer, for the
# status callback that reports the answer.
RINGING_COUNTS_SECONDS = RING_SECONDS + 10


def waited_too_long(call: Call) -> bool:
    waited = timezone.now() - call.created_at
    return waited >= timedelta(seconds=settings.TELEPHONY_QUEUE_MAX_WAIT_SECONDS)


def agents_being_rung(team: Team | None, *, other_than: Call) -> set[int]:
    """Agents another call of the team is ringing now (rung, not answered, not over,
    its ring started within the ring time)."""
    since = timezone.now() - timedelta(seconds=RINGING_COUNTS_SECONDS)
    rows = (
        Call.objects.filter(
            team=team, outcome="ring", ended_at__isnull=True, answered_by__isnull=True
        )
        .alias(ringing_since=Coalesce("dequeued_at", "created_at"))
        .filter(ringing_since__gte=since)
        .exclude(pk=other_than.pk)
        .values_list("rung_user_ids", flat=True)
    )
    return {user_id for rung in rows for user_id in rung}


def free_agents(call: Call) -> list[int]:
    """The team's agents a caller on hold may ring now, in ring order."""
    plan = agents_to_ring(call.team)
    if not plan.available:
        return []
    rung = agents_being_rung(call.team, other_than=call)
    return [pk for pk in plan.available if pk not in rung]


def goes_to_voicemail(call: Call) -> bool:
    """A caller on hold stops waiting after the longest wait, or when the team's
    business hours end."""
    return waited_too_long(call) or not is_open_now(call.team)


def leaves_queue(call: Call | None, position: int) -> bool:
    """Whether the caller at `position` (1 is the front) of the queue leaves it now:
    when a free agent is there for that place, or for voicemail. A call the hub does
    not know, or that is not on hold any more, leaves too, and the queue's action
    answers it."""
    if call is None or call.is_over or call.outcome != "queue":
        return True
    if goes_to_voicemail(call):
        return True
    return position <= len(free_agents(call))


@transaction.atomic
def do_ring_from_queue(call: Call) -> tuple[Call, list[RingLeg] | None]:
    """The caller left the queue: ring the free agents (their screens pop now, with the
    caller's profile), or take a voicemail after the longest wait or the team's hours.
    If the free agent was taken in between, the call stays on hold (`outcome` queue)
    and its caller queues again, at the back. Under the call's lock and only from
    "queue": a repeated request gets the stored answer and writes nothing."""
    call = Call.objects.select_for_update(of=("self",)).select_related("contact").get(pk=call.pk)
    if call.is_over or call.outcome != "queue":
        return call, None
    if goes_to_voicemail(call):
        call.outcome = "voicemail"
        call.save(update_fields=["outcome"])
        record_events([_call_updated(call)])
        return call, None
    free = free_agents(call)
    if not free:
        return call, None
    legs = legs_of(free[: ring_group_size()])
    call.outcome = "ring"
    call.rung_user_ids = [leg.user_id for leg in legs]
    call.dequeued_at = timezone.now()
    call.save(update_fields=["outcome", "rung_user_ids", "dequeued_at"])
    pop = screen_pop_for(call)
    record_events(
        [
            _call_updated(call),
            # The phone rings for these agents now: their screens pop as for a new call.
            PendingEvent(
                "call.incoming",
                pop,
                {f"user.{user_id}" for user_id in call.rung_user_ids},
                call.conversation_id,
            ),
        ]
    )
    return call, legs


def _call_updated(call: Call) -> PendingEvent:
    return PendingEvent(
        "call.updated", {"call": call_data(call)}, call_audience(call), call.conversation_id
    )
