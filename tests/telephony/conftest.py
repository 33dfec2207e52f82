"""Telephony fixtures: Twilio credentials, the demo-like phone and SMS inboxes, requests
signed with twilio's own RequestValidator, and a local fake of the Twilio REST API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from twilio.request_validator import RequestValidator

from inbox.models import Channel, Inbox
from telephony import routing
from tests.factories import Personas
from tests.inbox_fixtures import make_inbox

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
BASE_URL = "https://hub.example.test"
OUR_NUMBER = "+15005550006"


@pytest.fixture(autouse=True)
def twilio_settings(settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.PUBLIC_BASE_URL = BASE_URL
    settings.DEFAULT_PHONE_REGION = "US"
    settings.TWILIO_API_BASE_URL = ""


@pytest.fixture
def stop_event_pump(fresh_channel_layer: None) -> None:
    """Socket tests get a fresh layer and pump (tests/conftest.py)."""


@pytest.fixture
def phone_inbox(people: Personas) -> Inbox:
    return make_inbox(people.support, key="phone", channel=Channel.PHONE, address=OUR_NUMBER)


@pytest.fixture
def sms_inbox(people: Personas) -> Inbox:
    return make_inbox(people.support, key="sms", channel=Channel.SMS, address=OUR_NUMBER)


def sign(path: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(BASE_URL + path, params)


def twilio_post(
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    client: Client | None = None,
) -> Any:
    """POST form params as Twilio does, signed for this exact URL unless told otherwise."""
    headers = {}
    signature = sign(path, params) if signature is None else signature
    if signature:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return (client or Client()).post(path, params, **headers)


def call_params(sid: str = "CA" + "1" * 32, caller: str = "+14155550132", **extra: str) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "From": caller,
        "To": OUR_NUMBER,
        "Direction": "inbound",
        "CallStatus": "ringing",
        **extra,
    }


def twiml(response: Any) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 -- our own TwiML
    assert root.tag == "Response"
    return root


@dataclass
class FakeTwilio:
    """A local stand-in for api.twilio.com: records requests, answers like Messaging."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list)


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeTwilio]:
    state = FakeTwilio(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            state.requests.append(
                {"path": self.path, "form": form, "auth": self.headers.get("Authorization")}
            )
            if state.fail_with:
                status = state.fail_with.pop(0)
                body = {"code": 21211, "message": "The 'To' number is not valid.", "status": status}
            elif self.path.endswith("/Calls.json"):
                status = 201
                sid = f"CA{len(state.requests):032d}"
                body = {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "from": form.get("From"),
                    "to": form.get("To"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                }
            else:
                status = 201
                sid = f"SM{len(state.requests):032d}"
                body = {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "from": form.get("From"),
                    "to": form.get("To"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "num_segments": "1",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                }
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_API_BASE_URL = state.url
    yield state
    server.shutdown()
    server.server_close()


def ring_plan_nodes(team_id: int) -> list[dict[str, Any]]:
    """Every node of the ring plan statement's executed plan (EXPLAIN ANALYZE,
    PostgreSQL)."""
    sql, params = routing._online_agents_sql(
        team_id, connection.alias, django_settings.TELEPHONY_QUEUE_MAX_WAIT_SECONDS
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (explained,) = cursor.fetchone()
    if isinstance(explained, str):
        explained = json.loads(explained)

    def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]

    return nodes(explained[0]["Plan"])
