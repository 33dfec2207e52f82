"""How conversations, messages and notes look to clients: the API and the events
use these same shapes (DESIGN §4: "as the API shows it")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inbox.event_payloads import conversation_data as conversation_data
from inbox.event_payloads import message_data as message_data
from inbox.models import Attachment, Conversation, ConversationNote, Message

# Events build conversations and messages with plain functions (inbox.event_payloads),
# kept equal to these serializers by tests/inbox/test_event_payloads.py.


class ConversationSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True, default=None)
    account = serializers.IntegerField(source="contact.account_id", read_only=True, default=None)
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    assignee_name = serializers.CharField(source="assignee.full_name", read_only=True, default=None)
    inbox_name = serializers.CharField(source="inbox.name", read_only=True)
    partners = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    first_response_seconds = serializers.FloatField(read_only=True)
    resolution_seconds = serializers.FloatField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "inbox",
            "inbox_name",
            "status",
            "priority",
            "subject",
            "contact",
            "contact_name",
            "account",
            "team",
            "team_name",
            "assignee",
            "assignee_name",
            "partners",
            "snoozed_until",
            "created_at",
            "updated_at",
            "last_message_at",
            "first_response_at",
            "first_response_seconds",
            "resolved_at",
            "resolution_seconds",
            "tags",
            "routing_trace",
            "first_response_due_at",
            "next_response_due_at",
            "resolution_due_at",
            "first_response_breached",
            "next_response_breached",
            "resolution_breached",
            "sla_breached_at",
        ]
        read_only_fields = fields

    # Internal only: the trace names rules, agents and every partner a conversation is
    # shared with, and tags carry account facts (tier…). They are in the API for staff
    # and left out of events (whose data also reaches partner sockets) and of what
    # partners read.
    INTERNAL_FIELDS = ("tags", "routing_trace")

    def get_tags(self, conversation: Conversation) -> list[str]:
        return sorted(tag.name for tag in conversation.tags.all())

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not getattr(user, "is_internal", False):
            for name in self.INTERNAL_FIELDS:
                data.pop(name, None)
        return data

    def get_partners(self, conversation: Conversation) -> list[int]:
        # Partners see only their own organization among the shares.
        request = self.context.get("request")
        ids = sorted(share.organization_id for share in conversation.shares.all())
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_partner", False):
            return [pk for pk in ids if pk == user.partner_organization_id]
        return ids


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


class MessageSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, default=None)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "direction",
            "body_text",
            "body_html",
            "author",
            "author_name",
            "sender_name",
            "sender_address",
            "status",
            "error",
            "attachments",
            "created_at",
        ]
        read_only_fields = fields


class NoteSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, default=None)
    shared_with = serializers.SerializerMethodField()

    class Meta:
        model = ConversationNote
        fields = [
            "id",
            "conversation",
            "author",
            "author_name",
            "body",
            "shared_with",
            "created_at",
        ]
        read_only_fields = fields

    def get_shared_with(self, note: ConversationNote) -> list[int]:
        return sorted(org.pk for org in note.shared_with.all())


def note_data(note: ConversationNote) -> dict[str, Any]:
    return NoteSerializer(note).data
