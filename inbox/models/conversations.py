from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    CHAT = "chat", _("Web chat")
    SLACK = "slack", _("Slack")
    FORM = "form", _("Website form")  # lead capture (inbox/leads.py)


class Inbox(models.Model):
    """A channel endpoint: a mailbox, a phone number, a chat widget, a Slack channel."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(
        _("address"), max_length=255, blank=True, help_text=_("E-mail address or E.164 number")
    )
    default_team = models.ForeignKey(
        "hub.Team", on_delete=models.PROTECT, related_name="inboxes", verbose_name=_("default team")
    )
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_("Web chat: sites that may embed the widget, one origin per line."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["channel", "address"])]
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"

    @property
    def origins(self) -> list[str]:
        return [
            line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()
        ]


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Conversation(models.Model):
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="conversations")
    # Copied from the inbox: the console filters on it constantly.
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    contact = models.ForeignKey(
        "hub.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("contact"),
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ConversationStatus.choices,
        default=ConversationStatus.OPEN,
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    team = models.ForeignKey(
        "hub.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
        limit_choices_to=~Q(role="partner"),
    )
    partners = models.ManyToManyField(
        "hub.PartnerOrganization",
        through="ConversationShare",
        related_name="shared_conversations",
        blank=True,
        verbose_name=_("shared with"),
    )
    # A channel's own handle on the thread: a chat visitor, an SMS number pair, a
    # Slack thread. Lets a channel app find the conversation a new message belongs to.
    thread_key = models.CharField(max_length=255, blank=True, db_index=True)
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Why the conversation landed where it did, one readable line per step
    # (inbox.routing); shown to agents.
    routing_trace = models.JSONField(_("routing trace"), default=list, blank=True)
    tags = models.ManyToManyField(
        "hub.Tag", blank=True, related_name="conversations", verbose_name=_("tags")
    )
    # SLA due times (inbox.sla), in business time of the team; breach and warning flags
    # are set once by the watcher with conditional updates.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warned = models.BooleanField(default=False)
    next_response_warned = models.BooleanField(default=False)
    resolution_warned = models.BooleanField(default=False)
    first_response_breached = models.BooleanField(default=False)
    next_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    sla_breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["team", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["inbox", "thread_key"]),
            models.Index(fields=["-last_message_at", "-id"]),
        ]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject or self.get_channel_display()}"

    @property
    def first_response_seconds(self) -> float | None:
        if self.first_response_at is None:
            return None
        return (self.first_response_at - self.created_at).total_seconds()

    @property
    def resolution_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.created_at).total_seconds()


class ConversationShare(models.Model):
    """A conversation made visible to one partner organization."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shares")
    organization = models.ForeignKey(
        "hub.PartnerOrganization", on_delete=models.CASCADE, related_name="conversation_shares"
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "organization"], name="conversation_share_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation} shared with {self.organization}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Copied from the conversation so that (inbox, external_id) can be unique: a
    # redelivered e-mail, SMS or chat frame is then a no-op.
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("author"),
    )
    sender_name = models.CharField(_("sender name"), max_length=255, blank=True)
    sender_address = models.CharField(_("sender address"), max_length=255, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("sanitized HTML"), blank=True)
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inbox", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id_unique_per_inbox",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "created_at"])]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.direction} {self.body_text[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message.conversation_id}/{instance.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, help_text="inline image (cid:)")

    def __str__(self) -> str:
        return self.filename


class ConversationNote(models.Model):
    """An internal note in a conversation's timeline: never shown to the customer, and to
    partners only when shared with their organization (or written by one of them)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="conversation_notes",
    )
    body = models.TextField(_("note"))
    shared_with = models.ManyToManyField(
        "hub.PartnerOrganization", blank=True, related_name="shared_conversation_notes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("conversation note")
        verbose_name_plural = _("conversation notes")

    def __str__(self) -> str:
        return self.body[:40]
