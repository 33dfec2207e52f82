"""Real websocket clients for the tests: Channels' WebsocketCommunicator against the
project's ASGI application, signed in through a real session cookie."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from hub.asgi import application
from hub.models import User

ORIGIN = b"http://127.0.0.1"


@database_sync_to_async
def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Socket:
    """A connected client that reads frames as dicts and can assert silence."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def receive_type(self, event_type: str, timeout: float = 3) -> dict[str, Any]:
        """The next frame of this type, skipping others (presence, collision ...)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.receive(timeout=max(deadline - loop.time(), 0.01))
            if frame["type"] == event_type:
                return frame

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        frames = []
        while not await self.communicator.receive_nothing(timeout=quiet):
            frames.append(await self.receive())
        return frames

    async def close(self) -> None:
        await self.communicator.disconnect()


async def console(user: User, *, origin: bytes = ORIGIN) -> Socket:
    cookie = await session_cookie(user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/console/",
        headers=[
            (b"origin", origin),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ],
    )
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"console socket refused ({code})"
    return Socket(communicator)


async def chat(
    inbox_key: str, *, token: str = "", origin: bytes = ORIGIN
) -> tuple[Socket, dict[str, Any]]:
    path = f"/ws/chat/{inbox_key}/" + (f"?token={token}" if token else "")
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", origin)])
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"chat socket refused ({code})"
    socket = Socket(communicator)
    session = await socket.receive()
    assert session["type"] == "session"
    return socket, session
