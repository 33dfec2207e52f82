"""Calls: incoming (Twilio or any PBX), their progress, voicemail, and the pop's
"who is this caller" answers. Each transaction writes its rows with their events, so
a webhook that fails half-way leaves no half-written transaction and a retry finishes
the rest (an incoming call is two: the pop, then the conversation)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hub import config_cache
from hub.actions import EmailInput, PhoneInput, do_create_contact, do_save_task
from hub.models import Account, Contact, Task, User
from inbox import actions as inbox_actions
from inbox.delivery import do_link_contact, do_update_message
from inbox.events import PendingEvent, record_event, record_events
from inbox.models import Inbox, Message
from inbox.routing import team_for_new_conversation
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


def call_audience(call: Call) -> set[str]:
    """Who sees a call's events: its team (all staff without one), the agents it rang
    and the agent who answered."""
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
    record_event("call.updated", data, call_audience(call), conversation_id=call.conversation_id)


# ---------------------------------------------------------------- incoming calls


@dataclass(frozen=True)
class IncomingCall:
    """The stored call; `call.outcome` and `call.rung_user_ids` say how to answer it, so a
    retried webhook gets the same answer as the first delivery."""

    call: Call
    created: bool
    rung: list[RingLeg] | None = None  # the ring group, when this delivery chose it


def _stored_call(source: str, sid: str) -> Call | None:
    # No joins: a retry loads the call's team and contact when it needs them.
    return Call.objects.filter(source=source, sid=sid).first()


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
    pop the screens of the agents it rings, then open its phone conversation.

    Two transactions, so that the screens pop before the rest of the write: the first
    stores the call with its caller, team and ring group and records `call.incoming`
    (its doorbell rings at that commit); the second writes the conversation and its
    first message (routing, SLA, assignment, lead score), links the call to it and
    records `call.updated`. Each is atomic. If the second fails the webhook fails
    (Twilio gets a 5xx and retries); the retry finds the call without its
    conversation and writes it, once (under the call's lock), and never pops again."""
    sid = sid.strip()
    if not sid:
        raise ValidationError({"call_id": "A call needs its id."})
    # Only a transaction of its own may skip the wait for the disk: inside a caller's
    # transaction, the conversation's commit would be that transaction's too.
    own_transaction = not connection.in_atomic_block
    try:
        incoming, caller = _ring(
            inbox,
            source=source,
            sid=sid,
            from_number=from_number,
            to_number=to_number,
            direction=direction,
            customer_number=customer_number,
            wait_for_disk=not own_transaction,
        )
    except IntegrityError:
        # The call id is stored already (a retry, or the same call racing in on
        # another connection): this transaction wrote nothing, and the stored call
        # keeps its pop and ring group.
        existing = _stored_call(source, sid)
        if existing is None:
            raise
        incoming, caller = IncomingCall(existing, created=False), existing.contact
    if incoming.call.conversation_id is None:
        _open_conversation(inbox, incoming.call, caller)
    return incoming


@transaction.atomic
def _ring(
    inbox: Inbox,
    *,
    source: str,
    sid: str,
    from_number: str,
    to_number: str,
    direction: str,
    customer_number: str | None,
    wait_for_disk: bool,
) -> tuple[IncomingCall, Contact | None]:
    """The first transaction: the call, who rings, and the pop. Nearly every delivery
    is a new call, so nothing is read first: a stored call id fails the INSERT on its
    unique index (IntegrityError, the transaction rolls back, do_receive_call reads
    the stored call), which spared every new call a locking read and a savepoint."""
    if not wait_for_disk:
        _commit_without_waiting_for_disk()
    customer = from_number if customer_number is None else customer_number
    # With its tags: routing's contact facts and the screen pop both read them.
    match = identify_caller(customer, for_screen_pop=True)
    subject, body = _conversation_texts(direction, caller_label(match, customer))
    # The team routing will give the conversation, decided now without writing it:
    # the second transaction's routing keeps it (receive_message(team=...)).
    team = team_for_new_conversation(inbox, contact=match.contact, subject=subject, body_text=body)
    plan = agents_to_ring(team)
    ringing = plan.ring_group if plan.outcome == "ring" else []
    call = Call.objects.create(
        source=source,
        sid=sid,
        inbox=inbox,
        contact=match.contact,
        team=team,
        direction=direction,
        from_number=from_number[:64],
        customer_e164=match.e164 or "",
        to_number=to_number[:64],
        status=CallStatus.RINGING,
        rung_user_ids=[leg.user_id for leg in ringing],
        candidate_ids=[c.pk for c in match.candidates] if match.contact is None else [],
        outcome=plan.outcome,
    )
    # The pop names no conversation yet: call.updated carries it (second transaction).
    record_event("call.incoming", screen_pop_for(call), call_audience(call))
    return IncomingCall(call, created=True, rung=ringing), match.contact


def _commit_without_waiting_for_disk() -> None:
    """PostgreSQL: the pop's transaction does not wait for its commit to reach the
    disk (`synchronous_commit` off for this transaction only), which was 1-2 ms of
    every pop and more in the disk's slow moments. Nothing accepted can be lost by it:
    Twilio's answer (and the CTI hook's) goes out only after the conversation's
    transaction, which commits as usual, and its flush of the write-ahead log to disk
    carries every earlier commit with it. A crash before that answer loses at most
    this call's row, and Twilio's retry writes it again (docs/architecture.md)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _conversation_texts(direction: str, label: str) -> tuple[str, str]:
    """The subject and first message of a call's conversation."""
    if direction == "inbound":
        return f"Call from {label}", f"Incoming call: {label}"
    return f"Call to {label}", f"Outgoing call: {label}"


@transaction.atomic
def _open_conversation(inbox: Inbox, call: Call, contact: Contact | None) -> None:
    """The second transaction: the call's phone conversation (one per call, thread key
    `call:<source>:<sid>`, routed like any new conversation into the team the call
    rang), linked to the call. `call` is updated in place."""
    # The call's lock: a retry racing this delivery waits here, then finds the link.
    linked, contact_id = (
        Call.objects.select_for_update(of=("self",))
        .filter(pk=call.pk)
        .values_list("conversation_id", "contact_id")
        .get()
    )
    if linked is not None:
        call.conversation_id = linked
        return
    if contact_id != (contact.pk if contact is not None else None):
        # An agent saved or picked the caller from the pop in between (_link_call).
        contact = Contact.objects.filter(pk=contact_id).first() if contact_id else None
        call.contact = contact
    if inbox.pk != call.inbox_id:
        inbox = call.inbox
    label = contact.name if contact is not None else (call.customer_e164 or "Unknown caller")
    subject, body = _conversation_texts(call.direction, label)
    received = inbox_actions.receive_message(
        inbox,
        body_text=body,
        external_id=f"call:{call.source}:{call.sid}",
        sender_name=label,
        sender_address=call.customer_e164,
        contact=contact,
        subject=subject,
        thread_key=f"call:{call.source}:{call.sid}",
        metadata={"call_sid": call.sid, "from": call.from_number, "to": call.to_number},
        # Under the call's lock and not linked: its message and thread (written only
        # in the transaction that links the call) do not exist, so their look-ups are
        # skipped (a race is still caught by the unique indexes).
        redelivery_checked=True,
        new_thread=True,
        # Written below together with call.updated, in one INSERT.
        defer_events=True,
        team=call.team,
    )
    conversation = received.conversation
    call.conversation = conversation
    Call.objects.filter(pk=call.pk).update(conversation=conversation)
    record_events(
        [
            *received.pending_events,
            PendingEvent(
                "call.updated", {"call": call_data(call)}, call_audience(call), conversation.pk
            ),
        ]
    )


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
