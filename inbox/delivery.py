"""Updates that channel apps make to messages and conversations after the fact: a
provider's delivery report, a transcription that arrives after its recording, a
caller who became a contact. Each writes and emits its event in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hub.models import Contact
from inbox.events import record_event
from inbox.models import Conversation, Message, MessageStatus
from inbox.serializers import conversation_data, message_data
from inbox.visibility import conversation_audience, visitor_keys

_UNSET: Any = object()


@transaction.atomic
def do_update_message(
    message: Message,
    *,
    status: str | None = None,
    error: str | None = None,
    external_id: str | None = None,
    body_text: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Message:
    """Change what a channel reports about a message and announce `message.updated`.
    `metadata` is merged into the message's metadata. Nothing changes, nothing is said."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    changed: list[str] = []
    if status is not None and status != message.status:
        if status not in MessageStatus.values:
            raise ValueError(f"{status!r} is not a message status")
        message.status = status
        changed.append("status")
    for field, value in (("error", error), ("external_id", external_id), ("body_text", body_text)):
        if value is not None and getattr(message, field) != value:
            setattr(message, field, value)
            changed.append(field)
    if metadata:
        merged = {**message.metadata, **metadata}
        if merged != message.metadata:
            message.metadata = merged
            changed.append("metadata")
    if not changed:
        return message
    message.save(update_fields=changed)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    record_event(
        "message.updated",
        {"conversation": conversation.pk, "message": message_data(message)},
        conversation_audience(conversation) | visitor_keys(conversation),
        conversation_id=conversation.pk,
    )
    return message


@transaction.atomic
def do_link_contact(conversation: Conversation, contact: Contact) -> Conversation:
    """Attach a conversation to the contact it turned out to be with (an unknown caller
    saved as a contact, a switchboard caller picked from the candidates)."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "team", "assignee", "inbox")
        .get(pk=conversation.pk)
    )
    if conversation.contact_id == contact.pk:
        return conversation
    conversation.contact = contact
    conversation.save(update_fields=["contact", "updated_at"])
    conversation = (
        Conversation.objects.select_related("contact", "team", "assignee", "inbox")
        .prefetch_related("shares")
        .get(pk=conversation.pk)
    )
    record_event(
        "conversation.updated",
        {"conversation": conversation_data(conversation)},
        conversation_audience(conversation),
        conversation_id=conversation.pk,
    )
    return conversation


def mark_message_status(message: Message, status: str, error: str = "") -> Message:
    """Set a message's delivery status and error (the mail outbox and bounces)."""
    return do_update_message(message, status=status, error=error[:2000])
