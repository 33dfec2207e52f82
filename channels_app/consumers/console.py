"""`/ws/console/`: the live console of staff and partners (DESIGN §4).

Client actions: resume, ping, presence (online/away), view / leave a conversation,
typing. Partners receive only what is shared with their organization and take no
part in presence or collision.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from channels_app.consumers.base import ClientError, EventStreamConsumer, Handler
from channels_app.fanout import SERVER_NAME, STAFF_VIEW, heartbeat_timeout, partner_view_of
from hub.models import User
from inbox import presence
from inbox.models import Conversation
from inbox.visibility import console_keys, visible_conversations

# Heartbeats refresh the session row at most this often (a write per ping is waste).
TOUCH_EVERY_SECONDS = 10


class ConsoleConsumer(EventStreamConsumer):
    user: User
    session_id: Any = None
    viewing: set[int]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user = user
        self.viewing = set()
        self.view = partner_view_of(user.partner_organization_id) if user.is_partner else STAFF_VIEW
        await self.start_stream(await database_sync_to_async(console_keys)(user))
        self.session_id = await database_sync_to_async(presence.open_console_session)(
            user, SERVER_NAME, timeout=heartbeat_timeout()
        )
        self.last_frame_at = self.last_touch_at = time.monotonic()
        self.watchdog = asyncio.create_task(self._watch_heartbeat())
        await self.accept()
        await self.hold_stream()

    async def disconnect(self, code: int) -> None:
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None and watchdog is not asyncio.current_task():
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        await self._end_session()

    async def _end_session(self) -> None:
        """Idempotent: runs on disconnect, or at once when the watchdog closes the tab."""
        await self.stop_stream()
        session_id, self.session_id = self.session_id, None
        if session_id is not None:
            await database_sync_to_async(presence.close_console_session)(
                session_id, timeout=heartbeat_timeout()
            )

    async def _watch_heartbeat(self) -> None:
        """A tab that stops answering is closed, so its agent can go offline."""
        limit = settings.CONSOLE_HEARTBEAT_TIMEOUT
        while True:
            await asyncio.sleep(max(limit / 4, 0.05))
            if time.monotonic() - self.last_frame_at > limit:
                await self.close(code=4408)
                await self._end_session()
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_frame_at = time.monotonic()
        if (
            self.last_frame_at - self.last_touch_at > TOUCH_EVERY_SECONDS
            and not self.user.is_partner
        ):
            self.last_touch_at = self.last_frame_at
            await database_sync_to_async(presence.touch_console_session)(self.session_id)
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    def handlers(self) -> dict[str, Handler]:
        return {
            **super().handlers(),
            "presence": self.on_presence,
            "view": self.on_view,
            "leave": self.on_leave,
            "typing": self.on_typing,
        }

    async def on_presence(self, content: dict[str, Any]) -> None:
        if self.user.is_partner:
            raise ClientError("not_allowed", "Partners have no presence.")
        status = content.get("status")
        if status not in ("online", "away"):
            raise ClientError("bad_status", "status is 'online' or 'away'.")
        await database_sync_to_async(presence.set_chosen_status)(
            self.user, status, timeout=heartbeat_timeout()
        )

    async def _conversation(self, content: dict[str, Any]) -> Conversation:
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            raise ClientError("bad_conversation", "'conversation' must be a conversation id.")
        conversation = await database_sync_to_async(
            lambda: visible_conversations(self.user).filter(pk=conversation_id).first()
        )()
        if conversation is None:
            # The same answer whether it does not exist or is not shared: a partner
            # learns nothing by guessing ids.
            raise ClientError("not_found", "No such conversation.")
        return conversation

    async def on_view(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        if self.user.is_partner:
            await self.send(
                text_data=json.dumps({"type": "viewing", "data": {"conversation": conversation.pk}})
            )
            return
        self.viewing.add(conversation.pk)
        await self.add_keys({f"conversation.{conversation.pk}"})
        await database_sync_to_async(presence.view_conversation)(
            self.session_id, self.user, conversation
        )

    async def on_leave(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        if self.user.is_partner:
            return
        self.viewing.discard(conversation.pk)
        await self.remove_keys({f"conversation.{conversation.pk}"})
        await database_sync_to_async(presence.leave_conversation)(self.session_id, conversation.pk)

    async def on_typing(self, content: dict[str, Any]) -> None:
        typing = content.get("typing", True)
        if not isinstance(typing, bool):
            raise ClientError("bad_typing", "'typing' is true or false.")
        conversation = await self._conversation(content)
        if self.user.is_partner:
            return
        await self.add_keys({f"conversation.{conversation.pk}"})
        await database_sync_to_async(presence.set_typing)(
            self.session_id, self.user, conversation, typing
        )
