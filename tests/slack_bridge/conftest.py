from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from hub.models import PartnerOrganization, Team
from inbox.models import Channel, Inbox
from slack_bridge.models import ChannelKind, SlackChannel, SlackWorkspace
from tests.factories import Personas
from tests.inbox_fixtures import make_inbox
from tests.slack_bridge.fake_slack import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0HUB"
BOT_USER = "UBOT"
CUSTOMER_CHANNEL = "C0CUSTOMER"
SUPPORT_CHANNEL = "C0SUPPORT"

_ids = itertools.count(1)


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 request signature, computed exactly as Slack documents it."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
def _slack_settings(settings: Any) -> None:
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_BOT_TOKEN = BOT_TOKEN
    settings.SLACK_RETRY_SECONDS = 0
    settings.SLACK_MAX_ATTEMPTS = 3
    settings.MAIL_SEND_RETRY_SECONDS = 0


@pytest.fixture
def fake_slack(settings: Any) -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    settings.SLACK_API_BASE_URL = fake.base_url
    fake.add_user("UCUST", "kari@fjord.test", "Kari Nordmann")
    fake.add_user("UALICE", "alice@hub.test", "Alice Agent")
    fake.add_user("USTRANGER", "someone@elsewhere.test", "Some One")
    yield fake
    fake.stop()


@dataclass
class Slack:
    workspace: SlackWorkspace
    inbox: Inbox
    customer_channel: SlackChannel
    support_channel: SlackChannel
    support: Team


@pytest.fixture
def slack(people: Personas, fake_slack: FakeSlack) -> Slack:
    workspace = SlackWorkspace.objects.create(team_id=TEAM_ID, name="Hub", bot_user_id=BOT_USER)
    inbox = make_inbox(people.support, key="slack-fjord", channel=Channel.SLACK)
    customer = SlackChannel.objects.create(
        workspace=workspace,
        channel_id=CUSTOMER_CHANNEL,
        name="fjord-shared",
        kind=ChannelKind.CUSTOMER,
        inbox=inbox,
    )
    support = SlackChannel.objects.create(
        workspace=workspace,
        channel_id=SUPPORT_CHANNEL,
        name="support",
        kind=ChannelKind.TEAM,
        team=people.support,
    )
    return Slack(workspace, inbox, customer, support, people.support)


def partner_org(people: Personas) -> PartnerOrganization:
    return people.org_a


def message_event(
    text: str,
    *,
    channel: str = CUSTOMER_CHANNEL,
    user: str = "UCUST",
    ts: str | None = None,
    thread_ts: str | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    n = next(_ids)
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts or f"1699999999.{n:06d}",
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0HUB",
        "type": "event_callback",
        "event_id": event_id or f"Ev{n:08d}",
        "event_time": int(time.time()),
        "event": event,
    }


Post = Callable[..., Any]


@pytest.fixture
def post_event(client: Client) -> Post:
    def post(
        payload: dict[str, Any] | bytes,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        **headers: str,
    ):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        return client.post(
            "/slack/events/",
            data=body,
            content_type="application/json",
            HTTP_X_SLACK_REQUEST_TIMESTAMP=str(ts),
            HTTP_X_SLACK_SIGNATURE=sign(body, ts, secret),
            **headers,
        )

    return post
