"""Who the phone rings. The one place that decides it, so that routing rules and
business hours (issue 7) can replace it without touching the webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from hub.models import Team, User
from inbox.business_hours import is_open
from inbox.models import ConversationStatus, PresenceStatus
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
class RingPlan:
    """`available`: online agents with room, in ring order (least recently offered a
    call first). `busy`: online agents who are at capacity or on a call (the caller
    queues for them). `ring_group`: the agents this call rings, the first few
    available ones."""

    team: Team | None
    available: list[User] = field(default_factory=list)
    busy: list[User] = field(default_factory=list)
    size: int = TWILIO_DIAL_LIMIT

    @property
    def outcome(self) -> str:
        if self.available:
            return "ring"
        if self.busy:
            return "queue"
        return "voicemail"

    @property
    def ring_group(self) -> list[User]:
        return self.available[: self.size]


def is_open_now(team: Team | None) -> bool:
    """Whether the team is within its business hours (24/7 when it has none). A closed
    team sends callers straight to voicemail."""
    return is_open(team, timezone.now())


def agents_to_ring(team: Team | None) -> RingPlan:
    """One query for the team's online agents with their open work, whether they are
    on a call, and their phone line; one for the team's latest rung calls."""
    size = ring_group_size()
    if team is None or not is_open_now(team):
        return RingPlan(team=team, size=size)
    open_work = Count(
        "assigned_conversations",
        filter=~Q(assigned_conversations__status=ConversationStatus.RESOLVED),
        distinct=True,
    )
    on_call = Exists(
        Call.objects.filter(answered_by=OuterRef("pk")).exclude(status__in=FINAL_CALL_STATUSES)
    )
    online = list(
        User.objects.filter(
            teams=team,
            is_active=True,
            presence__effective=PresenceStatus.ONLINE,
        )
        .exclude(role="partner")
        .select_related("phone_line")
        .annotate(open_work=open_work, on_call=on_call)
        .order_by("open_work", "full_name", "id")
    )
    available = [u for u in online if not u.on_call and u.open_work < u.capacity]
    # By id: `u not in available` compared model instances, quadratic in the team's
    # online agents (about 140 ms per call with 500 of them).
    available_ids = {u.pk for u in available}
    busy = [u for u in online if u.pk not in available_ids]
    if len(available) > size:
        offered = last_offered(team, len(available), size)
        # Stable: equally long waiting agents keep the least-loaded-first order.
        available.sort(key=lambda u: offered.get(u.pk, NEVER_OFFERED))
    return RingPlan(team=team, available=available, busy=busy, size=size)


def last_offered(team: Team, available: int, size: int) -> dict[int, tuple[int, int]]:
    """Agent id -> (id of the latest call of the team that rang them, their place in
    its ring order), read from as many recent rung calls as it takes to have offered a
    call to every available agent once. Ringing the smallest first makes the team a
    queue: the least recently offered agents ring next, and agents offered the same
    call come round again in the order they rang then."""
    window = min(RECENT_CALLS_READ, -(-available // size) + 1)
    recent = (
        Call.objects.filter(team=team, outcome="ring")
        .order_by("-id")
        .values_list("id", "rung_user_ids")[:window]
    )
    offered: dict[int, tuple[int, int]] = {}
    for call_id, user_ids in recent:
        for place, user_id in enumerate(user_ids):
            offered.setdefault(user_id, (call_id, place))
    return offered


def line_of(user: User) -> AgentLine | None:
    """The agent's line; read with `select_related("phone_line")` it costs no query."""
    try:
        return user.phone_line
    except AgentLine.DoesNotExist:
        return None


def client_identity(user: User, line: AgentLine | None) -> str:
    return (line.client_identity if line else "") or f"agent-{user.pk}"


__all__ = [
    "RingPlan",
    "agents_to_ring",
    "client_identity",
    "is_open_now",
    "line_of",
    "ring_group_size",
]
