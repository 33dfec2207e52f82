"""Outgoing webhooks (issue 11 item 6): a real local HTTP receiver checks the
signature; failures are retried with backoff; a success is never sent again."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from hub.actions import do_save_deal
from hub.models import Account, Deal, Tag
from inbox import webhooks
from inbox.models import DeliveryState, WebhookDelivery, WebhookSubscription
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox
from tests.servers import free_port

SECRET = "whsec-test"


@dataclass
class Receiver:
    """A local HTTP server: answers `statuses` in turn (then 200), records what it got."""

    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signature = self.headers.get("X-Hub-Signature", "")
            state.received.append(
                {
                    "body": json.loads(body),
                    "event": self.headers.get("X-Hub-Event"),
                    "delivery": self.headers.get("X-Hub-Delivery"),
                    "valid": webhooks.verify_signature(SECRET, signature, body),
                    "forged_valid": webhooks.verify_signature("other", signature, body),
                }
            )
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast(settings: Any) -> None:
    settings.WEBHOOK_RETRY_SECONDS = 10
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT_SECONDS = 5


def subscribe(url: str, types: list[str]) -> WebhookSubscription:
    return webhooks.do_save_subscription(
        WebhookSubscription(name="CRM", url=url, secret=SECRET, event_types=types), by=None
    )


@pytest.mark.django_db(transaction=True)
def test_events_are_delivered_signed_once(people: Personas, receiver: Receiver, fast: None) -> None:
    subscribe(receiver.url, ["conversation.*", "message.created"])
    inbox = make_inbox(people.support)
    inbound(inbox, "Where is my parcel?")
    counts = webhooks.run_once("w1")
    assert counts["delivered"] == 2
    assert [r["event"] for r in receiver.received] == ["conversation.created", "message.created"]
    assert all(r["valid"] and not r["forged_valid"] for r in receiver.received)
    message = receiver.received[1]["body"]
    assert message["type"] == "message.created"
    assert message["data"]["message"]["body_text"] == "Where is my parcel?"
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    # Nothing new: a second pass (even far in the future) sends nothing again.
    webhooks.run_once("w1", now=timezone.now() + timedelta(days=1))
    assert len(receiver.received) == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_is_retried_with_backoff_and_gets_it_once(
    people: Personas, receiver: Receiver, fast: None
) -> None:
    subscribe(receiver.url, ["message.created"])
    receiver.statuses = [500, 503]
    inbound(make_inbox(people.support), "hello")
    start = timezone.now()
    webhooks.run_once("w1", now=start)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at == start + timedelta(seconds=10)
    webhooks.run_once("w1", now=start + timedelta(seconds=5))  # not due yet
    assert len(receiver.received) == 1
    webhooks.run_once("w1", now=start + timedelta(seconds=10))
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == start + timedelta(seconds=10 + 20)  # doubled
    webhooks.run_once("w1", now=start + timedelta(seconds=30))
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 3
    webhooks.run_once("w1", now=start + timedelta(hours=5))
    assert len(receiver.received) == 3
    assert len({r["delivery"] for r in receiver.received}) == 1  # one id across retries


@pytest.mark.django_db(transaction=True)
def test_a_dead_receiver_ends_in_a_failed_record(people: Personas, fast: None) -> None:
    subscribe(f"http://127.0.0.1:{free_port()}/nobody", ["message.created"])
    inbound(make_inbox(people.support), "hello")
    now = timezone.now()
    for _ in range(5):
        webhooks.run_once("w1", now=now)
        now += timedelta(hours=2)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 3
    assert delivery.last_status_code is None
    assert delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_deal_events_are_queued_in_the_deals_own_transaction(
    people: Personas, receiver: Receiver, fast: None
) -> None:
    subscribe(receiver.url, ["deal.*"])
    deal = do_save_deal(Deal(title="40 seats", account=Account.objects.create(name="Acme")))
    # The outbox row exists as soon as the deal does, before any worker ran.
    assert WebhookDelivery.objects.filter(event_type="deal.created").count() == 1
    deal.stage = "won"
    do_save_deal(deal)
    # A deal change that rolls back leaves no delivery behind.
    with pytest.raises(RuntimeError), transaction.atomic():
        deal.stage = "lost"
        do_save_deal(deal)
        raise RuntimeError("the caller's transaction fails after the save")
    assert WebhookDelivery.objects.count() == 2
    webhooks.run_once("w1")
    webhooks.run_once("w1")
    assert [r["event"] for r in receiver.received] == ["deal.created", "deal.updated"]
    assert receiver.received[1]["body"]["data"]["changes"] == {"stage": ["prospecting", "won"]}
    assert receiver.received[1]["body"]["data"]["deal"]["id"] == deal.pk
    assert receiver.received[1]["body"]["data"]["deal"]["stage"] == "won"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deal_committed_after_a_later_one_is_still_delivered(
    people: Personas, receiver: Receiver, fast: None
) -> None:
    """The race the old audit-log follower could lose: deal A takes the lower id but
    commits after deal B, and a worker runs in between."""
    subscribe(receiver.url, ["deal.created"])
    # Nothing else may order the two saves: two accounts, and the nurture tag that
    # lead scoring creates on first use exists already.
    account_a, account_b = (Account.objects.create(name=name) for name in ("A", "B"))
    Tag.objects.create(name="nurture")
    saved_a = threading.Event()
    release_a = threading.Event()

    def save_a_and_wait() -> None:
        try:
            with transaction.atomic():
                do_save_deal(Deal(title="A", account=account_a))
                saved_a.set()
                release_a.wait(10)
        finally:
            connection.close()

    slow = threading.Thread(target=save_a_and_wait)
    slow.start()
    assert saved_a.wait(10)
    do_save_deal(Deal(title="B", account=account_b))
    webhooks.run_once("w1")
    assert [r["body"]["data"]["deal"]["title"] for r in receiver.received] == ["B"]
    release_a.set()
    slow.join(10)
    webhooks.run_once("w1")
    webhooks.run_once("w1")
    titles = [r["body"]["data"]["deal"]["title"] for r in receiver.received]
    assert titles == ["B", "A"]


@pytest.mark.django_db(transaction=True)
def test_only_wanted_events_and_only_events_after_subscribing(
    people: Personas, receiver: Receiver, fast: None
) -> None:
    inbox = make_inbox(people.support)
    inbound(inbox, "before the subscription", thread_key="a")
    subscribe(receiver.url, ["message.created"])
    inbound(inbox, "after", thread_key="b")
    call_command("webhook_worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert [r["body"]["data"]["message"]["body_text"] for r in receiver.received] == ["after"]


@pytest.mark.django_db
def test_subscriptions_over_rest_are_for_administrators_only(people: Personas) -> None:
    payload = {"name": "ERP", "url": "https://erp.example/hook", "event_types": ["call.*"]}
    admin = login_client(people.admin)
    response = admin.post("/api/v1/webhooks/", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["secret"]
    bad = admin.post(
        "/api/v1/webhooks/",
        {**payload, "event_types": ["note.created"]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert admin.get("/api/v1/webhook-deliveries/").status_code == 200
    assert login_client(people.supervisor).get("/api/v1/webhooks/").status_code == 403
    assert login_client(people.partner_a).get("/api/v1/webhooks/").status_code == 404
    assert Client().get("/api/v1/webhooks/").status_code in (401, 403)
    assert WebhookSubscription.objects.count() == 1
