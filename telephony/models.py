"""Calls, the PBX integrations that report them, agents' lines and the SMS outbox."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_cti_token() -> str:
    return secrets.token_urlsafe(32)


class CtiIntegration(models.Model):
    """A PBX other than Twilio (Asterisk, 3CX, sipgate …) that posts call events to
    /telephony/cti/<token>/. The token is the credential: rotate it by editing it."""

    name = models.CharField(_("name"), max_length=100)
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_cti_token)
    inbox = models.ForeignKey(
        "inbox.Inbox",
        on_delete=models.PROTECT,
        related_name="cti_integrations",
        verbose_name=_("phone inbox"),
        limit_choices_to={"channel": "phone"},
        help_text=_("Used when the dialled number matches no phone inbox."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("CTI integration")
        verbose_name_plural = _("CTI integrations")

    def __str__(self) -> str:
        return self.name


class AgentLine(models.Model):
    """How the phone reaches an agent: a Twilio Client identity (the browser softphone)
    or a forwarding number. Agents without a line ring as Client `agent-<id>`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_line"
    )
    client_identity = models.CharField(_("Twilio Client identity"), max_length=100, blank=True)
    forward_number = models.CharField(_("forwarding number (E.164)"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("agent line")
        verbose_name_plural = _("agent lines")

    def __str__(self) -> str:
        return f"{self.user}: {self.forward_number or self.client_identity}"


class CallStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RINGING = "ringing", _("Ringing")
    IN_PROGRESS = "in-progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    BUSY = "busy", _("Busy")
    NO_ANSWER = "no-answer", _("No answer")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


FINAL_CALL_STATUSES = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)


class Call(models.Model):
    """One phone call, known by its provider's id: Twilio's CallSid, or a PBX's call id
    (source `cti:<integration id>`). (source, sid) is unique, so a retried webhook is
    a no-op."""

    source = models.CharField(max_length=30, default="twilio")
    sid = models.CharField(_("call id"), max_length=100)
    inbox = models.ForeignKey("inbox.Inbox", on_delete=models.PROTECT, related_name="calls")
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.SET_NULL, null=True, related_name="calls"
    )
    contact = models.ForeignKey(
        "hub.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    team = models.ForeignKey("hub.Team", on_delete=models.SET_NULL, null=True, related_name="+")
    direction = models.CharField(max_length=10, default="inbound")
    from_number = models.CharField(_("from"), max_length=64, blank=True)
    # The customer's side in E.164 (the caller inbound, the dialled number outbound);
    # empty when withheld or not a number.
    customer_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    to_number = models.CharField(_("to"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CallStatus.choices, default=CallStatus.RINGING
    )
    # Who the routing rang, and the contacts a shared number belongs to.
    rung_user_ids = models.JSONField(default=list, blank=True)
    candidate_ids = models.JSONField(default=list, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_calls",
    )
    outcome = models.CharField(
        max_length=20, blank=True, help_text="ring, queue, voicemail or click-to-call"
    )
    duration = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    transcription = models.TextField(blank=True)
    callback_task = models.ForeignKey(
        "hub.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When a caller on hold left the queue to ring agents (telephony.actions.queue);
    # a call rung at once rang from `created_at`.
    dequeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The ring group's fair rotation reads a team's latest rung calls.
            models.Index(
                fields=["team", "-id"],
                name="telephony_call_team_rung",
                condition=models.Q(outcome="ring"),
            ),
            # Every ring plan asks whether callers of the team are on hold (they go
            # first): the few queued calls nobody answered that are not over yet.
            models.Index(
                fields=["team", "created_at"],
                name="telephony_call_team_on_hold",
                condition=models.Q(
                    outcome="queue", ended_at__isnull=True, answered_by__isnull=True
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "sid"], name="call_unique_sid_per_source"),
        ]

    def __str__(self) -> str:
        return f"{self.sid} {self.from_number} → {self.to_number}"

    @property
    def is_over(self) -> bool:
        return self.status in FINAL_CALL_STATUSES


class SmsOutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class SmsOutbox(models.Model):
    """An agent's SMS reply waiting to go out: written in the reply's transaction,
    delivered after commit, retried by `manage.py sms_outbox` until it succeeds or
    fails for good."""

    message = models.OneToOneField(
        "inbox.Message", on_delete=models.CASCADE, related_name="sms_outbox"
    )
    status = models.CharField(
        max_length=10, choices=SmsOutboxStatus.choices, default=SmsOutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"SMS {self.message_id} {self.status}"
