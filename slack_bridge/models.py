"""Slack workspaces and channels the hub is connected to, the durable inbox of Slack
events (acknowledged first, processed by `slack_worker` afterwards), the outbox of
posts to Slack, and the mirror threads that bridge a conversation to a team channel."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class SlackWorkspace(models.Model):
    """A Slack workspace (team) with our app installed.

    Secrets are never stored: each workspace names the environment variables holding
    its bot token and signing secret, and falls back to SLACK_BOT_TOKEN /
    SLACK_SIGNING_SECRET (DESIGN §3)."""

    team_id = models.CharField(_("Slack team id"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    bot_user_id = models.CharField(
        _("bot user id"),
        max_length=32,
        blank=True,
        help_text=_("Our bot's Slack user id; its messages are never taken as input."),
    )
    bot_token_env = models.CharField(
        _("bot token variable"),
        max_length=100,
        blank=True,
        help_text=_("Environment variable holding the bot token; empty: SLACK_BOT_TOKEN."),
    )
    signing_secret_env = models.CharField(
        _("signing secret variable"),
        max_length=100,
        blank=True,
        help_text=_(
            "Environment variable holding the signing secret; empty: SLACK_SIGNING_SECRET."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Slack workspace")
        verbose_name_plural = _("Slack workspaces")

    def __str__(self) -> str:
        return f"{self.name} ({self.team_id})"

    @property
    def bot_token(self) -> str:
        if self.bot_token_env:
            return os.environ.get(self.bot_token_env, "")
        return settings.SLACK_BOT_TOKEN

    @property
    def signing_secret(self) -> str:
        if self.signing_secret_env:
            return os.environ.get(self.signing_secret_env, "")
        return settings.SLACK_SIGNING_SECRET


class ChannelKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer channel (Slack Connect): becomes an inbox")
    PARTNER = "partner", _("Partner channel (Slack Connect): becomes an inbox")
    TEAM = "team", _("Team channel: mirrors the team's conversations")


class SlackChannel(models.Model):
    workspace = models.ForeignKey(SlackWorkspace, on_delete=models.CASCADE, related_name="channels")
    channel_id = models.CharField(_("Slack channel id"), max_length=32)
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ChannelKind.choices)
    inbox = models.ForeignKey(
        "inbox.Inbox",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="slack_channels",
        help_text=_("Customer and partner channels: the Slack inbox their threads land in."),
    )
    team = models.ForeignKey(
        "hub.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slack_channels",
        help_text=_("Team channels: the team whose conversations are mirrored here."),
    )
    partner_organization = models.ForeignKey(
        "hub.PartnerOrganization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slack_channels",
        help_text=_("Partner channels: the organization on the other side."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel_id"], name="slack_channel_unique_per_workspace"
            ),
            models.UniqueConstraint(fields=["inbox"], name="slack_channel_one_per_inbox"),
        ]
        verbose_name = _("Slack channel")
        verbose_name_plural = _("Slack channels")

    def __str__(self) -> str:
        return f"#{self.name or self.channel_id} ({self.get_kind_display()})"

    def clean(self) -> None:
        if self.kind == ChannelKind.TEAM:
            if self.team_id is None:
                raise ValidationError({"team": "A team channel needs a team."})
            if self.inbox_id is not None:
                raise ValidationError({"inbox": "A team channel is not an inbox."})
        else:
            if self.inbox_id is None:
                raise ValidationError({"inbox": "A customer or partner channel needs an inbox."})
            if self.inbox.channel != "slack":
                raise ValidationError({"inbox": "Choose an inbox whose channel is Slack."})
        if self.kind == ChannelKind.PARTNER and self.partner_organization_id is None:
            raise ValidationError({"partner_organization": "A partner channel needs a partner."})


class SlackUserLink(models.Model):
    """Which hub user a Slack user is: configured by an admin, or learnt from the
    e-mail address users.info reports. `user` empty: looked up, nobody matched."""

    workspace = models.ForeignKey(SlackWorkspace, on_delete=models.CASCADE, related_name="users")
    slack_user_id = models.CharField(_("Slack user id"), max_length=32)
    email = models.CharField(_("e-mail"), max_length=255, blank=True)
    display_name = models.CharField(_("name"), max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slack_links",
        verbose_name=_("hub user"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "slack_user_id"], name="slack_user_unique_per_workspace"
            )
        ]
        verbose_name = _("Slack user")
        verbose_name_plural = _("Slack users")

    def __str__(self) -> str:
        return f"{self.slack_user_id} → {self.user or '—'}"


class WorkState(models.TextChoices):
    PENDING = "pending", _("Pending")
    WORKING = "working", _("Working")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class SlackEvent(models.Model):
    """One Events API delivery, stored in the request that acknowledged it. The unique
    event_id makes Slack's retries no-ops; `slack_worker` does the work afterwards."""

    event_id = models.CharField(max_length=64, unique=True)
    team_id = models.CharField(max_length=32, blank=True)
    event_type = models.CharField(max_length=64, blank=True)
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=WorkState.choices, default=WorkState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("Slack event")
        verbose_name_plural = _("Slack events")

    def __str__(self) -> str:
        return f"{self.event_id} {self.event_type} ({self.state})"


class MirrorThread(models.Model):
    """A conversation mirrored into a team's Slack channel. `thread_ts` is the root
    post's ts, known once the worker has posted it."""

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="slack_mirrors"
    )
    channel = models.ForeignKey(SlackChannel, on_delete=models.CASCADE, related_name="mirrors")
    thread_ts = models.CharField(max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "channel"], name="mirror_unique")
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} in {self.channel}"


class PostKind(models.TextChoices):
    REPLY = "reply", _("Reply into a customer thread")
    MIRROR_ROOT = "mirror_root", _("Mirror thread root")
    MIRROR_APPEND = "mirror_append", _("Mirror thread message")
    NOTICE = "notice", _("Notice to a Slack user")
    NOTIFICATION = "notification", _("Routing notification")


class SlackPost(models.Model):
    """A chat.postMessage waiting to be made, written in the transaction that decided
    it (a console reply, a routing notification, a mirror step)."""

    workspace = models.ForeignKey(SlackWorkspace, on_delete=models.PROTECT, related_name="posts")
    kind = models.CharField(max_length=15, choices=PostKind.choices)
    channel_id = models.CharField(max_length=32)
    thread_ts = models.CharField(max_length=32, blank=True)
    text = models.TextField()
    message = models.OneToOneField(
        "inbox.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slack_post",
    )
    mirror = models.ForeignKey(
        MirrorThread, on_delete=models.CASCADE, null=True, blank=True, related_name="posts"
    )
    state = models.CharField(
        max_length=10, choices=WorkState.choices, default=WorkState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    posted_ts = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("Slack post")
        verbose_name_plural = _("Slack posts")

    def __str__(self) -> str:
        return f"{self.kind} → {self.channel_id} ({self.state})"


class EventLogCursor(models.Model):
    """How far the bridge has read inbox's event log (ids are commit-ordered, so
    everything at or below `last_event_id` has been seen)."""

    name = models.CharField(max_length=50, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_event_id}"
