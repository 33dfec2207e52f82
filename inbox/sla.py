"""SLA due times and the watcher that warns, flags breaches and escalates (issue 7).

Due times are counted in business time of the conversation's team (inbox.business_hours)
and stored on the conversation, so the console shows timers and the watcher is a plain
indexed query. Every warning and breach is claimed with a conditional UPDATE
(`… WHERE <flag> = false AND <due> = <the due time we saw>`): two watchers, or a reply
racing the watcher, can never warn or escalate twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hub import config_cache
from hub.actions import record_audit
from hub.models import Role, User
from inbox.business_hours import Calendar, add_business_time, calendar_for
from inbox.events import record_event
from inbox.models import Conversation, ConversationStatus, SlaPolicy, SlaTarget
from inbox.serializers import conversation_data
from inbox.visibility import conversation_audience

# Conversations in these states are not watched: resolved ones are done, snoozed and
# pending ones wait for someone else (their due times stay as they are).
WATCHED_STATUSES = (ConversationStatus.OPEN,)

_FIELDS = {
    SlaTarget.FIRST_RESPONSE: (
        "first_response_due_at",
        "first_response_warned",
        "first_response_breached",
    ),
    SlaTarget.NEXT_RESPONSE: (
        "next_response_due_at",
        "next_response_warned",
        "next_response_breached",
    ),
    SlaTarget.RESOLUTION: ("resolution_due_at", "resolution_warned", "resolution_breached"),
}


def policy_for(conversation: Conversation) -> SlaPolicy | None:
    return config_cache.cached(
        f"sla.policy.{conversation.priority}",
        lambda: SlaPolicy.objects.filter(priority=conversation.priority).first(),
    )


def _due(
    conversation: Conversation,
    minutes: int | None,
    start: datetime,
    calendar: Calendar | None = None,
) -> datetime | None:
    if minutes is None:
        return None
    calendar = calendar or calendar_for(conversation.team)
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def _set_target(conversation: Conversation, target: str, due: datetime | None) -> None:
    due_field, warned_field, breached_field = _FIELDS[SlaTarget(target)]
    setattr(conversation, due_field, due)
    setattr(conversation, warned_field, False)
    setattr(conversation, breached_field, False)


def apply_sla(conversation: Conversation, now: datetime) -> None:
    """Set the due times after a customer's message; the caller saves.

    A new conversation gets its first-response and resolution due times. A customer
    writing again after an answer gets a next-response due time (unless one is already
    running), and a conversation reopened after it was resolved gets a new resolution
    due time."""
    policy = policy_for(conversation)
    if policy is None:
        return
    calendar = calendar_for(conversation.team)  # once for all targets
    if conversation.first_response_at is None:
        if conversation.first_response_due_at is None:
            _set_target(
                conversation,
                SlaTarget.FIRST_RESPONSE,
                _due(conversation, policy.first_response_minutes, now, calendar),
            )
    elif conversation.next_response_due_at is None:
        _set_target(
            conversation,
            SlaTarget.NEXT_RESPONSE,
            _due(conversation, policy.next_response_minutes, now, calendar),
        )
    if conversation.resolution_due_at is None and conversation.resolved_at is None:
        _set_target(
            conversation,
            SlaTarget.RESOLUTION,
            _due(conversation, policy.resolution_minutes, now, calendar),
        )


def sla_on_reply(conversation: Conversation) -> None:
    """An agent answered: the first response is met (kept as history with its flag),
    the next-response clock stops. The caller saves."""
    conversation.next_response_due_at = None
    conversation.next_response_warned = False
    conversation.next_response_breached = False


def sla_on_status(conversation: Conversation, now: datetime) -> None:
    """Resolved stops the resolution and next-response clocks; reopening starts a new
    resolution clock. The caller saves."""
    if conversation.status == ConversationStatus.RESOLVED:
        conversation.next_response_due_at = None
        conversation.next_response_warned = False
        conversation.next_response_breached = False
        conversation.resolution_due_at = None
        conversation.resolution_warned = False
        conversation.resolution_breached = False
    elif conversation.resolution_due_at is None:
        policy = policy_for(conversation)
        if policy is not None:
            _set_target(
                conversation,
                SlaTarget.RESOLUTION,
                _due(conversation, policy.resolution_minutes, now),
            )


def _warning_lead() -> dict[str, timedelta]:
    return {
        policy.priority: timedelta(minutes=policy.warning_minutes)
        for policy in SlaPolicy.objects.all()
    }


def _pending(target: SlaTarget) -> Q:
    due_field, _warned, breached_field = _FIELDS[target]
    condition = Q(**{f"{due_field}__isnull": False, breached_field: False})
    if target == SlaTarget.FIRST_RESPONSE:
        condition &= Q(first_response_at__isnull=True)
    return condition


def check_slas(now: datetime | None = None) -> dict[str, int]:
    """One pass of the watcher: warn about targets due within their lead time, flag and
    escalate breached ones. Safe to run in several processes at once."""
    now = now or timezone.now()
    leads = _warning_lead()
    counts = {"warnings": 0, "breaches": 0}
    longest_lead = max(leads.values(), default=timedelta(0))
    for target in SlaTarget:
        due_field, warned_field, _breached = _FIELDS[target]
        candidates = Conversation.objects.filter(
            _pending(target),
            status__in=WATCHED_STATUSES,
            **{f"{due_field}__lte": now + longest_lead},
        ).values_list("pk", "priority", due_field, warned_field)
        for pk, priority, due, warned in candidates[:1000]:
            if due <= now:
                counts["breaches"] += _breach(pk, target, due, now)
            elif not warned and due - leads.get(priority, timedelta(0)) <= now:
                counts["warnings"] += _warn(pk, target, due)
    return counts


def _claim(pk: int, target: SlaTarget, due: datetime, flag: str, **also: Any) -> bool:
    due_field = _FIELDS[target][0]
    filters: dict[str, Any] = {"pk": pk, due_field: due, flag: False}
    return (
        Conversation.objects.filter(
            _pending(target), status__in=WATCHED_STATUSES, **filters
        ).update(**{flag: True}, **also)
        == 1
    )


@transaction.atomic
def _warn(pk: int, target: SlaTarget, due: datetime) -> int:
    if not _claim(pk, target, due, _FIELDS[target][1]):
        return 0
    conversation = Conversation.objects.select_related("team", "assignee").get(pk=pk)
    record_event(
        "sla.warning",
        {"conversation": conversation.pk, "target": target.value, "due_at": due.isoformat()},
        conversation_audience(conversation, include_partners=False),
        conversation_id=conversation.pk,
    )
    return 1


def supervisors_for(conversation: Conversation) -> list[User]:
    """Who hears of a breach: the supervisors of the conversation's team, or every
    supervisor and admin when the team has none."""
    supervisors = User.objects.filter(is_active=True, role__in=(Role.SUPERVISOR, Role.ADMIN))
    in_team = list(supervisors.filter(teams=conversation.team_id)) if conversation.team_id else []
    return in_team or list(supervisors)


@transaction.atomic
def _breach(pk: int, target: SlaTarget, due: datetime, now: datetime) -> int:
    # sla_breached_at keeps the first breach of any target.
    first_breach = Coalesce(F("sla_breached_at"), Value(now))
    if not _claim(pk, target, due, _FIELDS[target][2], sla_breached_at=first_breach):
        return 0
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "team", "assignee", "inbox")
        .prefetch_related("shares")
        .get(pk=pk)
    )
    supervisors = supervisors_for(conversation)
    record_audit(
        None,
        "conversation.sla_breached",
        conversation,
        {
            "target": target.value,
            "due_at": due.isoformat(),
            "escalated_to": [u.pk for u in supervisors],
        },
    )
    record_event(
        "conversation.updated",
        {"conversation": conversation_data(conversation)},
        conversation_audience(conversation),
        conversation_id=conversation.pk,
    )
    record_event(
        "sla.breached",
        {
            "conversation": conversation.pk,
            "target": target.value,
            "due_at": due.isoformat(),
            "subject": conversation.subject,
            "team": conversation.team_id,
            "supervisors": [u.pk for u in supervisors],
        },
        {f"user.{u.pk}" for u in supervisors}
        | conversation_audience(conversation, include_partners=False),
        conversation_id=conversation.pk,
    )
    return 1
