"""Inboxes and conversations for the tests, written through the domain actions."""

from __future__ import annotations

from hub.models import Team
from inbox import actions
from inbox.models import Channel, Inbox


def make_inbox(
    team: Team, *, key: str = "web", channel: str = Channel.CHAT, **fields: object
) -> Inbox:
    return Inbox.objects.create(
        key=key, name=f"{key} inbox", channel=channel, default_team=team, **fields
    )


def inbound(
    inbox: Inbox, text: str = "Hello, my order is late", **fields: object
) -> actions.Received:
    fields.setdefault("sender_name", "Customer")
    return actions.receive_message(inbox, body_text=text, **fields)
