"""Notifications to places outside the hub (a Slack channel, later others), raised by
routing rules and sales automation.

The same seam as inbox.outbound: a channel app registers a notifier for its kind in
AppConfig.ready(), and inbox never imports it (DESIGN §2). `notify` runs inside the
caller's transaction; a notifier must only queue durable work there (an outbox row),
never talk to the network, so that a notification is written with the routing that
raised it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Notification:
    kind: str  # "slack"
    target: str  # where, in the notifier's terms: a Slack channel id for "slack"
    text: str
    conversation_id: int | None = None


Notifier = Callable[[Notification], None]
_notifiers: dict[str, Notifier] = {}


def register_notifier(kind: str, notifier: Notifier) -> None:
    _notifiers[kind] = notifier


def can_notify(kind: str) -> bool:
    return kind in _notifiers


def notify(notification: Notification) -> None:
    notifier = _notifiers.get(notification.kind)
    if notifier is None:
        raise ValidationError(
            {"notify": f"No {notification.kind} notifier is installed in this hub."}
        )
    notifier(notification)
