"""Redis restarted under a live Daphne process (DESIGN §8 fault tests): consoles that
lose their socket reconnect and resume from the last event id, and every event
written meanwhile reaches them exactly once."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from hub.actions import do_issue_api_token
from tests.channels_app.test_two_processes import reply_over_http
from tests.factories import make_personas
from tests.inbox_fixtures import inbound, make_inbox
from tests.servers import console_socket, cookie_header, daphne_servers, free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="redis-server is not installed"
    ),
]


class RedisServer:
    """A private redis-server on its own port, so that restarting it disturbs nothing
    else on the machine."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # a crash, not a clean shutdown
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


class ResumingConsole:
    """What console.js does: keep the last event id, and on a lost socket reconnect
    with ?since= that id."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self.since: int | None = None
        self.ws: ClientConnection | None = None
        self.reconnections = 0
        self.messages: list[str] = []

    async def _connect(self) -> None:
        query = f"?since={self.since}" if self.since is not None else ""
        self.ws = await console_socket(self.port, self.cookie, query)
        await self.ws.send(json.dumps({"action": "ping"}))

    async def until_message(self, text: str, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while text not in self.messages:
                if self.ws is None:
                    await self._connect()
                try:
                    frame = json.loads(await self.ws.recv())  # type: ignore[union-attr]
                except (ConnectionClosed, OSError):
                    self.ws = None
                    self.reconnections += 1
                    await asyncio.sleep(0.2)
                    continue
                if isinstance(frame.get("id"), int):
                    self.since = frame["id"]
                if frame.get("type") == "message.created":
                    self.messages.append(frame["data"]["message"]["body_text"])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def test_consoles_survive_a_redis_restart_and_miss_nothing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    people = make_personas()
    conversation = inbound(make_inbox(people.support), "Hello from a customer").conversation
    token = do_issue_api_token(people.agent)
    cookie = cookie_header(people.teammate)
    layer = {
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "EVENT_LOG_POLL_SECONDS": "0.5",
    }

    def reply(text: str) -> None:
        reply_over_http(port, conversation.pk, token, text)

    async def scenario() -> ResumingConsole:
        console = ResumingConsole(port, cookie)
        await console._connect()
        await asyncio.to_thread(reply, "Before the restart")
        await console.until_message("Before the restart")

        await asyncio.to_thread(redis_server.stop)
        await asyncio.to_thread(reply, "While Redis is down")
        await asyncio.to_thread(redis_server.start)
        await console.until_message("While Redis is down")

        await asyncio.to_thread(reply, "After the restart")
        await console.until_message("After the restart")
        await console.close()
        return console

    with daphne_servers(1, tmp_path, **layer) as [port]:
        console = asyncio.run(scenario())

    assert console.messages == ["Before the restart", "While Redis is down", "After the restart"]
