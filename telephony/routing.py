"""Who the phone rings. The one place that decides it, so that routing rules and
business hours (issue 7) can replace it without touching the webhooks."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Value,
)
from django.db.models.functions import Now
from django.utils import timezone

from hub.compiled_query import CompiledValues
from hub.models import Team, User
from inbox.business_hours import is_open
from inbox.models import Conversation, ConversationStatus, PresenceStatus
from telephony.models import FINAL_CALL_STATUSES, AgentLine, Call

# Twilio dials at most ten <Client> or <Number> nouns of one <Dial> at once
# (https://www.twilio.com/docs/voice/twiml/client, .../twiml/number).
TWILIO_DIAL_LIMIT = 10
# The rotation looks this far back at most (calls of the team that rang someone):
# beyond RECENT_CALLS_READ x group size available agents, the ones not seen in it
# count as never offered and share the front of the line.
RECENT_CALLS_READ = 200
NEVER_OFFERED = (0, 0)


def ring_group_size() -> int:
    return max(1, min(settings.TELEPHONY_RING_GROUP_SIZE, TWILIO_DIAL_LIMIT))


@dataclass(frozen=True)
class RingLeg:
    """One agent a call rings: the agent's id and how the phone reaches them."""

    user_id: int
    client_identity: str = ""
    forward_number: str = ""

    @property
    def identity(self) -> str:
        return self.client_identity or f"agent-{self.user_id}"


@dataclass(frozen=True)
class RingPlan:
    """`available`: ids of online agents with room, in ring order (least recently
    offered a call first). `busy`: ids of online agents who are at capacity or on a
    call (the caller queues for them). `ring_group`: the legs this call rings, the
    first `size` available agents."""

    team: Team | None
    available: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)
    ring_group: list[RingLeg] = field(default_factory=list)
    # Callers of the team are on hold: a new caller queues behind them even when an
    # agent is free, since the first of them takes that agent at its next check.
    callers_on_hold: bool = False

    @property
    def outcome(self) -> str:
        if self.available and not self.callers_on_hold:
            return "ring"
        if self.available or self.busy:
            return "queue"
        return "voicemail"


def is_open_now(team: Team | None) -> bool:
    """Whether the team is within its business hours (24/7 when it has none). A closed
    team sends callers straight to voicemail."""
    return is_open(team, timezone.now())


def on_hold(team_id: int, max_wait_seconds: int) -> QuerySet[Call]:
    """The team's callers on hold: queued calls nobody answered (a PBX's queue reports
    its answers) that are not over, younger than the longest wait (a call whose end
    was never reported stops counting then)."""
    oldest = ExpressionWrapper(
        Now() - Value(timedelta(seconds=max_wait_seconds)), output_field=DateTimeField()
    )
    return Call.objects.filter(
        team_id=team_id,
        outcome="queue",
        ended_at__isnull=True,
        answered_by__isnull=True,
        created_at__gte=oldest,
    )


@functools.lru_cache(maxsize=1024)
def _online_agents_sql(
    team_id: int, alias: str, max_wait_seconds: int
) -> tuple[str, tuple[Any, ...]]:
    """The online agents of a team with their open work, whether they are on a call and
    their phone line, and whether the team has callers on hold, compiled to SQL once
    per team and process: the ORM took about as long to build this query as PostgreSQL
    took to run it over 500 agents, on every call. The SQL depends on nothing but the
    team's id and the longest wait on hold.

    "Callers on hold" is one uncorrelated EXISTS over a partial index of the queued
    calls nobody answered that are not over: PostgreSQL runs it once per statement (an
    InitPlan), not per row, and it costs no round trip of its own.

    The open work is counted in one grouped pass over the open conversations of the
    team's members, joined to the agents: as a correlated count per agent, PostgreSQL
    scanned the conversations once per online agent whenever its statistics called the
    table small (a growing table between two ANALYZE runs), 500 scans per call.

    Both reads also say "with an agent" (`assignee`, `answered_by` not null), which the
    join to the agent implies: it lets PostgreSQL skip through the column's index what
    can never count, which otherwise it read on every call. The open conversations
    nobody has taken yet (a support queue's backlog) and the calls no agent answered
    that are not over (ringing, or left so by a status callback that never came) grew
    the statement by a read of each once the planner chose one pass over them for a
    big team: 1.9 ms against 1.2 ms with 500 agents and 2,940 of each."""
    open_work = (
        Conversation.objects.using(alias)
        .filter(assignee__teams=team_id, assignee__isnull=False)
        .exclude(status=ConversationStatus.RESOLVED)
        .order_by()
        .values(agent=F("assignee"))
        .annotate(open_work=Count("pk"))
        .values("agent", "open_work")
    )
    on_call = Exists(
        Call.objects.filter(answered_by=OuterRef("pk"), answered_by__isnull=False).exclude(
            status__in=FINAL_CALL_STATUSES
        )
    )
    agents = (
        User.objects.using(alias)
        .filter(
            teams=team_id,
            is_active=True,
            presence__effective=PresenceStatus.ONLINE,
        )
        .exclude(role="partner")
        .order_by()
        .values(
            agent=F("id"),
            agent_name=F("full_name"),
            agent_capacity=F("capacity"),
            on_call=on_call,
            line_identity=F("phone_line__client_identity"),
            line_number=F("phone_line__forward_number"),
            callers_on_hold=Exists(on_hold(team_id, max_wait_seconds)),
        )
    )
    connection = connections[alias]
    agents_sql, agents_params = agents.query.get_compiler(using=alias).as_sql()
    work_sql, work_params = open_work.query.get_compiler(using=alias).as_sql()
    q = connection.ops.quote_name
    # The derived tables' columns are the aliases given above.
    sql = (
        f"SELECT a.{q('agent')}, COALESCE(w.{q('open_work')}, 0) AS {q('work')},"  # noqa: S608 (compiled ORM SQL and fixed aliases, no input)
        f" a.{q('agent_capacity')}, a.{q('on_call')}, a.{q('line_identity')},"
        f" a.{q('line_number')}, a.{q('callers_on_hold')}"
        f" FROM ({agents_sql}) a LEFT JOIN ({work_sql}) w ON w.{q('agent')} = a.{q('agent')}"
        f" ORDER BY {q('work')}, a.{q('agent_name')}, a.{q('agent')}"
    )
    return sql, (*agents_params, *work_params)


def agents_to_ring(team: Team | None) -> RingPlan:
    """One query for the team's online agents with their open work, whether they are
    on a call, and their phone line, as plain rows (a big team is hundreds of agents
    and only the ring group is needed), and whether callers are on hold; one for the
    team's latest rung calls."""
    if team is None or not is_open_now(team):
        return RingPlan(team=team)
    alias = router.db_for_read(User)
    sql, params = _online_agents_sql(team.pk, alias, settings.TELEPHONY_QUEUE_MAX_WAIT_SECONDS)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        # (id, open work, capacity, on a call, client identity, forward number, callers
        # on hold); the booleans are 0/1 on SQLite.
        online = cursor.fetchall()
    available = [pk for pk, work, capacity, busy, *_ in online if not busy and work < capacity]
    # By id: `u not in available` compared model instances, quadratic in the team's
    # online agents (about 140 ms per call with 500 of them).
    available_ids = set(available)
    busy = [row[0] for row in online if row[0] not in available_ids]
    size = ring_group_size()
    if len(available) > size:
        offered = last_offered(team, len(available), size)
        # Stable: equally long waiting agents keep the least-loaded-first order.
        available.sort(key=lambda pk: offered.get(pk, NEVER_OFFERED))
    lines = {row[0]: (row[4] or "", row[5] or "") for row in online}
    ring_group = [RingLeg(pk, *lines[pk]) for pk in available[:size]]
    return RingPlan(
        team=team,
        available=available,
        busy=busy,
        ring_group=ring_group,
        callers_on_hold=bool(online[0][6]) if online else False,
    )


def last_offered(team: Team, available: int, size: int) -> dict[int, tuple[int, int]]:
    """Agent id -> (id of the latest call of the team that rang them, their place in
    its ring order), read from as many recent rung calls as it takes to have offered a
    call to every available agent once. Ringing the smallest first makes the team a
    queue: the least recently offered agents ring next, and agents offered the same
    call come round again in the order they rang then."""
    window = min(RECENT_CALLS_READ, -(-available // size) + 1)
    offered: dict[int, tuple[int, int]] = {}
    for row in _RECENT_RUNG_CALLS.rows(shape=window, team=team.pk):
        call_id = row["id"]
        for place, user_id in enumerate(row["rung_user_ids"]):
            offered.setdefault(user_id, (call_id, place))
    return offered


def _recent_rung_calls(team: int, shape: int) -> QuerySet[Call, dict[str, Any]]:
    """The team's latest `shape` calls that rang someone, newest first."""
    return (
        Call.objects.filter(team_id=team, outcome="ring")
        .order_by("-id")
        .values("id", "rung_user_ids")[:shape]
    )


# Read on every call that has more agents to ring than a group holds: compiled once
# per process and window (hub.compiled_query).
_RECENT_RUNG_CALLS = CompiledValues(Call, _recent_rung_calls, team=-904_215)


def legs_of(user_ids: list[int]) -> list[RingLeg]:
    """The legs of agents rung earlier (a retried webhook), in the given order."""
    lines = {line.user_id: line for line in AgentLine.objects.filter(user_id__in=user_ids)}
    return [
        RingLeg(pk, lines[pk].client_identity, lines[pk].forward_number)
        if pk in lines
        else RingLeg(pk)
        for pk in user_ids
    ]


def client_identity(user: User, line: AgentLine | None) -> str:
    return (line.client_identity if line else "") or f"agent-{user.pk}"


__all__ = [
    "RingLeg",
    "RingPlan",
    "agents_to_ring",
    "client_identity",
    "is_open_now",
    "legs_of",
    "ring_group_size",
]
