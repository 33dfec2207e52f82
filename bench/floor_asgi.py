"""Baseline (b), the framework's floor: a Channels consumer that only joins a group
and forwards what `group_send` brings, on the project's channel layer, under Daphne.

    python -m daphne -p 9002 bench.floor_asgi:application

Clients connect to `/ws/floor/`; the benchmark triggers a broadcast over
`/ws/control/` with {"seq": n, "size": bytes}: the frame is built once and sent to
the group.
"""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.frames import PONG, bench_frame  # noqa: E402

GROUP = "bench.floor"


class FloorConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=PONG)

    async def bench_frame(self, event: dict[str, str]) -> None:
        await self.send(text_data=event["text"])


class ControlConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        spec = json.loads(text_data or "{}")
        frame = bench_frame(spec["seq"], spec["size"])
        await self.channel_layer.group_send(GROUP, {"type": "bench.frame", "text": frame})


application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path("ws/floor/", FloorConsumer.as_asgi()),
                path("ws/control/", ControlConsumer.as_asgi()),
            ]
        )
    }
)
