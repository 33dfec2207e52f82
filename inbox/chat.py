"""The web chat channel's domain: anonymous visitors, their signed tokens, their
messages (rate- and size-limited) and how they become contacts."""

from __future__ import annotations

import uuid

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from hub.actions import EmailInput, contacts_with_email, do_create_contact
from inbox.actions import Received, receive_message
from inbox.events import record_event
from inbox.models import ChatVisitor, Conversation, Inbox
from inbox.visibility import conversation_audience

TOKEN_SALT = "inbox.webchat.visitor"  # noqa: S105 - a salt, not a secret
TOKEN_MAX_AGE = 60 * 60 * 24 * 30  # a returning visitor continues for a month
MAX_CHAT_MESSAGE_LENGTH = 5000
# Token bucket: a burst of RATE_BURST messages, then one every RATE_REFILL_SECONDS.
RATE_BURST = 8
RATE_REFILL_SECONDS = 2.0


class ChatRefusal(Exception):
    """A visitor's frame that is refused; `code` goes back to the widget."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def visitor_token(visitor: ChatVisitor) -> str:
    return signing.dumps({"v": str(visitor.id), "i": visitor.inbox.key}, salt=TOKEN_SALT)


def visitor_from_token(inbox: Inbox, token: str) -> ChatVisitor | None:
    """The visitor a token names, if it is genuine, recent and for this inbox."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        visitor_id = uuid.UUID(payload["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if payload.get("i") != inbox.key:
        return None
    return ChatVisitor.objects.select_related("inbox").filter(pk=visitor_id, inbox=inbox).first()


def start_visitor(inbox: Inbox) -> ChatVisitor:
    return ChatVisitor.objects.create(
        inbox=inbox, rate_tokens=RATE_BURST, rate_checked_at=timezone.now()
    )


def _take_rate_token(visitor: ChatVisitor) -> None:
    now = timezone.now()
    elapsed = (now - visitor.rate_checked_at).total_seconds() if visitor.rate_checked_at else 0
    tokens = min(RATE_BURST, visitor.rate_tokens + elapsed / RATE_REFILL_SECONDS)
    if tokens < 1:
        wait = (1 - tokens) * RATE_REFILL_SECONDS
        raise ChatRefusal("rate_limited", f"Too many messages; wait {wait:.0f} s and try again.")
    visitor.rate_tokens = tokens - 1
    visitor.rate_checked_at = now


def _identify(visitor: ChatVisitor, name: str, email: str) -> None:
    """A name and e-mail the visitor gave link them to a contact, or create one."""
    if name:
        visitor.name = name.strip()[:200]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ChatRefusal("invalid_email", "That e-mail address is not valid.") from None
        visitor.email = email.strip().lower()
    if visitor.email and visitor.contact_id is None:
        visitor.contact = contacts_with_email(visitor.email).order_by(
            "id"
        ).first() or do_create_contact(
            visitor.name or visitor.email.split("@")[0], emails=[EmailInput(visitor.email)]
        )


def receive_chat_message(
    visitor: ChatVisitor, text: str, *, name: str = "", email: str = "", client_id: str = ""
) -> Received:
    """A visitor's message into the unified inbox. `client_id`, when the widget sends
    one, makes a resent frame a no-op."""
    text = (text or "").strip()
    if not text:
        raise ChatRefusal("empty", "The message is empty.")
    if len(text) > MAX_CHAT_MESSAGE_LENGTH:
        raise ChatRefusal(
            "too_long", f"Messages are limited to {MAX_CHAT_MESSAGE_LENGTH} characters."
        )
    with transaction.atomic():
        visitor = ChatVisitor.objects.select_for_update().select_related("inbox").get(pk=visitor.pk)
        _take_rate_token(visitor)
        _identify(visitor, name, email)
        received = receive_message(
            visitor.inbox,
            body_text=text,
            external_id=f"chat:{visitor.pk}:{client_id[:100]}" if client_id else "",
            sender_name=visitor.name or "Visitor",
            sender_address=visitor.email,
            contact=visitor.contact,
            subject=f"Chat with {visitor.name or 'a visitor'}",
            thread_key=f"visitor:{visitor.pk}",
        )
        visitor.conversation = received.conversation
        visitor.save()
    return received


def visitor_typing(visitor: ChatVisitor, typing: bool) -> None:
    if visitor.conversation_id is None:
        return
    with transaction.atomic():
        conversation = Conversation.objects.get(pk=visitor.conversation_id)
        record_event(
            "typing",
            {"conversation": conversation.pk, "typing": typing, "visitor": str(visitor.pk)},
            conversation_audience(conversation, include_partners=False),
            conversation_id=conversation.pk,
        )
