"""Callers on hold: a caller the team cannot take at once waits in the team's queue, and
leaves it for the first agent who comes free (whose screen pops then), in the order
they queued; new callers queue behind them; the longest wait ends in voicemail; a
caller who hangs up on hold is a missed call."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from hub.actions import PhoneInput, do_create_contact
from hub.models import Task, User
from inbox.models import (
    AgentPresence,
    BusinessHours,
    Conversation,
    ConversationStatus,
    Event,
    Inbox,
    OpeningInterval,
)
from telephony.actions import calls as call_actions
from telephony.models import Call, CallStatus
from tests.conftest import login_client
from tests.factories import Personas, make_user
from tests.inbox_fixtures import inbound, make_inbox
from tests.telephony.conftest import call_params, ring_plan_nodes, twilio_post, twiml

pytestmark = pytest.mark.django_db

VOICE = "/telephony/twilio/voice/"
HOLD = "/telephony/twilio/voice/hold/"
QUEUE_ACTION = "/telephony/twilio/voice/after-dial/"


def sid(number: int) -> str:
    return f"CA{number:032d}"


@pytest.fixture
def busy_agent(people: Personas, phone_inbox: Inbox) -> Conversation:
    """The support team's one online agent, at capacity with one open conversation
    (returned: resolving it frees the agent)."""
    AgentPresence.objects.update_or_create(user=people.agent, defaults={"effective": "online"})
    people.agent.capacity = 1
    people.agent.save()
    conversation = inbound(make_inbox(people.support, key="web")).conversation
    conversation.assignee = people.agent
    conversation.save()
    return conversation


def free(conversation: Conversation) -> None:
    conversation.status = ConversationStatus.RESOLVED
    conversation.save()


def make_busy(agent: User, people: Personas) -> None:
    conversation = inbound(make_inbox(people.support, key="chat2")).conversation
    conversation.assignee = agent
    conversation.save()


def call_in(number: int) -> Any:
    return twiml(twilio_post(VOICE, call_params(sid=sid(number), caller=f"+1415555{number:04d}")))


def hold(number: int, position: int = 1, waited: int = 30) -> Any:
    params = {"CallSid": sid(number), "QueuePosition": str(position), "QueueTime": str(waited)}
    return twiml(twilio_post(HOLD, params))


def leave(number: int) -> Any:
    return twiml(twilio_post(QUEUE_ACTION, call_params(sid=sid(number), QueueResult="leave")))


def said(root: Any) -> list[str]:
    return [say.text or "" for say in root.findall("Say")]


def test_while_every_agent_is_busy_the_caller_hears_the_greeting_once_then_music(
    busy_agent: Conversation,
) -> None:
    assert call_in(1).find("Enqueue") is not None
    first = hold(1, waited=0)
    later = hold(1, position=3, waited=45)
    assert said(first) == [
        "All our agents are busy. Please hold, we will be with you shortly.",
        "You are number 1 in line.",
    ]
    assert said(later) == ["You are number 3 in line."]
    assert first.find("Play") is not None and later.find("Play") is not None
    # One play, not an endless loop: Twilio asks the hold URL again when it ends.
    assert later.find("Play").get("loop") in (None, "1")
    assert first.find("Leave") is None and later.find("Leave") is None
    assert Call.objects.get().outcome == "queue"


def test_the_caller_leaves_the_queue_for_the_agent_who_comes_free_whose_screen_pops(
    people: Personas, busy_agent: Conversation
) -> None:
    customer = do_create_contact("Dana Customer", phones=[PhoneInput("+14155550001")])
    call_in(1)
    pops_before = Event.objects.filter(type="call.incoming").count()

    free(busy_agent)
    assert hold(1).find("Leave") is not None
    root = leave(1)

    dial = root.find("Dial")
    assert dial is not None
    assert [leg.text for leg in dial] == [f"agent-{people.agent.pk}"]
    call = Call.objects.get()
    assert call.outcome == "ring"
    assert call.rung_user_ids == [people.agent.pk]
    assert call.dequeued_at is not None
    pop = Event.objects.filter(type="call.incoming").order_by("id").last()
    assert Event.objects.filter(type="call.incoming").count() == pops_before + 1
    assert pop.audience_keys == {f"user.{people.agent.pk}"}
    assert pop.data["contact"]["name"] == customer.name
    update = Event.objects.filter(type="call.updated").order_by("id").last()
    assert update.data["call"]["outcome"] == "ring"
    assert f"user.{people.agent.pk}" in update.audience_keys
    # The call log shows how long the caller was on hold.
    (logged,) = login_client(people.supervisor).get("/api/v1/calls/").json()["results"]
    assert logged["dequeued_at"] is not None
    assert logged["dequeued_at"] >= logged["created_at"]


def test_a_repeated_leave_gets_the_same_ring_and_writes_nothing_more(
    people: Personas, busy_agent: Conversation
) -> None:
    call_in(1)
    free(busy_agent)
    first = leave(1)
    events = Event.objects.count()

    again = leave(1)

    assert [leg.text for leg in again.find("Dial")] == [leg.text for leg in first.find("Dial")]
    assert Event.objects.count() == events


def test_callers_leave_in_queue_order_and_never_two_for_one_free_agent(
    people: Personas, busy_agent: Conversation
) -> None:
    call_in(1)
    call_in(2)
    free(busy_agent)

    # One free agent: the caller at the front may go, the second may not.
    assert hold(2, position=2).find("Leave") is None
    assert hold(1, position=1).find("Leave") is not None
    assert leave(1).find("Dial") is not None
    # The agent is ringing for the first caller: still nobody for the second, now first.
    assert hold(2, position=1).find("Leave") is None
    assert Call.objects.get(sid=sid(2)).outcome == "queue"


def test_the_agent_counts_as_free_again_once_the_ring_is_over(
    people: Personas, busy_agent: Conversation
) -> None:
    call_in(1)
    call_in(2)
    free(busy_agent)
    leave(1)
    first = Call.objects.get(sid=sid(1))
    Call.objects.filter(pk=first.pk).update(dequeued_at=timezone.now() - timedelta(minutes=5))

    # The first caller's ring timed out long ago (no answer, no report): the agent is
    # free for the second.
    assert hold(2, position=1).find("Leave") is not None


def test_a_new_caller_queues_behind_the_callers_on_hold_even_when_an_agent_is_free(
    people: Personas, busy_agent: Conversation
) -> None:
    call_in(1)
    free(busy_agent)

    assert call_in(2).find("Enqueue") is not None
    assert Call.objects.get(sid=sid(2)).outcome == "queue"

    # Once nobody waits (the first caller rang the agent), new callers ring again.
    leave(1)
    Call.objects.filter(sid=sid(1)).update(status=CallStatus.COMPLETED, ended_at=timezone.now())
    Call.objects.filter(sid=sid(2)).update(status=CallStatus.COMPLETED, ended_at=timezone.now())
    assert call_in(3).find("Dial") is not None


def test_a_call_on_hold_whose_end_was_never_reported_stops_holding_up_new_callers(
    people: Personas, busy_agent: Conversation, settings: Any
) -> None:
    call_in(1)
    free(busy_agent)
    too_long = timedelta(seconds=settings.TELEPHONY_QUEUE_MAX_WAIT_SECONDS + 1)
    Call.objects.filter(sid=sid(1)).update(created_at=timezone.now() - too_long)

    assert call_in(2).find("Dial") is not None


def test_a_queued_call_an_agent_answered_is_not_on_hold(
    people: Personas, busy_agent: Conversation
) -> None:
    """A PBX queues its callers itself and reports who answered (generic CTI)."""
    call_in(1)
    call_actions.do_update_call(
        Call.objects.get(sid=sid(1)), CallStatus.IN_PROGRESS, agent=people.teammate
    )
    free(busy_agent)

    assert call_in(2).find("Dial") is not None


def test_after_the_longest_wait_the_caller_leaves_for_voicemail(
    people: Personas, busy_agent: Conversation, settings: Any
) -> None:
    call_in(1)
    too_long = timedelta(seconds=settings.TELEPHONY_QUEUE_MAX_WAIT_SECONDS)
    Call.objects.filter(sid=sid(1)).update(created_at=timezone.now() - too_long)

    assert hold(1).find("Leave") is not None
    root = leave(1)

    assert root.find("Record") is not None
    assert root.find("Dial") is None
    assert Call.objects.get().outcome == "voicemail"
    assert Event.objects.filter(type="call.updated").last().data["call"]["outcome"] == "voicemail"


def test_when_the_team_closes_the_callers_on_hold_leave_for_voicemail(
    people: Personas, busy_agent: Conversation
) -> None:
    call_in(1)
    free(busy_agent)
    hours = BusinessHours.objects.create(team=people.support, time_zone="UTC")
    other_day = (timezone.now().weekday() + 3) % 7
    OpeningInterval.objects.create(hours=hours, weekday=other_day, opens=time(9), closes=time(17))

    assert hold(1).find("Leave") is not None
    assert leave(1).find("Record") is not None
    assert Call.objects.get().outcome == "voicemail"


def test_a_caller_whose_free_agent_was_taken_meanwhile_queues_again(
    people: Personas, busy_agent: Conversation
) -> None:
    call_in(1)
    free(busy_agent)
    assert hold(1).find("Leave") is not None
    make_busy(people.agent, people)
    events = Event.objects.count()

    root = leave(1)

    assert root.find("Enqueue") is not None
    call = Call.objects.get()
    assert call.outcome == "queue" and call.rung_user_ids == []
    assert Event.objects.count() == events


def test_a_caller_who_hangs_up_on_hold_is_a_missed_call_with_a_call_back_task(
    busy_agent: Conversation,
) -> None:
    call_in(1)
    root = twiml(twilio_post(QUEUE_ACTION, call_params(sid=sid(1), QueueResult="hangup")))

    assert root.find("Hangup") is not None
    call = Call.objects.get()
    assert call.status == CallStatus.COMPLETED
    assert call.ended_at is not None
    assert Task.objects.filter(pk=call.callback_task_id, title__startswith="Call back").exists()


def test_an_unknown_call_leaves_the_queue_for_voicemail_and_a_bad_position_is_refused(
    busy_agent: Conversation,
) -> None:
    assert hold(99).find("Leave") is not None
    assert leave(99).find("Record") is not None
    call_in(1)
    response = twilio_post(HOLD, {"CallSid": sid(1), "QueuePosition": "first"})
    assert response.status_code == 400
    assert Call.objects.get().outcome == "queue"


def test_the_ring_plan_asks_for_callers_on_hold_once_from_their_own_index(
    people: Personas, busy_agent: Conversation, phone_inbox: Inbox
) -> None:
    """The check rides on every call's ring plan statement: one read of the partial
    index of queued calls not over, not one per agent and not the team's call history."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan")
    history = 3_000
    Call.objects.bulk_create(
        Call(
            source="twilio",
            sid=f"CA{n:032d}",
            inbox=phone_inbox,
            team=people.support,
            outcome=("queue", "ring")[n % 2],
            status=CallStatus.COMPLETED,
            ended_at=timezone.now(),
        )
        for n in range(100, 100 + history)
    )
    for number in range(5):  # busy agents: the caller queues, and rows to join
        agent = make_user(f"hold{number}@hub.test", teams=(people.support,), capacity=0)
        AgentPresence.objects.create(user=agent, effective="online")
    call_in(1)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Call._meta.db_table}")

    nodes = ring_plan_nodes(people.support.pk)

    on_hold = [node for node in nodes if node.get("Index Name") == "telephony_call_team_on_hold"]
    assert len(on_hold) == 1, [node.get("Index Name") or node["Node Type"] for node in nodes]
    assert on_hold[0]["Actual Loops"] == 1
    assert on_hold[0]["Actual Rows"] == 1
