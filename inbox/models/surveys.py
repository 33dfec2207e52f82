from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Survey(models.Model):
    """The satisfaction survey sent once after a conversation is first resolved.

    One survey asks three questions (CSAT 1-5, CES 1-7, NPS 0-10) on one public page
    reached by an unguessable token; it is answered at most once.
    """

    conversation = models.OneToOneField(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="survey"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    # Copied at sending time so that reports group by who/where the conversation was
    # resolved, even if it is later reassigned.
    channel = models.CharField(_("channel"), max_length=10)
    team = models.ForeignKey(
        "hub.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        "hub.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("CSAT (1-5)"), null=True, blank=True)
    ces = models.PositiveSmallIntegerField(_("CES (1-7)"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("NPS (0-10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return f"survey of {self.conversation_id}"
