"""`/ws/chat/<inbox_key>/`: anonymous web chat visitors (DESIGN §4).

The first frame the server sends is `session`, with the visitor's signed token
(the widget keeps it, so a reload continues the same conversation) and the event
id to resume from. Client actions: send, typing, resume, ping.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import validate_host
from django.utils import timezone

from channels_app.consumers.base import ClientError, EventStreamConsumer, Handler
from channels_app.fanout import VISITOR_VIEW
from inbox import chat
from inbox.models import Channel, ChatVisitor, Inbox


def origin_allowed(origin: str, inbox: Inbox) -> bool:
    """The hub's own pages, or a site the inbox lists as embedding the widget."""
    if not origin:
        return False
    if origin.rstrip("/") in inbox.origins:
        return True
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)


def _inbox(key: str) -> Inbox | None:
    return Inbox.objects.filter(key=key, channel=Channel.CHAT, is_active=True).first()


def _visitor(inbox: Inbox, token: str) -> tuple[ChatVisitor, bool]:
    visitor = chat.visitor_from_token(inbox, token) if token else None
    if visitor is not None:
        return visitor, False
    return chat.start_visitor(inbox), True


class ChatConsumer(EventStreamConsumer):
    view = VISITOR_VIEW
    inbox: Inbox
    visitor: ChatVisitor

    async def connect(self) -> None:
        key = self.scope["url_route"]["kwargs"]["inbox_key"]
        inbox = await database_sync_to_async(_inbox)(key)
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1")
        if inbox is None or not origin_allowed(origin, inbox):
            await self.close(code=4403)
            return
        self.inbox = inbox
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        self.visitor, _new = await database_sync_to_async(_visitor)(inbox, token)
        await self.start_stream({f"visitor.{self.visitor.pk}"})
        await self.accept()
        await self.send(
            text_data=json.dumps(
                {
                    "id": self.sent_high,
                    "type": "session",
                    "at": timezone.now().isoformat(),
                    "data": {
                        "token": await database_sync_to_async(chat.visitor_token)(self.visitor),
                        "visitor": str(self.visitor.pk),
                        "conversation": self.visitor.conversation_id,
                        "name": self.visitor.name,
                    },
                }
            )
        )
        await self.hold_stream()

    async def disconnect(self, code: int) -> None:
        await self.stop_stream()

    def handlers(self) -> dict[str, Handler]:
        return {**super().handlers(), "send": self.on_send, "typing": self.on_typing}

    async def on_send(self, content: dict[str, Any]) -> None:
        text, name, email, client_id = (
            content.get(k, "") for k in ("text", "name", "email", "client_id")
        )
        if not all(isinstance(value, str) for value in (text, name, email, client_id)):
            raise ClientError("bad_frame", "text, name, email and client_id are strings.")
        try:
            received = await database_sync_to_async(chat.receive_chat_message)(
                self.visitor, text, name=name, email=email, client_id=client_id
            )
        except chat.ChatRefusal as refusal:
            raise ClientError(refusal.code, refusal.message) from None
        self.visitor.conversation_id = received.conversation.pk
        # Tells the widget the message is stored, so it stops resending it.
        await self.send(
            text_data=json.dumps(
                {"type": "ack", "data": {"client_id": client_id, "message": received.message.pk}}
            )
        )

    async def on_typing(self, content: dict[str, Any]) -> None:
        typing = content.get("typing", True)
        if not isinstance(typing, bool):
            raise ClientError("bad_typing", "'typing' is true or false.")
        await database_sync_to_async(chat.visitor_typing)(self.visitor, typing)
