"""Calls: incoming (Twilio or any PBX), their progress, voicemail, and the pop's
"who is this caller" answers. Each action is one transaction with its events, so a
webhook that fails half-way leaves nothing behind and a retry starts clean."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from hub import config_cache
from hub.actions import EmailInput, PhoneInput, do_create_contact, do_save_task
from hub.models import Account, Contact, Task, User
from inbox import actions as inbox_actions
from inbox.delivery import do_link_contact, do_update_message
from inbox.events import PendingEvent, record_event, record_events
from inbox.models import Inbox, Message
from telephony.caller_id import CallerMatch, identify_caller, normalize_caller
from telephony.models import (
    FINAL_CALL_STATUSES,
    Call,
    CallStatus,
)
from telephony.routing import RingLeg, agents_to_ring
from telephony.screen_pop import call_data, screen_pop_for

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- lookups


def find_inbox(number: str | None, channel: str) -> Inbox | None:
    """The inbox that answers on this number (Inbox.address holds E.164). Inboxes and
    teams are configuration (hub.config_cache watches them): inside a snapshot, as the
    webhooks are, the number is looked up once per process and token."""
    e164 = normalize_caller(number)
    if e164 is None:
        return None
    return config_cache.cached(
        f"telephony.inbox.{channel}.{e164}",
        lambda: (
            Inbox.objects.select_related("default_team")
            .filter(channel=channel, address=e164, is_active=True)
            .first()
        ),
    )


def caller_label(match: CallerMatch, raw: str) -> str:
    if match.contact is not None:
        return match.contact.name
    return match.e164 or "Unknown caller"


def _call_audience(call: Call) -> set[str]:
    keys = {f"team.{call.team_id}" if call.team_id else "staff"}
    keys.update(f"user.{pk}" for pk in call.rung_user_ids)
    if call.answered_by_id:
        keys.add(f"user.{call.answered_by_id}")
    return keys


def emit_call_updated(call: Call, *, with_profile: bool = False) -> None:
    data: dict[str, Any] = {"call": call_data(call)}
    if with_profile:
        pop = screen_pop_for(call)
        data["contact"] = pop["contact"]
        data["candidates"] = pop["candidates"]
    record_event("call.updated", data, _call_audience(call), conversation_id=call.conversation_id)


# ---------------------------------------------------------------- incoming calls


@dataclass(frozen=True)
class IncomingCall:
    """The stored call; `call.outcome` and `call.rung_user_ids` say how to answer it, so a
    retried webhook gets the same answer as the first delivery."""

    call: Call
    created: bool
    rung: list[RingLeg] | None = None  # the ring group, when this delivery chose it


def _locked_call(source: str, sid: str) -> Call | None:
    return (
        Call.objects.select_for_update(of=("self",))
        .select_related("team", "conversation")
        .filter(source=source, sid=sid)
        .first()
    )


@transaction.atomic
@config_cache.snapshot()
def do_receive_call(
    inbox: Inbox,
    *,
    source: str,
    sid: str,
    from_number: str,
    to_number: str,
    direction: str = "inbound",
    customer_number: str | None = None,
) -> IncomingCall:
    """A call starts ringing: store it once (a retry with the same id changes nothing),
    open its phone conversation, pick who rings and pop the screen of those agents."""
    sid = sid.strip()
    if not sid:
        raise ValidationError({"call_id": "A call needs its id."})
    existing = _locked_call(source, sid)
    if existing is not None:
        return IncomingCall(existing, created=False)

    customer = from_number if customer_number is None else customer_number
    # With its tags: routing's contact facts and the screen pop both read them.
    match = identify_caller(customer, for_screen_pop=True)
    label = caller_label(match, customer)
    received = inbox_actions.receive_message(
        inbox,
        body_text=f"{'Incoming' if direction == 'inbound' else 'Outgoing'} call: {label}",
        external_id=f"call:{source}:{sid}",
        sender_name=label,
        sender_address=match.e164 or "",
        contact=match.contact,
        subject=f"Call {'from' if direction == 'inbound' else 'to'} {label}",
        thread_key=f"call:{source}:{sid}",
        metadata={"call_sid": sid, "from": from_number, "to": to_number},
        # The call id was just looked for under lock and is new: so are the message's
        # external id and the thread key made of it (a race is caught by the unique
        # indexes, as receive_message says).
        redelivery_checked=True,
        new_thread=True,
        # Written below together with call.incoming, in one INSERT.
        defer_events=True,
    )
    conversation = received.conversation
    plan = agents_to_ring(conversation.team)
    ringing = plan.ring_group if plan.outcome == "ring" else []
    try:
        with transaction.atomic():
            call = Call.objects.create(
                source=source,
                sid=sid,
                inbox=inbox,
                conversation=conversation,
                contact=match.contact,
                team=conversation.team,
                direction=direction,
                from_number=from_number[:64],
                customer_e164=match.e164 or "",
                to_number=to_number[:64],
                status=CallStatus.RINGING,
                rung_user_ids=[leg.user_id for leg in ringing],
                candidate_ids=[c.pk for c in match.candidates] if match.contact is None else [],
                outcome=plan.outcome,
            )
    except IntegrityError:
        # The same call id raced in on another connection; that one won.
        call = _locked_call(source, sid)
        if call is None:
            raise
        record_events(received.pending_events)
        return IncomingCall(call, created=False)
    record_events(
        [
            *received.pending_events,
            PendingEvent(
                "call.incoming", screen_pop_for(call), _call_audience(call), conversation.pk
            ),
        ]
    )
    return IncomingCall(call, created=True, rung=ringing)


# ---------------------------------------------------------------- call progress


def resolve_agent(identifier: str | None) -> User | None:
    """An agent named by a PBX: e-mail, Twilio Client identity, forwarding number,
    or the `agent-<id>` identity the hub gives agents without a line."""
    text = (identifier or "").strip()
    if not text:
        return None
    staff = User.objects.filter(is_active=True).exclude(role="partner")
    user = staff.filter(email__iexact=text).first()
    if user is None:
        user = staff.filter(phone_line__client_identity=text).first()
    if user is None:
        e164 = normalize_caller(text)
        if e164:
            user = staff.filter(phone_line__forward_number=e164).first()
    if user is None and text.startswith("agent-") and text[6:].isdigit():
        user = staff.filter(pk=int(text[6:])).first()
    return user


@transaction.atomic
def do_update_call(
    call: Call,
    status: str,
    *,
    agent: User | None = None,
    duration: int | None = None,
) -> Call:
    """A status report (Twilio status callback, CTI answer/hangup). An agent answering
    takes the call and its conversation; a call that ends unanswered leaves a call-back
    task for the team."""
    if status not in CallStatus.values:
        raise ValidationError({"status": f"{status!r} is not a call status"})
    call = Call.objects.select_for_update(of=("self",)).select_related("contact").get(pk=call.pk)
    if call.is_over:
        # A late or repeated report (Twilio does not order its callbacks) cannot bring
        # a finished call back; only the duration may still arrive.
        if duration is not None and call.duration is None:
            call.duration = duration
            call.save(update_fields=["duration"])
        return call
    now = timezone.now()
    changed = status != call.status
    call.status = status
    if agent is not None and call.answered_by_id is None and status == CallStatus.IN_PROGRESS:
        call.answered_by = agent
        call.answered_at = now
        changed = True
        if call.conversation_id:
            inbox_actions.do_assign(call.conversation, agent, by=agent)
    if status in FINAL_CALL_STATUSES:
        call.ended_at = now
        if duration is not None:
            call.duration = duration
        if call.answered_by_id is None:
            _leave_callback_task(call)
    if not changed and status not in FINAL_CALL_STATUSES:
        return call
    call.save()
    emit_call_updated(call)
    return call


def _leave_callback_task(call: Call) -> None:
    if call.callback_task_id is not None:
        return
    who = call.contact.name if call.contact else (call.customer_e164 or "an unknown caller")
    number = call.customer_e164 or call.from_number or "withheld number"
    task = Task(
        title=f"Call back {who}"[:200],
        description=f"Missed call from {number} at {call.created_at:%Y-%m-%d %H:%M} UTC"
        + (" (voicemail left)" if call.recording_url else "")
        + (f"; conversation #{call.conversation_id}" if call.conversation_id else ""),
        team=call.team,
        contact=call.contact,
        account=call.contact.account if call.contact else None,
        due_at=timezone.now() + timedelta(hours=4),
    )
    call.callback_task = do_save_task(task)


# ---------------------------------------------------------------- voicemail


@transaction.atomic
def do_attach_voicemail(
    call: Call,
    *,
    recording_sid: str,
    recording_url: str = "",
    transcription: str | None = None,
) -> Call:
    """A voicemail's recording, then (in a later callback) its transcription: both land
    on one message of the call's conversation, whatever order they arrive in."""
    call = Call.objects.select_for_update(of=("self",)).get(pk=call.pk)
    if recording_url:
        call.recording_url = recording_url
    if transcription is not None:
        call.transcription = transcription
    call.save(update_fields=["recording_url", "transcription"])
    body = "Voicemail" + (
        f": {call.transcription}" if call.transcription else " (transcription pending)"
    )
    metadata = {"recording_url": call.recording_url, "recording_sid": recording_sid}
    external_id = f"voicemail:{recording_sid}"
    message = (
        Message.objects.filter(inbox=call.inbox_id, external_id=external_id)
        .exclude(external_id="")  # lets SQLite use the unique index (inbox.actions)
        .first()
    )
    if message is None:
        inbox_actions.receive_message(
            call.inbox,
            body_text=body,
            external_id=external_id,
            sender_address=call.customer_e164,
            sender_name=call.contact.name if call.contact else (call.customer_e164 or "Unknown"),
            conversation=call.conversation,
            contact=call.contact,
            metadata=metadata,
        )
    else:
        do_update_message(message, body_text=body, metadata=metadata)
    emit_call_updated(call)
    return call


# ---------------------------------------------------------------- unknown callers


def _check_call_access(call: Call, by: User) -> None:
    if not by.is_internal:
        raise PermissionDenied("Only staff handle calls.")


@transaction.atomic
def do_create_contact_for_call(
    call: Call,
    *,
    name: str,
    by: User,
    account: Account | None = None,
    email: str = "",
) -> Contact:
    """The pop's "create contact": a new contact with the caller's number; the call and
    its conversation then belong to it and every console showing the call updates."""
    _check_call_access(call, by)
    number = call.customer_e164
    if not number:
        raise ValidationError({"phone": "The caller withheld the number."})
    contact = do_create_contact(
        name,
        account=account,
        phones=[PhoneInput(number, label="phone")],
        emails=[EmailInput(email)] if email else [],
        by=by,
    )
    _link_call(call, contact)
    return contact


@transaction.atomic
def do_pick_contact_for_call(call: Call, contact: Contact, *, by: User) -> Contact:
    """A shared number (switchboard): the agent says which of the candidates is calling."""
    _check_call_access(call, by)
    _link_call(call, contact)
    return contact


def _link_call(call: Call, contact: Contact) -> None:
    call = Call.objects.select_for_update(of=("self",)).get(pk=call.pk)
    call.contact = contact
    call.candidate_ids = []
    call.save(update_fields=["contact", "candidate_ids"])
    if call.conversation_id:
        do_link_contact(call.conversation, contact)
    emit_call_updated(call, with_profile=True)
