"""Who the phone rings. The one place that decides it, so that routing rules and
business hours (issue 7) can replace it without touching the webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from hub.models import Team, User
from inbox.business_hours import is_open
from inbox.models import ConversationStatus, PresenceStatus
from telephony.models import FINAL_CALL_STATUSES, AgentLine, Call


@dataclass(frozen=True)
class RingPlan:
    """`available`: online agents with room, in ring order. `busy`: online agents who
    are at capacity or on a call (the caller queues for them)."""

    team: Team | None
    available: list[User] = field(default_factory=list)
    busy: list[User] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.available:
            return "ring"
        if self.busy:
            return "queue"
        return "voicemail"


def is_open_now(team: Team | None) -> bool:
    """Whether the team is within its business hours (24/7 when it has none). A closed
    team sends callers straight to voicemail."""
    return is_open(team, timezone.now())


def agents_to_ring(team: Team | None) -> RingPlan:
    if team is None or not is_open_now(team):
        return RingPlan(team=team)
    open_work = Count(
        "assigned_conversations",
        filter=~Q(assigned_conversations__status=ConversationStatus.RESOLVED),
        distinct=True,
    )
    online = list(
        User.objects.filter(
            teams=team,
            is_active=True,
            presence__effective=PresenceStatus.ONLINE,
        )
        .exclude(role="partner")
        .annotate(open_work=open_work)
        .order_by("open_work", "full_name", "id")
    )
    on_call = set(
        Call.objects.filter(answered_by__in=online)
        .exclude(status__in=FINAL_CALL_STATUSES)
        .values_list("answered_by_id", flat=True)
    )
    available = [u for u in online if u.pk not in on_call and u.open_work < u.capacity]
    # By id: `u not in available` compared model instances, quadratic in the team's
    # online agents (about 140 ms per call with 500 of them).
    available_ids = {u.pk for u in available}
    busy = [u for u in online if u.pk not in available_ids]
    return RingPlan(team=team, available=available, busy=busy)


def lines_of(users: list[User]) -> dict[int, AgentLine]:
    return {line.user_id: line for line in AgentLine.objects.filter(user__in=users)}


def client_identity(user: User, line: AgentLine | None) -> str:
    return (line.client_identity if line else "") or f"agent-{user.pk}"


__all__ = ["RingPlan", "agents_to_ring", "client_identity", "is_open_now"]
