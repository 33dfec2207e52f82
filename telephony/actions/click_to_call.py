"""Click-to-call: Twilio rings the agent, then bridges the customer."""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from hub.models import Contact, User
from inbox import actions as inbox_actions
from inbox.models import Channel, Inbox
from telephony.actions.calls import emit_call_updated
from telephony.caller_id import normalize_caller
from telephony.models import (
    AgentLine,
    Call,
    CallStatus,
)
from telephony.providers import ProviderError
from telephony.providers import twilio as twilio_provider
from telephony.routing import client_identity

BRIDGE_PATH = "/telephony/twilio/voice/bridge/"
STATUS_PATH = "/telephony/twilio/voice/status/"


# ---------------------------------------------------------------- click-to-call


def _outbound_inbox(agent: User) -> Inbox | None:
    phones = Inbox.objects.filter(channel=Channel.PHONE, is_active=True).exclude(address="")
    return (
        phones.filter(default_team__in=agent.teams.all()).order_by("id").first()
        or phones.order_by("id").first()
    )


def check_click_to_call(contact: Contact, agent: User, phone: str = "") -> tuple[str, Inbox]:
    if not agent.is_internal:
        raise PermissionDenied("Only staff place calls.")
    numbers = [p.e164 for p in contact.phones.all()]
    if not numbers:
        raise ValidationError({"phone": f"{contact.name} has no phone number."})
    number = normalize_caller(phone, contact.phone_region) if phone else numbers[0]
    if number not in numbers:
        raise ValidationError({"phone": f"{phone!r} is not one of {contact.name}'s numbers."})
    inbox = _outbound_inbox(agent)
    if inbox is None:
        raise ValidationError({"phone": "No phone inbox with a number to call from."})
    return number, inbox


def do_click_to_call(contact: Contact, *, by: User, phone: str = "") -> Call:
    """Twilio calls the agent first (softphone or forwarding number); once they answer
    it fetches the bridge TwiML and dials the customer. The call and its conversation
    are stored before Twilio is asked, so its first callback always finds them."""
    number, inbox = check_click_to_call(contact, by, phone)
    with transaction.atomic():
        received = inbox_actions.receive_message(
            inbox,
            body_text=f"Outgoing call: {contact.name}",
            sender_name=by.full_name,
            sender_address=number,
            contact=contact,
            subject=f"Call to {contact.name}",
            thread_key=f"click-to-call:{uuid.uuid4()}",
            metadata={"placed_by": by.pk},
        )
        call = Call.objects.create(
            source="twilio",
            sid=f"pending-{uuid.uuid4()}",
            inbox=inbox,
            conversation=received.conversation,
            contact=contact,
            team=received.conversation.team,
            direction="outbound",
            from_number=inbox.address,
            customer_e164=number,
            to_number=number,
            status=CallStatus.QUEUED,
            rung_user_ids=[by.pk],
            answered_by=by,
            outcome="click-to-call",
        )
        inbox_actions.do_assign(received.conversation, by, by=by)
        emit_call_updated(call, with_profile=True)
    line = AgentLine.objects.filter(user=by).first()
    agent_endpoint = (line and line.forward_number) or f"client:{client_identity(by, line)}"
    try:
        sid = twilio_provider.start_call(
            from_number=inbox.address,
            to=agent_endpoint,
            url=twilio_provider.public_url(f"{BRIDGE_PATH}?call={call.pk}"),
            status_callback=twilio_provider.public_url(STATUS_PATH),
        )
    except ProviderError as exc:
        with transaction.atomic():
            Call.objects.filter(pk=call.pk).update(
                status=CallStatus.FAILED, ended_at=timezone.now()
            )
            call.refresh_from_db()
            emit_call_updated(call)
        raise ValidationError({"phone": f"The call could not be placed: {exc}"}) from exc
    with transaction.atomic():
        Call.objects.filter(pk=call.pk).update(sid=sid)
        call.refresh_from_db()
        emit_call_updated(call)
    return call
