"""Files that arrived with a message (mail attachments, MMS media)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction

from inbox.events import record_event
from inbox.models import Attachment, Message
from inbox.serializers import message_data
from inbox.visibility import conversation_audience


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""


@transaction.atomic
def do_add_attachments(message: Message, files: list[AttachmentInput]) -> list[Attachment]:
    """Store files on a message and announce the message again (`message.updated`) so
    consoles that showed it without them catch up."""
    if not files:
        return []
    created = []
    for item in files:
        attachment = Attachment(
            message=message,
            filename=item.filename[:255] or "attachment",
            content_type=item.content_type[:100] or "application/octet-stream",
            size=len(item.data),
            content_id=item.content_id[:255],
        )
        attachment.file.save(attachment.filename, ContentFile(item.data), save=False)
        attachment.save()
        created.append(attachment)
    message = Message.objects.select_related("conversation", "author").get(pk=message.pk)
    record_event(
        "message.updated",
        {"conversation": message.conversation_id, "message": message_data(message)},
        conversation_audience(message.conversation),
        conversation_id=message.conversation_id,
    )
    return created
