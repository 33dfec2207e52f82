from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChatVisitor(models.Model):
    """An anonymous visitor of a web chat inbox, known again through a signed token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inbox = models.ForeignKey("inbox.Inbox", on_delete=models.CASCADE, related_name="visitors")
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    contact = models.ForeignKey(
        "hub.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_visitors",
    )
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Token bucket for the per-visitor rate limit; kept in the database so that it
    # holds across tabs, reconnects and server processes.
    rate_tokens = models.FloatField(default=0)
    rate_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or f"visitor {str(self.id)[:8]}"
