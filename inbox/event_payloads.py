"""Event data for conversations and messages, built as plain dicts.

Events carry an object "as the API shows it" (DESIGN §4), so these produce exactly
what `ConversationSerializer(obj).data` and `MessageSerializer(obj).data` produce
without a request (tests/inbox/test_event_payloads.py compares them object by
object). They exist because constructing a DRF serializer builds its whole field set
every time, which cost about 15 ms of each inbound message's two events; the inbound
write path builds these for every message it stores.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from inbox.models import Conversation, Message


def iso_datetime(value: datetime | None) -> str | None:
    """A datetime the way DRF's DateTimeField shows it: in the current time zone,
    ISO 8601, UTC written as Z."""
    if not value:
        return None
    if timezone.is_aware(value):
        value = value.astimezone(timezone.get_current_timezone())
    else:
        value = timezone.make_aware(value, timezone.get_current_timezone())
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def conversation_data(
    conversation: Conversation, *, partner_ids: list[int] | None = None
) -> dict[str, Any]:
    """`ConversationSerializer(conversation).data`: its internal fields (tags, routing
    trace) are left out, as the serializer does without a staff request. Pass
    `partner_ids` when the caller already knows the shares (saves reading them)."""
    contact = conversation.contact if conversation.contact_id else None
    team = conversation.team if conversation.team_id else None
    assignee = conversation.assignee if conversation.assignee_id else None
    if partner_ids is None:
        partner_ids = [share.organization_id for share in conversation.shares.all()]
    return {
        "id": conversation.pk,
        "channel": str(conversation.channel),
        "inbox": conversation.inbox_id,
        "inbox_name": conversation.inbox.name,
        "status": str(conversation.status),
        "priority": str(conversation.priority),
        "subject": conversation.subject,
        "contact": conversation.contact_id,
        "contact_name": contact.name if contact is not None else None,
        "account": contact.account_id if contact is not None else None,
        "team": conversation.team_id,
        "team_name": team.name if team is not None else None,
        "assignee": conversation.assignee_id,
        "assignee_name": assignee.full_name if assignee is not None else None,
        "partners": sorted(partner_ids),
        "snoozed_until": iso_datetime(conversation.snoozed_until),
        "created_at": iso_datetime(conversation.created_at),
        "updated_at": iso_datetime(conversation.updated_at),
        "last_message_at": iso_datetime(conversation.last_message_at),
        "first_response_at": iso_datetime(conversation.first_response_at),
        "first_response_seconds": _float(conversation.first_response_seconds),
        "resolved_at": iso_datetime(conversation.resolved_at),
        "resolution_seconds": _float(conversation.resolution_seconds),
        "first_response_due_at": iso_datetime(conversation.first_response_due_at),
        "next_response_due_at": iso_datetime(conversation.next_response_due_at),
        "resolution_due_at": iso_datetime(conversation.resolution_due_at),
        "first_response_breached": bool(conversation.first_response_breached),
        "next_response_breached": bool(conversation.next_response_breached),
        "resolution_breached": bool(conversation.resolution_breached),
        "sla_breached_at": iso_datetime(conversation.sla_breached_at),
    }


def attachment_data(attachment: Any) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": int(attachment.size),
        "url": f"/api/v1/attachments/{attachment.pk}/download/",
    }


def message_data(message: Message, *, without_attachments: bool = False) -> dict[str, Any]:
    """`MessageSerializer(message).data`. `without_attachments`: the caller knows the
    message has none yet (it was created in this transaction), so they are not read."""
    author = message.author if message.author_id else None
    attachments = [] if without_attachments else [a for a in message.attachments.all()]
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": str(message.direction),
        "body_text": message.body_text,
        "body_html": message.body_html,
        "author": message.author_id,
        "author_name": author.full_name if author is not None else None,
        "sender_name": message.sender_name,
        "sender_address": message.sender_address,
        "status": str(message.status),
        "error": message.error,
        "attachments": [attachment_data(a) for a in attachments],
        "created_at": iso_datetime(message.created_at),
    }
