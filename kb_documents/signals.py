"""Keeping messages (and inbox's conversation notes) in the index without inbox knowing about search.

`inbox` sits below `kb_documents` and must not import it, and its actions are not
ours to edit. So we listen to post_save/post_delete of inbox's Message and
ConversationShare, and the receivers do one thing: schedule indexing after commit.
This is not an event (CONVENTIONS forbids events from signals because events are
part of the domain write and need an explicit, reviewed call): indexing is a
derived, rebuildable copy, and if a receiver were skipped (a bulk update, a raw
query), `rebuild_index` restores it.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from inbox.models import ConversationNote, ConversationShare, Message
from kb_documents.search.indexing import index_on_commit


def message_saved(sender: type[Message], instance: Message, **kwargs: Any) -> None:
    index_on_commit("message", instance.pk)


def conversation_note_changed(sender: Any, instance: ConversationNote, **kwargs: Any) -> None:
    index_on_commit("conversation_note", instance.pk)


def share_changed(
    sender: type[ConversationShare], instance: ConversationShare, **kwargs: Any
) -> None:
    """Sharing or unsharing a conversation changes who may find its messages."""
    ids = list(
        Message.objects.filter(conversation_id=instance.conversation_id).values_list(
            "pk", flat=True
        )
    )
    index_on_commit("message", *ids)
    notes = ConversationNote.objects.filter(conversation_id=instance.conversation_id)
    index_on_commit("conversation_note", *notes.values_list("pk", flat=True))


def connect_message_indexing() -> None:
    # inbox's own notes on conversations are searchable too (with inbox's rule for
    # partners); their partner list is set after the row is saved, hence m2m_changed.
    for signal in (post_save, post_delete):
        signal.connect(
            conversation_note_changed,
            sender=ConversationNote,
            dispatch_uid=f"kb_documents.conversation_note.{signal is post_save}",
        )
    m2m_changed.connect(
        conversation_note_changed,
        sender=ConversationNote.shared_with.through,
        dispatch_uid="kb_documents.conversation_note_shared",
    )
    post_save.connect(message_saved, sender=Message, dispatch_uid="kb_documents.message_saved")
    post_delete.connect(message_saved, sender=Message, dispatch_uid="kb_documents.message_deleted")
    post_save.connect(
        share_changed, sender=ConversationShare, dispatch_uid="kb_documents.share_saved"
    )
    post_delete.connect(
        share_changed, sender=ConversationShare, dispatch_uid="kb_documents.share_deleted"
    )
