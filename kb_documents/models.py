"""Shared notes and documents, with one visibility model for both (DESIGN §6)."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("All staff")
    TEAM = "team", _("My team")
    PRIVATE = "private", _("Only me")
    PARTNER = "partner", _("Staff and named partners")


class Shared(models.Model):
    """Who may see an item, and what it is about. Notes and documents share this."""

    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    team = models.ForeignKey(
        "hub.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    partners = models.ManyToManyField(
        "hub.PartnerOrganization",
        blank=True,
        related_name="+",
        verbose_name=_("shared with"),
    )
    account = models.ForeignKey(
        "hub.Account", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "hub.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    deal = models.ForeignKey(
        "hub.Deal", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True

    @property
    def account_id_for_search(self) -> int | None:
        """The account the item is about, directly or through what it is linked to."""
        if self.account_id:
            return self.account_id
        if self.contact_id and self.contact.account_id:
            return self.contact.account_id
        if self.deal_id:
            return self.deal.account_id
        if self.conversation_id and self.conversation.contact_id:
            return self.conversation.contact.account_id
        return None


class Note(Shared):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="kb_notes",
        verbose_name=_("author"),
    )
    body = models.TextField(_("text (Markdown)"))
    body_html = models.TextField(_("rendered"), editable=False)
    pinned = models.BooleanField(_("pinned"), default=False)
    pinned_at = models.DateTimeField(null=True, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="kb_mentions"
    )

    class Meta:
        ordering = ["-pinned", "-pinned_at", "-created_at", "-id"]
        indexes = [models.Index(fields=["visibility", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility="team") | Q(team__isnull=False), name="note_team_has_team"
            ),
        ]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        for line in self.body.splitlines():
            text = line.strip().lstrip("#>*-+ ").strip()
            if text:
                return text[:80]
        return f"Note {self.pk}"


class NoteRevision(models.Model):
    """The text a note had before an edit: its edit history."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    edited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-edited_at", "-id"]

    def __str__(self) -> str:
        return f"{self.note_id} @ {self.edited_at}"


class Document(Shared):
    title = models.CharField(_("title"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="kb_documents",
        verbose_name=_("uploaded by"),
    )
    current_version = models.ForeignKey(
        "DocumentVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility="team") | Q(team__isnull=False),
                name="document_team_has_team",
            ),
        ]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title

    @property
    def author_id(self) -> int:
        return self.uploaded_by_id


def version_path(instance: DocumentVersion, filename: str) -> str:
    # Never the uploader's name on disk: a random name with the detected type's suffix.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"documents/{instance.document_id}/{uuid.uuid4().hex}{suffix}"


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=version_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    text = models.TextField(_("extracted text"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="document_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} v{self.number}"


class SearchEntry(models.Model):
    """One indexed item of the PostgreSQL search backend (SEARCH_BACKEND=postgres).

    The table exists on SQLite too (migrations are the same everywhere) but only the
    PostgreSQL backend reads and writes it; its GIN indexes are created on PostgreSQL
    only (see the migration)."""

    key = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    acl = models.TextField()  # varchar[] on PostgreSQL (see the migration)
    account_id = models.BigIntegerField(null=True)
    author_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField()
    vector = models.TextField()  # tsvector on PostgreSQL (see the migration)
    # The title's forms and stems without positions (tsvector on PostgreSQL, migration
    # 0005): which matches have the query's words in their title, read without the
    # vector (postgres backend, "the pick").
    title_vector = models.TextField(db_default="")
    schema_version = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return self.key


class SearchIndexState(models.Model):
    """The schema version the PostgreSQL index was last built with."""

    backend = models.CharField(max_length=20, unique=True)
    schema_version = models.PositiveIntegerField()
    built_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.backend} v{self.schema_version}"


class IndexJob(models.Model):
    """A row whose index entry is to be written (or removed): queued in the same
    transaction as the write itself, so a change that committed is indexed even when
    the process that made it stops before its index write (see
    kb_documents.search.indexing). Done jobs are deleted."""

    kind = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    # How far the index lags its writes (/healthz): a queue that only grows means
    # that no process writes it (SEARCH_INDEX_WORKER=1 and no index worker running).
    queued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
