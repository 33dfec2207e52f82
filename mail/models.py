"""Mailboxes the hub reads, where each folder's sync stands, every mail it has seen
(for dedupe and threading), and the durable SMTP outbox."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    TLS = "tls", _("TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (loopback only)")


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Mailbox(models.Model):
    """One IMAP account feeding one email inbox, and the SMTP server its replies use.

    Passwords are never stored in plain text: either the name of an environment
    variable holding them, or a Fernet token under a key derived from SECRET_KEY
    (mail.secrets)."""

    inbox = models.ForeignKey("inbox.Inbox", on_delete=models.CASCADE, related_name="mailboxes")
    imap_host = models.CharField(_("IMAP host"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.TLS
    )
    imap_user = models.CharField(_("IMAP user"), max_length=255)
    imap_password_env = models.CharField(
        _("IMAP password variable"),
        max_length=100,
        blank=True,
        help_text=_("Name of an environment variable holding the password."),
    )
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    folders = models.TextField(_("folders"), default="INBOX", help_text=_("One per line."))
    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_user = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password_env = models.CharField(_("SMTP password variable"), max_length=100, blank=True)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)
    from_address = models.EmailField(_("from address"))
    is_active = models.BooleanField(_("active"), default=True)
    # The lease: which worker process owns this mailbox, until when (DESIGN §3).
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inbox", "imap_user"], name="mailbox_inbox_user_unique")
        ]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.imap_user}@{self.imap_host} → {self.inbox.key}"

    def clean(self) -> None:
        for field, host, security in [
            ("imap_security", self.imap_host, self.imap_security),
            ("smtp_security", self.smtp_host, self.smtp_security),
        ]:
            if host and security == Security.NONE and not is_loopback(host):
                raise ValidationError(
                    {field: "Plain-text connections are allowed to loopback hosts only."}
                )

    @property
    def folder_names(self) -> list[str]:
        return [line.strip() for line in self.folders.splitlines() if line.strip()] or ["INBOX"]

    @property
    def can_send(self) -> bool:
        return bool(self.smtp_host)


class FolderCheckpoint(models.Model):
    """How far a folder has been read: committed with the messages it covers, so a
    restart resumes after the last stored mail and never re-imports one."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="checkpoints")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "folder"], name="checkpoint_unique")
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.folder} {self.uidvalidity}/{self.last_uid}"


class MailMessage(models.Model):
    """Every mail the hub has stored or sent, keyed by Message-ID (or a content hash
    when it has none): one mail sent to two of our mailboxes is one message, and a
    reply finds its conversation through In-Reply-To/References."""

    key = models.CharField(max_length=255, unique=True)
    message = models.ForeignKey(
        "inbox.Message", on_delete=models.CASCADE, related_name="mail_records"
    )
    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True)
    folder = models.CharField(max_length=255, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    references = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxItem(models.Model):
    """A reply waiting for SMTP, written in the reply's own transaction."""

    message = models.OneToOneField(
        "inbox.Message", on_delete=models.CASCADE, related_name="outbox_item"
    )
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="outbox")
    mail_message_id = models.CharField(max_length=255, unique=True)
    to_address = models.CharField(max_length=255)
    subject = models.CharField(max_length=500)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(
        max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    smtp_response = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.mail_message_id} → {self.to_address} ({self.state})"
