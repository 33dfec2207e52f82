"""Who may see what: one scoping function per model, used by the API, the sockets,
search and the portal alike (DESIGN §6). Partners are filtered in the query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from hub.models import Role, Team, User
from inbox.models import Channel, Conversation, ConversationNote, ConversationShare, Message


def visible_conversations(user: Any) -> QuerySet[Conversation]:
    base = Conversation.objects.select_related("contact", "team", "assignee", "inbox")
    base = base.prefetch_related("shares", "tags")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return base.none()
    if user.is_internal:
        # Collaborative CRM: every member of staff may read every interaction.
        return base
    if user.role == Role.PARTNER and user.partner_organization_id:
        shared = ConversationShare.objects.filter(
            conversation=OuterRef("pk"), organization_id=user.partner_organization_id
        )
        return base.filter(Exists(shared))
    return base.none()


def visible_messages(user: Any) -> QuerySet[Message]:
    conversations = visible_conversations(user).values("pk")
    return Message.objects.filter(conversation__in=conversations).select_related("author")


def visible_notes(user: Any) -> QuerySet[ConversationNote]:
    notes = ConversationNote.objects.select_related("author").prefetch_related("shared_with")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return notes.none()
    if user.is_internal:
        return notes
    if user.role == Role.PARTNER and user.partner_organization_id:
        org = user.partner_organization_id
        return notes.filter(
            Q(shared_with=org) | Q(author__partner_organization=org),
            conversation__shares__organization_id=org,
        ).distinct()
    return notes.none()


def console_keys(user: User) -> set[str]:
    """The audience keys a console socket of this user listens on."""
    keys = {f"user.{user.pk}"}
    if user.is_partner:
        keys.add(f"partner.{user.partner_organization_id}")
        return keys
    keys.add("staff")
    team_ids = (
        Team.objects.values_list("pk", flat=True)
        if user.is_supervisor
        else user.teams.values_list("pk", flat=True)
    )
    keys.update(f"team.{pk}" for pk in team_ids)
    return keys


def shared_partner_ids(conversation_id: int) -> list[int]:
    """The partner organizations a conversation is shared with."""
    return partners_by_conversation([conversation_id]).get(conversation_id, [])


def partners_by_conversation(conversation_ids: Iterable[int]) -> dict[int, list[int]]:
    """The partner organizations each conversation is shared with, in one query;
    conversations shared with nobody are absent."""
    partners: dict[int, list[int]] = {}
    shares = ConversationShare.objects.filter(conversation_id__in=set(conversation_ids))
    for conversation_id, organization_id in shares.values_list(
        "conversation_id", "organization_id"
    ):
        partners.setdefault(conversation_id, []).append(organization_id)
    return partners


def conversation_audience(
    conversation: Conversation,
    *,
    include_partners: bool = True,
    partner_ids: Iterable[int] | None = None,
) -> set[str]:
    """Who hears about a conversation: its team (or all staff when it has none), its
    assignee, the agents looking at it, and the partners it is shared with
    (`partner_ids` when the caller has just read them, else read here)."""
    keys = {f"conversation.{conversation.pk}"}
    keys.add(f"team.{conversation.team_id}" if conversation.team_id else "staff")
    if conversation.assignee_id:
        keys.add(f"user.{conversation.assignee_id}")
    if include_partners:
        if partner_ids is None:
            partner_ids = shared_partner_ids(conversation.pk)
        keys.update(f"partner.{org_id}" for org_id in partner_ids)
    return keys


def visitor_keys(conversation: Conversation) -> set[str]:
    """The web chat visitor of a chat conversation hears its messages and typing."""
    if conversation.channel == Channel.CHAT and conversation.thread_key.startswith("visitor:"):
        return {f"visitor.{conversation.thread_key.removeprefix('visitor:')}"}
    return set()
