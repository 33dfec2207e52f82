"""Presence (online/away/offline per agent, across tabs and processes) and collision
(who is viewing or replying in a conversation). State lives in the database so that
every server process agrees; changes go out as events like everything else."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hub.models import User
from inbox.assignment import drain_after_commit
from inbox.events import record_event
from inbox.models import (
    AgentPresence,
    ConsoleSession,
    Conversation,
    ConversationViewer,
    PresenceStatus,
)
from inbox.visibility import conversation_audience, visitor_keys

Activity = ConversationViewer.Activity


def presence_audience(user: User) -> set[str]:
    keys = {f"user.{user.pk}", *(f"team.{pk}" for pk in user.teams.values_list("pk", flat=True))}
    return keys if len(keys) > 1 else keys | {"staff"}


def _lock_presence(user: User) -> AgentPresence:
    AgentPresence.objects.get_or_create(user=user)
    return AgentPresence.objects.select_for_update().get(user=user)


def _settle(user: User, presence: AgentPresence, now: datetime, timeout: timedelta) -> None:
    """Recompute the effective status and announce it if it changed."""
    alive = ConsoleSession.objects.filter(user=user, last_seen_at__gt=now - timeout).exists()
    effective = presence.chosen if alive else PresenceStatus.OFFLINE
    if effective != presence.effective:
        presence.effective = effective
        presence.save(update_fields=["effective", "changed_at"])
        record_event(
            "presence.changed",
            {"user": user.pk, "name": user.full_name, "status": effective},
            presence_audience(user),
        )
        if effective == PresenceStatus.ONLINE:
            # Routing: queued conversations of the agent's teams go to them now.
            drain_after_commit(user)


@transaction.atomic
def open_console_session(user: User, server: str, *, timeout: timedelta) -> uuid.UUID:
    if user.is_partner:
        # Partners have no presence: they are never routed work.
        return uuid.uuid4()
    presence = _lock_presence(user)
    now = timezone.now()
    session = ConsoleSession.objects.create(
        id=uuid.uuid4(), user=user, server=server, last_seen_at=now
    )
    _settle(user, presence, now, timeout)
    return session.id


def touch_console_session(session_id: uuid.UUID) -> None:
    ConsoleSession.objects.filter(id=session_id).update(last_seen_at=timezone.now())


@transaction.atomic
def close_console_session(session_id: uuid.UUID, *, timeout: timedelta) -> None:
    session = ConsoleSession.objects.select_related("user").filter(id=session_id).first()
    if session is None:
        return
    user = session.user
    presence = _lock_presence(user)
    conversation_ids = list(session.viewing.values_list("conversation_id", flat=True))
    session.delete()
    for conversation_id in conversation_ids:
        _announce_viewers(conversation_id)
    _settle(user, presence, timezone.now(), timeout)


@transaction.atomic
def set_chosen_status(user: User, status: str, *, timeout: timedelta) -> None:
    if status not in (PresenceStatus.ONLINE, PresenceStatus.AWAY):
        raise ValidationError({"status": "Choose online or away."})
    presence = _lock_presence(user)
    presence.chosen = status
    presence.save(update_fields=["chosen", "changed_at"])
    _settle(user, presence, timezone.now(), timeout)


def sweep_stale_sessions(*, timeout: timedelta) -> int:
    """Close sessions whose heartbeat stopped (a crashed server, a sleeping laptop)."""
    cutoff = timezone.now() - timeout
    stale = list(
        ConsoleSession.objects.filter(last_seen_at__lte=cutoff).values_list("id", flat=True)
    )
    for session_id in stale:
        close_console_session(session_id, timeout=timeout)
    return len(stale)


def team_presence(user: User) -> list[dict[str, Any]]:
    """The presence of everyone the user works with, for the console's first load."""
    if user.is_partner:
        return []
    teammates = User.objects.filter(is_active=True).exclude(role="partner")
    if not user.is_supervisor:
        teammates = teammates.filter(teams__in=user.teams.all())
    status = dict(AgentPresence.objects.values_list("user_id", "effective"))
    return [
        {
            "user": mate.pk,
            "name": mate.full_name,
            "status": status.get(mate.pk, PresenceStatus.OFFLINE),
        }
        for mate in teammates.distinct().order_by("full_name")
    ]


def viewers_of(conversation_id: int) -> list[dict[str, Any]]:
    """One line per agent (their most active tab wins): replying beats viewing."""
    by_user: dict[int, dict[str, Any]] = {}
    rows = ConversationViewer.objects.filter(conversation_id=conversation_id).select_related("user")
    for row in rows.order_by("user__full_name", "user_id"):
        entry = by_user.setdefault(
            row.user_id,
            {"user": row.user_id, "name": row.user.full_name, "activity": Activity.VIEWING},
        )
        if row.activity == Activity.REPLYING:
            entry["activity"] = Activity.REPLYING
    return list(by_user.values())


def _announce_viewers(conversation_id: int) -> None:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return
    record_event(
        "collision",
        {"conversation": conversation_id, "viewers": viewers_of(conversation_id)},
        conversation_audience(conversation, include_partners=False),
        conversation_id=conversation_id,
    )


@transaction.atomic
def view_conversation(session_id: uuid.UUID, user: User, conversation: Conversation) -> None:
    before = viewers_of(conversation.pk)
    ConversationViewer.objects.get_or_create(
        session_id=session_id, conversation=conversation, defaults={"user": user}
    )
    if viewers_of(conversation.pk) != before:
        _announce_viewers(conversation.pk)


@transaction.atomic
def leave_conversation(session_id: uuid.UUID, conversation_id: int) -> None:
    before = viewers_of(conversation_id)
    ConversationViewer.objects.filter(
        session_id=session_id, conversation_id=conversation_id
    ).delete()
    if viewers_of(conversation_id) != before:
        _announce_viewers(conversation_id)


@transaction.atomic
def set_typing(session_id: uuid.UUID, user: User, conversation: Conversation, typing: bool) -> None:
    """An agent started or stopped writing a reply: teammates see "X is replying", and a
    chat visitor sees that someone is typing."""
    before = viewers_of(conversation.pk)
    viewer, _ = ConversationViewer.objects.get_or_create(
        session_id=session_id, conversation=conversation, defaults={"user": user}
    )
    activity = Activity.REPLYING if typing else Activity.VIEWING
    if viewer.activity == activity and viewers_of(conversation.pk) == before:
        return
    viewer.activity = activity
    viewer.save(update_fields=["activity", "updated_at"])
    audience = conversation_audience(conversation, include_partners=False) | visitor_keys(
        conversation
    )
    record_event(
        "typing",
        {
            "conversation": conversation.pk,
            "typing": typing,
            "user": user.pk,
            "name": user.full_name,
        },
        audience,
        conversation_id=conversation.pk,
    )
    if viewers_of(conversation.pk) != before:
        _announce_viewers(conversation.pk)
