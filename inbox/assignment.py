"""Assignment within a team: round robin or least loaded, only to online staff with
room under their capacity. With nobody available a conversation waits unassigned in
the team queue; `drain_queues_for(user)` hands queued work out when an agent comes
online (inbox.presence) or frees capacity (inbox.actions: resolve, reassign).

Concurrency: every decision locks the team's `TeamAssignment` row and then the
`AgentPresence` rows of the team's members in user-id order, and counts open work
after taking the locks. Two inbound transactions that could give the same agent work
therefore run one after the other, and the second sees the first one's assignment
(READ COMMITTED re-reads per statement), so capacity is never exceeded.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models import Count

from hub import config_cache
from hub.actions import record_audit
from hub.models import Team, TeamMembership, User
from inbox.events import record_event
from inbox.models import (
    AgentPresence,
    AssignmentStrategy,
    Conversation,
    ConversationStatus,
    PresenceStatus,
    TeamAssignment,
)
from inbox.serializers import conversation_data
from inbox.visibility import conversation_audience

logger = logging.getLogger(__name__)


def open_load(user_ids: list[int]) -> dict[int, int]:
    """Conversations each agent holds that are not resolved (snoozed ones count: they
    come back to the same agent)."""
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids)
        .exclude(status=ConversationStatus.RESOLVED)
        .values("assignee_id")
        .annotate(load=Count("id"))
    )
    loads = dict.fromkeys(user_ids, 0)
    loads.update({row["assignee_id"]: row["load"] for row in rows})
    return loads


def _auto_assigning_team_ids() -> set[int]:
    return set(TeamAssignment.objects.filter(auto_assign=True).values_list("team_id", flat=True))


def _locked_policy(team: Team | None) -> TeamAssignment | None:
    if team is None:
        return None
    # A team the cached configuration knows to assign by hand has nothing to lock.
    if team.pk not in config_cache.cached("assignment.auto_teams", _auto_assigning_team_ids):
        return None
    return (
        TeamAssignment.objects.select_for_update()
        .filter(team=team, auto_assign=True)
        .select_related("team")
        .first()
    )


def available_agents(team: Team) -> list[tuple[User, int]]:
    """Online staff of the team below their capacity, with their current load, in id
    order. Locks their presence rows for the rest of the transaction."""
    # One statement: the presence rows of the team's online staff, locked, with their
    # users (only the presence rows are locked). Loads are counted in a statement of
    # their own, after the locks are held: a count in this one would be read from the
    # snapshot taken before waiting for a lock, missing the holder's assignment.
    online = [
        presence.user
        for presence in AgentPresence.objects.select_for_update(of=("self",))
        .filter(
            user__teams=team,
            user__is_active=True,
            effective=PresenceStatus.ONLINE,
        )
        .exclude(user__role="partner")
        .select_related("user")
        .order_by("user_id")
    ]
    loads = open_load([user.pk for user in online])
    return [(user, loads[user.pk]) for user in online if loads[user.pk] < user.capacity]


def pick_agent(policy: TeamAssignment) -> User | None:
    candidates = available_agents(policy.team)
    if not candidates:
        return None
    if policy.strategy == AssignmentStrategy.LEAST_LOADED:
        return min(candidates, key=lambda pair: (pair[1], pair[0].pk))[0]
    after = policy.last_assigned_id or 0
    later = [user for user, _load in candidates if user.pk > after]
    return later[0] if later else candidates[0][0]


def strategy_name(policy: TeamAssignment) -> str:
    """The strategy as the routing trace names it: the trace is stored text, so it is
    not in the language of whoever's request happened to trigger the assignment."""
    return policy.strategy.replace("_", " ")


def assign_new_conversation(conversation: Conversation) -> list[str]:
    """Pick an agent for a new conversation (not saved here); returns trace lines."""
    team = conversation.team
    policy = _locked_policy(team)
    if team is None:
        return ["no team: not assigned"]
    if policy is None:
        return [f"team {team.name} assigns by hand: waits in the team queue"]
    agent = pick_agent(policy)
    if agent is None:
        return [f"no online agent with free capacity in {team.name}: waits in the team queue"]
    conversation.assignee = agent
    policy.last_assigned = agent
    policy.save(update_fields=["last_assigned"])
    return [f"assigned to {agent.full_name} ({strategy_name(policy)})"]


def _drain_team_queue(team: Team) -> list[Conversation]:
    """Assign the team's waiting conversations, oldest first, while agents have room."""
    policy = _locked_policy(team)
    if policy is None:
        return []
    assigned: list[Conversation] = []
    waiting = (
        Conversation.objects.filter(team=team, assignee__isnull=True)
        .exclude(status=ConversationStatus.RESOLVED)
        .order_by("created_at", "id")
    )
    for conversation_id in list(waiting.values_list("pk", flat=True)[:200]):
        agent = pick_agent(policy)
        if agent is None:
            break
        conversation = (
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=conversation_id, assignee__isnull=True)
            .first()
        )
        if conversation is None:
            continue
        strategy = strategy_name(policy)
        conversation.assignee = agent
        conversation.routing_trace = [
            *conversation.routing_trace,
            f"from the queue: assigned to {agent.full_name} ({strategy})",
        ]
        conversation.save()
        policy.last_assigned = agent
        policy.save(update_fields=["last_assigned"])
        record_audit(None, "conversation.assigned", conversation, {"assignee": [None, agent.pk]})
        assigned.append(conversation)
    return assigned


@transaction.atomic
def drain_team_queue(team: Team) -> int:
    assigned = _drain_team_queue(team)
    _emit_updated(assigned)
    return len(assigned)


@transaction.atomic
def drain_queues_for(user: User) -> int:
    """An agent came online or has room again: hand out the queues of their teams.

    Callers schedule it with `drain_after_commit`, in a transaction of its own: the
    caller may hold a presence or conversation lock, or the event-log lock (taken by
    record_event until commit), and waiting here for the team's locks while holding
    those could deadlock with an inbound message that takes them in the other order."""
    if not user.is_internal:
        return 0
    teams = list(user.teams.order_by("id"))
    # Lock order everywhere: TeamAssignment rows (team id order), then presence rows
    # (user id order). Taking every member's presence row of all these teams now, in
    # one ordered statement, keeps the per-team locking below from acquiring them in
    # team-by-team order, which could cross an inbound message's order.
    list(TeamAssignment.objects.select_for_update().filter(team__in=teams).order_by("team_id"))
    list(
        AgentPresence.objects.select_for_update()
        .filter(user_id__in=TeamMembership.objects.filter(team__in=teams).values("user_id"))
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    assigned: list[Conversation] = []
    for team in teams:
        assigned.extend(_drain_team_queue(team))
    _emit_updated(assigned)
    return len(assigned)


def drain_after_commit(user: User | None) -> None:
    """Once the current transaction commits, hand queued work to the user if they have
    room. Safe to call outside a transaction (runs at once)."""
    if user is None or not user.is_internal:
        return
    user_id = user.pk
    # robust: the caller's write has committed; a failed drain must not turn it into
    # an error (the queue is drained again on the next trigger).
    transaction.on_commit(lambda: _drain_for_id(user_id), robust=True)


def _drain_for_id(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    try:
        drain_queues_for(user)
    except DatabaseError:
        logger.exception("draining the team queues for user %s failed", user_id)


def _emit_updated(conversations: list[Conversation]) -> None:
    fresh = (
        Conversation.objects.select_related("contact", "team", "assignee", "inbox")
        .prefetch_related("shares", "tags")
        .filter(pk__in=[conversation.pk for conversation in conversations])
        .order_by("id")
    )
    for conversation in fresh:
        record_event(
            "conversation.updated",
            {"conversation": conversation_data(conversation)},
            conversation_audience(conversation),
            conversation_id=conversation.pk,
        )
