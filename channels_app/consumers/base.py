"""What every hub socket shares: the frame protocol, error frames, and the live
stream with resume (DESIGN §4) on top of the process's event pump."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from django.db import close_old_connections

from channels_app.daphne_send import Frame, daphne_protocol, send_prepared
from channels_app.fanout import EventFanout, View, frame_for, get_fanout
from inbox.events import events_for

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
REPLAY_PAGE = 500

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class ClientError(Exception):
    """A client frame that is refused; the socket stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _replay_page(keys: set[str], after: int) -> list[Any]:
    close_old_connections()
    return list(events_for(keys, after, limit=REPLAY_PAGE))


class EventStreamConsumer(AsyncWebsocketConsumer):
    """A socket that receives the events of its audience keys, in id order, each once.

    Subclasses set `view`, call `start_stream(keys)` once accepted, and map actions
    to handlers in `handlers()`.
    """

    # Sockets get their events from the process's pump (channels_app.fanout), never
    # from the channel layer: no channel, receive task or layer buffer per socket. An
    # alias with no configuration means no layer (channels.layers.get_channel_layer).
    channel_layer_alias = "none: sockets are fed by the event pump"
    view: View
    keys: set[str]
    fanout: EventFanout | None = None
    # The highest event id this socket has sent (or was told to skip past).
    sent_high: int = 0
    # While a resume replays from the log, live events wait here.
    buffer: list[tuple[int, Frame]] | None = None
    # Ids sent live before the client's first resume: the replay must not repeat them.
    sent_before_resume: set[int] | None = None
    _release_timer: asyncio.TimerHandle | None = None
    # Under Daphne, its protocol: live events are written to it as prepared frames.
    daphne: WebSocketProtocol | None = None

    def handlers(self) -> dict[str, Handler]:
        return {"resume": self.on_resume, "ping": self.on_ping}

    # -- streaming -----------------------------------------------------------
    async def start_stream(self, keys: set[str]) -> None:
        """Subscribe before the socket is accepted, so that a client that sees the
        handshake complete has missed nothing; events wait until `release_stream`."""
        self.keys = set(keys)
        self.daphne = daphne_protocol(self.base_send)
        self.fanout = await get_fanout()
        # Live from the pump's position: it delivers only ids above it.
        self.sent_high = self.fanout.last_id or 0
        self.sent_before_resume = set()
        self.buffer = []
        self.fanout.subscribe(self, self.keys)

    async def hold_stream(self) -> None:
        """Call once accepted. A reconnecting client's first frame is its resume, and
        it must get the missed events before any live one; so live events wait for the
        first frame, a `?since=` in the URL, or, for a client that never resumes, a
        short grace period."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        since = (query.get("since") or [""])[0]
        if since.isdigit():
            await self.replay_since(int(since))
            return
        self._release_timer = asyncio.get_running_loop().call_later(
            settings.SOCKET_RESUME_GRACE_SECONDS, self._release_soon
        )

    def _release_soon(self) -> None:
        if self.buffer is not None and self._release_timer is not None:
            self._release_timer = None
            self._release_task = asyncio.create_task(self.release_stream())

    async def release_stream(self) -> None:
        """Sends what arrived while the stream was held, then goes live."""
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        while self.buffer:
            buffered, self.buffer = self.buffer, []
            for event_id, frame in buffered:
                await self._send_event(event_id, frame)
        self.buffer = None

    async def add_keys(self, keys: set[str]) -> None:
        new = keys - self.keys
        if new and self.fanout is not None:
            self.keys |= new
            self.fanout.subscribe(self, new)

    async def remove_keys(self, keys: set[str]) -> None:
        gone = keys & self.keys
        if gone and self.fanout is not None:
            self.keys -= gone
            self.fanout.unsubscribe(self, gone)

    async def stop_stream(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self.fanout is not None:
            self.fanout.unsubscribe(self, self.keys)
            self.fanout = None

    async def deliver(self, event_id: int, frame: Frame) -> None:
        if self.buffer is not None:
            self.buffer.append((event_id, frame))
            return
        await self._send_event(event_id, frame)

    async def _send_event(self, event_id: int, frame: Frame) -> None:
        if event_id <= self.sent_high:
            return
        self.sent_high = event_id
        if self.sent_before_resume is not None:
            self.sent_before_resume.add(event_id)
        if self.daphne is None or not send_prepared(self.daphne, frame):
            await self.send(text_data=frame.text)

    async def replay_since(self, since: int) -> None:
        """Everything after `since` this socket may see, then the live stream, with
        nothing lost or doubled in between."""
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self.buffer is None:
            self.buffer = []
        already_sent, self.sent_before_resume = self.sent_before_resume or set(), None
        try:
            high = since
            while True:
                page = await database_sync_to_async(_replay_page)(set(self.keys), high)
                for event in page:
                    frame = frame_for(event, self.view)
                    if frame is not None and event.pk not in already_sent:
                        await self.send(text_data=frame)
                    high = event.pk
                if len(page) < REPLAY_PAGE:
                    break
            self.sent_high = max(high, since, self.sent_high)
        finally:
            await self.release_stream()

    # -- frames ----------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = self._parse(text_data, bytes_data)
            action = content.get("action")
            if self._release_timer is not None and action != "resume":
                # The first frame is not a resume: this client wants the live stream.
                await self.release_stream()
            handler = self.handlers().get(action) if isinstance(action, str) else None
            if handler is None:
                raise ClientError("unknown_action", f"Unknown action {action!r}.")
            await handler(content)
        except ClientError as error:
            await self.send_error(error.code, error.message)
        except Exception:
            logger.exception("socket frame failed")
            await self.send_error("server_error", "The server could not handle that frame.")

    def _parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        if text_data is None:
            raise ClientError("bad_frame", "Frames must be JSON text.")
        if len(text_data.encode("utf-8")) > MAX_FRAME_BYTES:
            raise ClientError("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
        try:
            content = json.loads(text_data)
        except ValueError:
            raise ClientError("bad_json", "The frame is not valid JSON.") from None
        if not isinstance(content, dict):
            raise ClientError("bad_frame", "A frame is a JSON object with an action.")
        return content

    async def send_error(self, code: str, message: str) -> None:
        await self.send(
            text_data=json.dumps({"type": "error", "data": {"code": code, "message": message}})
        )

    async def on_resume(self, content: dict[str, Any]) -> None:
        since = content.get("since")
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise ClientError("bad_resume", "resume needs 'since': the last event id received.")
        await self.replay_since(since)

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": "pong"}))
