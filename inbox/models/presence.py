from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PresenceStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentPresence(models.Model):
    """What teammates see of an agent: the status they chose, or offline when no
    console socket of theirs is alive."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="presence",
        primary_key=True,
    )
    chosen = models.CharField(
        max_length=10,
        choices=[(PresenceStatus.ONLINE, _("Online")), (PresenceStatus.AWAY, _("Away"))],
        default=PresenceStatus.ONLINE,
    )
    effective = models.CharField(
        max_length=10, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.effective}"


class ConsoleSession(models.Model):
    """One open console socket (a browser tab). Presence is offline when a user has none
    left whose heartbeat is fresh."""

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_sessions"
    )
    server = models.CharField(max_length=100)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.user} on {self.server}"


class ConversationViewer(models.Model):
    """An agent's tab looking at (or replying in) a conversation: the collision warning."""

    class Activity(models.TextChoices):
        VIEWING = "viewing", _("Viewing")
        REPLYING = "replying", _("Replying")

    session = models.ForeignKey(ConsoleSession, on_delete=models.CASCADE, related_name="viewing")
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="viewers"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.CharField(max_length=10, choices=Activity.choices, default=Activity.VIEWING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "conversation"], name="conversation_viewer_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.activity} {self.conversation_id}"
