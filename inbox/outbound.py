"""How a reply leaves the hub on its conversation's own channel.

Channel apps register a sender for their channel in AppConfig.ready(); inbox never
imports them (DESIGN §2). A sender runs inside the reply's transaction and must only
queue durable work (an outbox row), never talk to the network there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from inbox.models import Channel, Message, MessageStatus

OutboundSender = Callable[[Message], None]
_senders: dict[str, OutboundSender] = {}


def register_sender(channel: str, sender: OutboundSender) -> None:
    _senders[channel] = sender


def can_send_on(channel: str) -> bool:
    return channel == Channel.CHAT or channel in _senders


def queue_outbound(message: Message) -> None:
    channel = message.conversation.channel
    if channel == Channel.CHAT:
        # Web chat replies travel to the visitor's socket as events.
        message.status = MessageStatus.SENT
        message.save(update_fields=["status"])
        return
    sender = _senders.get(channel)
    if sender is None:
        raise ValidationError({"body": f"Replies on {channel} conversations cannot be sent here."})
    message.status = MessageStatus.QUEUED
    message.save(update_fields=["status"])
    sender(message)
