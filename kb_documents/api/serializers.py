"""How notes, documents and search results look over the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hub.api.base import object_id_field
from kb_documents.models import Document, Note, NoteRevision, Visibility


class SharedFieldsMixin(serializers.Serializer):
    partners = serializers.SerializerMethodField()

    def get_partners(self, item: Note | Document) -> list[int]:
        ids = sorted(org.pk for org in item.partners.all())
        user = getattr(self.context.get("request"), "user", None)
        if user is not None and getattr(user, "is_partner", False):
            # A partner never learns who else an item is shared with.
            return [pk for pk in ids if pk == user.partner_organization_id]
        return ids


SHARED_FIELDS = ["visibility", "team", "partners", "account", "contact", "deal", "conversation"]


class SharedNoteSerializer(SharedFieldsMixin, serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    author_name = serializers.CharField(source="author.full_name", read_only=True)
    mentions = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = [
            "id",
            "title",
            "body",
            "body_html",
            "author",
            "author_name",
            *SHARED_FIELDS,
            "pinned",
            "mentions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_mentions(self, note: Note) -> list[int]:
        return sorted(user.pk for user in note.mentions.all())


class SharedNoteRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoteRevision
        fields = ["id", "body", "edited_by", "edited_at"]
        read_only_fields = fields


class DocumentSerializer(SharedFieldsMixin, serializers.ModelSerializer):
    uploaded_by_name = serializers.CharField(source="uploaded_by.full_name", read_only=True)
    version = serializers.IntegerField(source="current_version.number", default=None)
    filename = serializers.CharField(source="current_version.filename", default=None)
    content_type = serializers.CharField(source="current_version.content_type", default=None)
    size = serializers.IntegerField(source="current_version.size", default=None)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "title",
            "uploaded_by",
            "uploaded_by_name",
            *SHARED_FIELDS,
            "version",
            "filename",
            "content_type",
            "size",
            "download_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        return f"/api/v1/documents/{document.pk}/download/"


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_by = serializers.IntegerField(source="uploaded_by_id")
    created_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, version: Any) -> str:
        return f"/api/v1/documents/{version.document_id}/download/?version={version.number}"


class SharingInputSerializer(serializers.Serializer):
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    team = object_id_field(required=False, allow_null=True)
    partners = serializers.ListField(child=object_id_field(), required=False)
    account = object_id_field(required=False, allow_null=True)
    contact = object_id_field(required=False, allow_null=True)
    deal = object_id_field(required=False, allow_null=True)
    conversation = object_id_field(required=False, allow_null=True)


class SharedNoteInputSerializer(SharingInputSerializer):
    body = serializers.CharField(allow_blank=False, trim_whitespace=True)


class SharedNoteUpdateSerializer(SharingInputSerializer):
    body = serializers.CharField(required=False, allow_blank=False)
    pinned = serializers.BooleanField(required=False)


class DocumentInputSerializer(SharingInputSerializer):
    file = serializers.FileField(allow_empty_file=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=255)


class DocumentUpdateSerializer(SharingInputSerializer):
    title = serializers.CharField(required=False, allow_blank=False, max_length=255)


class VersionInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)


class SearchResultSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["note", "document", "message", "conversation_note"])
    id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: escaped text, hits in <mark>")
    score = serializers.FloatField()
    url = serializers.CharField()
    conversation = serializers.IntegerField(required=False)
