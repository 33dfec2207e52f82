"""Outgoing webhooks: the event log (and hub's deal audit trail) pushed to partners'
systems, signed and retried (issue 11). `manage.py webhook_worker` runs it.

Flow, like slack_bridge's worker: follow the log past a stored cursor and write one
WebhookDelivery per event x subscription that wants it (unique, so a crash between the
insert and the cursor move never makes a second row); then claim due deliveries with a
conditional UPDATE and POST them.

Signature: `X-Hub-Signature: t=<unix seconds>,v1=<hex>` where hex is
HMAC-SHA256(secret, "<t>." + raw body). A receiver recomputes it over the raw body,
compares in constant time and refuses a `t` older than a few minutes (replay).

Retries: a non-2xx answer, a timeout or a refused connection is retried after
WEBHOOK_RETRY_SECONDS x 2^(attempt-1) (capped at an hour) until WEBHOOK_MAX_ATTEMPTS,
then the delivery is FAILED. A delivered row is final and is never claimed again.
At-least-once: if a worker dies after the receiver answered 2xx but before it stored
DELIVERED, the row is retried after WEBHOOK_STALE_SECONDS; receivers dedupe on
`X-Hub-Delivery` (the row's id, stable across retries).

Deal events: hub cannot import inbox, so do_save_deal does not record an inbox event.
Instead this module registers a deal listener with hub (InboxConfig.ready) and writes
the deliveries of `deal.created` / `deal.updated` in the deal's own transaction (a
transactional outbox): they commit or roll back with the deal, so none is lost to a
late commit and none is made twice (the source key is the deal's audit entry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from hub.actions import record_audit
from hub.models import AuditLogEntry, Deal, User
from inbox.models import (
    DeliveryState,
    Event,
    WebhookCursor,
    WebhookDelivery,
    WebhookSubscription,
)

# What a subscription can ask for. Notes, presence, typing and shares stay inside.
WEBHOOK_EVENT_TYPES = (
    "conversation.created",
    "conversation.updated",
    "message.created",
    "message.updated",
    "call.incoming",
    "call.updated",
    "deal.created",
    "deal.updated",
)
LOG_EVENT_TYPES = tuple(t for t in WEBHOOK_EVENT_TYPES if not t.startswith("deal."))
EVENTS_CURSOR = "events"
MAX_BACKOFF_SECONDS = 3600


def check_event_types(patterns: Any) -> list[str]:
    if not isinstance(patterns, list) or not patterns:
        raise ValidationError({"event_types": "Give a non-empty list of event types."})
    families = {t.split(".")[0] for t in WEBHOOK_EVENT_TYPES}
    for pattern in patterns:
        ok = isinstance(pattern, str) and (
            pattern in WEBHOOK_EVENT_TYPES
            or pattern == "*"
            or (pattern.endswith(".*") and pattern[:-2] in families)
        )
        if not ok:
            raise ValidationError(
                {
                    "event_types": f"{pattern!r} is not one of {', '.join(WEBHOOK_EVENT_TYPES)}, "
                    "a family like conversation.*, or *."
                }
            )
    return list(dict.fromkeys(patterns))


@transaction.atomic
def do_save_subscription(
    subscription: WebhookSubscription, *, by: User | None
) -> WebhookSubscription:
    created = subscription.pk is None
    subscription.event_types = check_event_types(subscription.event_types)
    subscription.full_clean()
    subscription.save()
    record_audit(
        by,
        "webhook.created" if created else "webhook.updated",
        subscription,
        {"url": subscription.url, "event_types": subscription.event_types},
    )
    return subscription


@transaction.atomic
def do_delete_subscription(subscription: WebhookSubscription, *, by: User | None) -> None:
    record_audit(by, "webhook.deleted", subscription, {"url": subscription.url})
    subscription.delete()


# -- following the logs -----------------------------------------------------------


def _payload(delivery_type: str, source_key: str, at: datetime, data: dict[str, Any]) -> dict:
    return {"id": source_key, "type": delivery_type, "at": at.isoformat(), "data": data}


def _queue(source_key: str, event_type: str, at: datetime, data: dict[str, Any]) -> int:
    made = 0
    for subscription in WebhookSubscription.objects.filter(is_active=True, created_at__lte=at):
        if not subscription.wants(event_type):
            continue
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    subscription=subscription,
                    source_key=source_key,
                    event_type=event_type,
                    payload=_payload(event_type, source_key, at, data),
                    next_attempt_at=at,  # due from the moment the event happened
                )
                made += 1
        except IntegrityError:
            pass  # queued by an earlier pass that died before moving the cursor
    return made


def follow_event_log(*, limit: int = 500) -> int:
    """Event ids are handed out in commit order, so `id > cursor` never skips one."""
    cursor, _ = WebhookCursor.objects.get_or_create(name=EVENTS_CURSOR)
    events = list(Event.objects.filter(id__gt=cursor.last_id).order_by("id")[:limit])
    if events and not WebhookSubscription.objects.filter(is_active=True).exists():
        WebhookCursor.objects.filter(pk=cursor.pk).update(last_id=events[-1].pk)
        return len(events)
    for event in events:
        with transaction.atomic():
            if event.type in LOG_EVENT_TYPES:
                _queue(f"event.{event.pk}", event.type, event.created_at, event.data or {})
            WebhookCursor.objects.filter(pk=cursor.pk).update(last_id=event.pk)
    return len(events)


def deal_data(deal: Deal) -> dict[str, Any]:
    return {
        "id": deal.pk,
        "title": deal.title,
        "account": deal.account_id,
        "contact": deal.contact_id,
        "stage": deal.stage,
        "value": str(deal.value) if deal.value is not None else None,
        "currency": deal.currency,
        "owner": deal.owner_id,
        "expected_close": deal.expected_close.isoformat() if deal.expected_close else None,
        "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
    }


def queue_deal_webhooks(deal: Deal, entry: AuditLogEntry) -> int:
    """hub's deal listener: runs inside do_save_deal's transaction, so the deliveries
    exist exactly when the change does. The deal is sent as it was saved."""
    data = {"deal": deal_data(deal), "changes": entry.changes or {}}
    return _queue(f"audit.{entry.pk}", entry.action, entry.created_at, data)


# -- delivering -------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (Python); also used by the tests' receiver."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def claim_deliveries(
    owner: str, *, limit: int = 50, now: datetime | None = None
) -> list[WebhookDelivery]:
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_STALE_SECONDS)
    due = WebhookDelivery.objects.filter(
        Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        | Q(state=DeliveryState.WORKING, claimed_at__lt=stale)
    )
    won = []
    for pk, state, claimed_at in due.order_by("id").values_list("pk", "state", "claimed_at")[
        :limit
    ]:
        if WebhookDelivery.objects.filter(pk=pk, state=state, claimed_at=claimed_at).update(
            state=DeliveryState.WORKING,
            claimed_by=owner,
            claimed_at=now,
            attempts=F("attempts") + 1,
        ):
            won.append(pk)
    return list(
        WebhookDelivery.objects.select_related("subscription").filter(pk__in=won).order_by("id")
    )


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(
        delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True
    ).encode()


def send(delivery: WebhookDelivery, *, now: datetime | None = None) -> bool:
    """POST one claimed delivery and record the outcome; True when delivered."""
    now = now or timezone.now()
    body = body_of(delivery)
    request = urllib.request.Request(  # noqa: S310 - admin-configured http(s) URL
        delivery.subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "contact-center-hub-webhooks/1",
            "X-Hub-Event": delivery.event_type,
            "X-Hub-Delivery": str(delivery.pk),
            "X-Hub-Signature": sign(delivery.subscription.secret, int(time.time()), body),
        },
    )
    status: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:2000]
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.WORKING)
    if status is not None and 200 <= status < 300:
        mine.update(
            state=DeliveryState.DELIVERED,
            last_status_code=status,
            last_error="",
            delivered_at=timezone.now(),
            claimed_by="",
        )
        return True
    attempts = delivery.attempts
    if attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        mine.update(
            state=DeliveryState.FAILED, last_status_code=status, last_error=error, claimed_by=""
        )
    else:
        delay = min(settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        mine.update(
            state=DeliveryState.PENDING,
            last_status_code=status,
            last_error=error,
            next_attempt_at=now + timedelta(seconds=delay),
            claimed_by="",
        )
    return False


def run_once(owner: str, *, now: datetime | None = None) -> dict[str, int]:
    logged = follow_event_log()
    sent = failed = 0
    for delivery in claim_deliveries(owner, now=now):
        if send(delivery, now=now):
            sent += 1
        else:
            failed += 1
    return {"log": logged, "delivered": sent, "not_delivered": failed}
