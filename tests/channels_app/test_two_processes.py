"""Two real Daphne processes: an event produced in one reaches a console connected to
the other. With REDIS_URL set (the services run) they share Redis and PostgreSQL;
in the embedded run they share the SQLite file and pick events up from the log."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.actions import do_issue_api_token
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import inbound, make_inbox
from tests.servers import console_socket, cookie_header, daphne_servers, next_of_type

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[int, int]]:
    # With Redis, polling is pushed out of reach so that only the shared layer can
    # deliver in time; without it, the log poll is what carries the event across.
    poll = "120" if os.environ.get("REDIS_URL") else "0.3"
    with daphne_servers(2, tmp_path, EVENT_LOG_POLL_SECONDS=poll) as ports:
        yield ports[0], ports[1]


def reply_over_http(port: int, conversation_id: int, token: str, text: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/conversations/{conversation_id}/messages/",
        data=json.dumps({"body": text}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def test_an_event_written_by_one_server_reaches_a_console_on_the_other(
    two_servers: tuple[int, int],
) -> None:
    people: Personas = make_personas()
    conversation = inbound(make_inbox(people.support), "Hello from a customer").conversation
    token = do_issue_api_token(people.agent)
    cookie = cookie_header(people.teammate)
    writer_port, reader_port = two_servers

    async def scenario() -> dict:
        async with console_socket(reader_port, cookie) as ws:
            await ws.send(json.dumps({"action": "ping"}))
            await next_of_type(ws, "pong")
            sent = await asyncio.to_thread(
                reply_over_http, writer_port, conversation.pk, token, "Answer from server one"
            )
            frame = await next_of_type(ws, "message.created")
            assert frame["data"]["message"]["id"] == sent["id"]
            return frame

    frame = asyncio.run(scenario())
    assert frame["data"]["message"]["body_text"] == "Answer from server one"
    assert frame["data"]["conversation"] == conversation.pk
