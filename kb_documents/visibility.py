"""Who may see which note and document: one scoping function per model, and the
same rule as search terms, so that the index filters exactly as the database does.

Terms (an item carries some, a user holds some; a user sees an item when they share one):

| item visibility | item terms                      | held by                          |
|-----------------|---------------------------------|----------------------------------|
| internal        | ``internal``                    | every active member of staff     |
| partner         | ``internal``, ``partner:<org>`` | staff; partners of those orgs    |
| team            | ``team:<id>``, ``user:<author>``| the team's members, supervisors  |
| private         | ``user:<author>``               | the author only                  |
| message         | ``internal``, ``partner:<org>`` for each org the conversation is shared with |
| conversation note (inbox) | ``internal``, ``partner:<org>`` for each org it is shared with (or its partner author's org) that the conversation is shared with, as in ``inbox.visibility.visible_notes`` |
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from hub.compiled_query import CompiledValues
from hub.models import Team
from inbox.models import ConversationNote, Message
from inbox.visibility import shared_partner_ids
from kb_documents.models import Document, Note, Visibility


def team_ids_of(user: Any) -> list[int]:
    """The teams whose team-visible items the user sees (every team for supervisors).
    One query: a search computes it once and hands it to the functions below."""
    rows = _ALL_TEAMS.rows() if user.is_supervisor else _TEAMS_OF_MEMBER.rows(user=user.pk)
    return [row["pk"] for row in rows]


def _teams_of_member(user: int) -> QuerySet[Team, dict[str, Any]]:
    return Team.objects.filter(memberships__user_id=user).values("pk")


# Read on every search: compiled once per process (hub.compiled_query), where building
# the related manager's query took about as long as the database took to answer it.
_TEAMS_OF_MEMBER = CompiledValues(Team, _teams_of_member, user=-904_216)
_ALL_TEAMS = CompiledValues(Team, lambda: Team.objects.values("pk"))


def _scope(
    queryset: QuerySet, user: Any, author_field: str, team_ids: list[int] | None = None
) -> QuerySet:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_internal:
        if team_ids is None:
            team_ids = team_ids_of(user)
        return queryset.filter(
            Q(visibility__in=[Visibility.INTERNAL, Visibility.PARTNER])
            | Q(visibility=Visibility.TEAM, team__in=team_ids)
            | Q(**{author_field: user}, visibility__in=[Visibility.TEAM, Visibility.PRIVATE])
        )
    if user.is_partner and user.partner_organization_id:
        shared = queryset.model.partners.through.objects.filter(
            **{f"{queryset.model._meta.model_name}_id": OuterRef("pk")},
            partnerorganization_id=user.partner_organization_id,
        )
        return queryset.filter(Exists(shared), visibility=Visibility.PARTNER)
    return queryset.none()


def visible_notes(user: Any, *, team_ids: list[int] | None = None) -> QuerySet[Note]:
    notes = Note.objects.select_related("author", "team").prefetch_related("partners")
    return _scope(notes, user, "author", team_ids)


def visible_documents(user: Any, *, team_ids: list[int] | None = None) -> QuerySet[Document]:
    documents = Document.objects.select_related(
        "uploaded_by", "team", "current_version"
    ).prefetch_related("partners")
    return _scope(documents, user, "uploaded_by", team_ids)


def user_terms(user: Any, *, team_ids: list[int] | None = None) -> list[str]:
    """The terms a user holds; a search only ever returns items carrying one of them."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_internal:
        if team_ids is None:
            team_ids = team_ids_of(user)
        return ["internal", f"user:{user.pk}", *(f"team:{pk}" for pk in team_ids)]
    if user.is_partner and user.partner_organization_id:
        return [f"partner:{user.partner_organization_id}"]
    return []


def shared_item_terms(item: Note | Document, author_id: int) -> list[str]:
    if item.visibility == Visibility.INTERNAL:
        return ["internal"]
    if item.visibility == Visibility.PARTNER:
        return ["internal", *(f"partner:{org.pk}" for org in item.partners.all())]
    if item.visibility == Visibility.TEAM:
        return [f"team:{item.team_id}", f"user:{author_id}"]
    return [f"user:{author_id}"]


def message_terms(
    message: Message, conversation_partners: Iterable[int] | None = None
) -> list[str]:
    """`conversation_partners`: the partner organizations the message's conversation
    is shared with, when the caller has read them for many messages at once."""
    if conversation_partners is None:
        conversation_partners = shared_partner_ids(message.conversation_id)
    return ["internal", *(f"partner:{org}" for org in conversation_partners)]


def conversation_note_terms(
    note: ConversationNote, conversation_partners: Iterable[int] | None = None
) -> list[str]:
    if conversation_partners is None:
        conversation_partners = shared_partner_ids(note.conversation_id)
    shared = set(conversation_partners)
    orgs = {org.pk for org in note.shared_with.all()}
    if note.author_id and note.author.partner_organization_id:
        orgs.add(note.author.partner_organization_id)
    return ["internal", *(f"partner:{org}" for org in sorted(orgs & shared))]
