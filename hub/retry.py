"""When to try again: the one backoff rule every outbox and work queue uses (mail
outbox, Slack events and posts, outgoing webhooks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

MAX_DELAY_SECONDS = 3600


def next_attempt_at(attempts: int, base_seconds: float, *, now: datetime | None = None) -> datetime:
    """After the `attempts`-th failure: base, 2 base, 4 base and so on, capped at an hour."""
    delay = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS)
    return (now or timezone.now()) + timedelta(seconds=delay)
