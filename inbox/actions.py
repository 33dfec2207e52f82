"""Domain actions of the unified inbox. Every channel adapter and API view calls
these and nothing else; each writes its rows and its events in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.utils import timezone

from hub import config_cache
from hub.actions import record_audit
from hub.models import Contact, PartnerOrganization, Team, User
from hub.scoring import PendingInteractions, record_interaction
from inbox import outbound
from inbox.assignment import drain_after_commit
from inbox.events import PendingEvent, record_event, record_events
from inbox.models import (
    Conversation,
    ConversationNote,
    ConversationShare,
    ConversationStatus,
    Direction,
    Inbox,
    Message,
    MessageStatus,
)
from inbox.routing import route_new_conversation_outcome, routing_needs_conversation_id
from inbox.serializers import conversation_data, message_data, note_data
from inbox.sla import apply_sla, sla_on_reply, sla_on_status
from inbox.surveys import send_survey_after_resolution
from inbox.visibility import conversation_audience, visitor_keys

MAX_BODY_LENGTH = 20_000


@dataclass(frozen=True)
class Received:
    message: Message
    conversation: Conversation
    created: bool
    # receive_message(defer_events=True): the events of this message, not yet written;
    # the caller records them together with its own (one INSERT for all).
    pending_events: list[PendingEvent] = field(default_factory=list)
    # receive_message(defer_writes=True): the message (and a new conversation) still
    # to be inserted, by write_receipts, with other messages of the caller's batch.
    pending_write: PendingReceipt | None = None


@dataclass
class PendingReceipt:
    """An inbound message decided (routed, SLA set, scored) but not inserted yet:
    `write_receipts` inserts those of a batch with one INSERT per table and returns
    their events. `insert_conversation`: the conversation is new and unsaved."""

    message: Message
    conversation: Conversation
    created: bool
    insert_conversation: bool
    partner_ids: list[int]


def write_receipts(receipts: list[PendingReceipt]) -> list[list[PendingEvent]]:
    """Insert the pending messages of a batch (and their new conversations): one
    INSERT for the conversations, one for the messages, in list order (both databases
    number a multi-row INSERT's rows in order, so ids follow the order of arrival).
    Returns each receipt's events, for the caller to record in the same transaction.

    `bulk_create` sends no `post_save`; it is sent here for every row, as `save()`
    would have, so that listeners (the search index) see these rows like any other."""
    new_conversations = [r.conversation for r in receipts if r.insert_conversation]
    if new_conversations:
        Conversation.objects.bulk_create(new_conversations)
    for receipt in receipts:
        receipt.message.conversation = receipt.conversation
    messages = Message.objects.bulk_create([receipt.message for receipt in receipts])
    using = transaction.get_connection().alias
    for conversation in new_conversations:
        post_save.send(
            Conversation,
            instance=conversation,
            created=True,
            update_fields=None,
            raw=False,
            using=using,
        )
    for message in messages:
        post_save.send(
            Message, instance=message, created=True, update_fields=None, raw=False, using=using
        )
    return [
        _received_events(
            receipt.conversation,
            receipt.message,
            created=receipt.created,
            partner_ids=receipt.partner_ids,
        )
        for receipt in receipts
    ]


def _locked_conversations() -> QuerySet[Conversation]:
    """Conversations with what their serialization needs, locked for this transaction."""
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "team", "assignee", "inbox")
        .prefetch_related("shares")
    )


def _fresh(conversation_id: int) -> Conversation:
    return _locked_conversations().get(pk=conversation_id)


def _emit_conversation(
    event_type: str, conversation: Conversation, extra: set[str] = frozenset()
) -> None:
    conversation = _fresh(conversation.pk)
    record_event(
        event_type,
        {"conversation": conversation_data(conversation)},
        conversation_audience(conversation) | set(extra),
        conversation_id=conversation.pk,
    )


def _emit_message(message: Message, conversation: Conversation) -> None:
    record_event(
        "message.created",
        {"conversation": conversation.pk, "message": message_data(message)},
        conversation_audience(conversation) | visitor_keys(conversation),
        conversation_id=conversation.pk,
    )


def _received_events(
    conversation: Conversation, message: Message, *, created: bool, partner_ids: list[int]
) -> list[PendingEvent]:
    """The two events of an inbound message, from the objects this transaction wrote:
    nothing is read back (the conversation is locked or new, the message was just
    created, so it has no attachments yet) and the shares are read once for both."""
    audience = conversation_audience(conversation, partner_ids=partner_ids)
    return [
        PendingEvent(
            "conversation.created" if created else "conversation.updated",
            {"conversation": conversation_data(conversation, partner_ids=partner_ids)},
            audience,
            conversation.pk,
        ),
        PendingEvent(
            "message.created",
            {
                "conversation": conversation.pk,
                "message": message_data(message, without_attachments=True),
            },
            audience | visitor_keys(conversation),
            conversation.pk,
        ),
    ]


def check_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": "The message is empty."})
    if len(text) > MAX_BODY_LENGTH:
        raise ValidationError({"body": f"The message is longer than {MAX_BODY_LENGTH} characters."})
    return text


def receive_message(
    inbox: Inbox,
    *,
    body_text: str,
    body_html: str = "",
    external_id: str = "",
    sender_name: str = "",
    sender_address: str = "",
    contact: Contact | None = None,
    subject: str = "",
    thread_key: str = "",
    conversation: Conversation | None = None,
    metadata: dict[str, Any] | None = None,
    redelivery_checked: bool = False,
    new_thread: bool = False,
    defer_events: bool = False,
    savepoint: bool = True,
    defer_writes: bool = False,
    interactions: PendingInteractions | None = None,
    contact_deal_value: Decimal | None = None,
    team: Team | None = None,
) -> Received:
    """An inbound message from any channel. A redelivery (same inbox and external id)
    returns the message stored the first time and writes nothing.

    `redelivery_checked`: the caller has just looked for a stored copy, under a lock
    of its own, and found none (the mail sync: its Message-ID records under the
    folder checkpoint), so the look-up here is skipped; the unique index still
    catches a race, as below.

    `new_thread`: the caller knows no conversation has this thread key yet (a call's
    key holds the call id, which it has just looked for under lock), so the look-up
    of the thread is skipped too.

    `defer_events`: the events are returned in `Received.pending_events` instead of
    written; the caller must record them in the same transaction.

    `savepoint=False`: no savepoint around the write, for a caller whose own
    transaction handles a failure as a whole (the mail sync stores a failed batch
    again one mail per transaction). A race on the unique index then raises
    IntegrityError instead of returning the other delivery's message: the caller's
    transaction can run no more statements.

    `defer_writes` (with `defer_events` and `savepoint=False`): the message, and its
    conversation when new, are not inserted; `Received.pending_write` holds them for
    `write_receipts`, which the caller runs in the same transaction before anything
    reads them (the mail sync's batch: one INSERT per table per batch). Their ids are
    unset until then. A conversation that exists already is locked and updated here.
    `interactions`: the lead score's count of `contact` (given with
    `contact_deal_value`) joins the caller's batch, which writes it
    (hub.scoring.PendingInteractions) in the same transaction.

    `contact_deal_value`: the open deal value of `contact`'s account, read together
    with `contact` by the caller; the lead score then counts the message without a
    locking read of the contact (hub.scoring.record_interaction).

    `team`: a new conversation's team, already decided by
    `routing.team_for_new_conversation` (a call rang that team before its
    conversation was written); routing runs as usual but keeps that team."""
    if defer_writes and (savepoint or not defer_events):
        raise ValueError("defer_writes needs defer_events=True and savepoint=False")
    if external_id and not redelivery_checked:
        existing = _existing_message(inbox, external_id)
        if existing is not None:
            return Received(existing, existing.conversation, created=False)
    try:
        # One token query instead of reading routing rules, SLA policies, calendars
        # and scoring settings for every message (hub.config_cache).
        with config_cache.snapshot(), transaction.atomic(savepoint=savepoint):
            return _receive(
                inbox,
                body_text=body_text,
                body_html=body_html,
                external_id=external_id,
                sender_name=sender_name,
                sender_address=sender_address,
                contact=contact,
                subject=subject,
                thread_key=thread_key,
                conversation=conversation,
                metadata=metadata or {},
                new_thread=new_thread,
                defer_events=defer_events,
                defer_writes=defer_writes,
                interactions=interactions,
                contact_deal_value=contact_deal_value,
                team=team,
            )
    except IntegrityError:
        # Two deliveries of one message raced; the other one won.
        existing = _existing_message(inbox, external_id) if external_id and savepoint else None
        if existing is None:
            raise
        return Received(existing, existing.conversation, created=False)


def _existing_message(inbox: Inbox, external_id: str) -> Message | None:
    return (
        Message.objects.select_related("conversation")
        .filter(inbox=inbox, external_id=external_id)
        # Names the unique index's condition, so that SQLite uses that index (a bound
        # parameter alone does not prove external_id <> '' to its planner, and it
        # would scan the whole inbox's messages).
        .exclude(external_id="")
        .first()
    )


def _receive(
    inbox: Inbox,
    *,
    body_text: str,
    body_html: str,
    external_id: str,
    sender_name: str,
    sender_address: str,
    contact: Contact | None,
    subject: str,
    thread_key: str,
    conversation: Conversation | None,
    metadata: dict[str, Any],
    new_thread: bool,
    defer_events: bool,
    defer_writes: bool = False,
    interactions: PendingInteractions | None = None,
    contact_deal_value: Decimal | None = None,
    team: Team | None,
) -> Received:
    now = timezone.now()
    # An existing conversation is locked first (then the contact, by the scoring):
    # the thread look-up is the locking read itself, not a read and then a lock.
    if conversation is not None:
        conversation = _fresh(conversation.pk)
    elif thread_key and not new_thread:
        conversation = (
            _locked_conversations()
            .filter(inbox=inbox, thread_key=thread_key)
            .order_by("-id")
            .first()
        )
    created = conversation is None
    # Routing (issue 7): lead scores count every inbound message, before routing reads them.
    scored_contact = contact or (conversation.contact if conversation is not None else None)
    interaction = (
        record_interaction(
            scored_contact,
            now,
            deal_value=contact_deal_value if scored_contact is contact else None,
            pending=interactions if scored_contact is contact else None,
        )
        if scored_contact is not None
        else None
    )
    if created:
        conversation = Conversation(
            inbox=inbox,
            channel=inbox.channel,
            contact=contact,
            subject=subject[:255],
            thread_key=thread_key,
            last_message_at=now,
        )
        # Routing (issue 7): rules that add tags, shares or tasks need it saved first;
        # otherwise routing, assignment and SLA decide everything before the one INSERT.
        if routing_needs_conversation_id():
            conversation.save()
        routed = route_new_conversation_outcome(
            conversation,
            body_text=body_text,
            at=now,
            save=False,
            # The scoring has just read it: the same value, not read again.
            deal_value=interaction.deal_value if interaction is not None else None,
            team=team,
        )
        apply_sla(conversation, now)  # SLA (issue 7): due times once routing set team/priority
        insert_conversation = defer_writes and conversation.pk is None
        if not insert_conversation:
            conversation.save()
        metadata = {**metadata, "routing": routed.trace}
        # New in this transaction: its only shares are those a routing rule just made.
        partner_ids = routed.shared_with
    else:
        insert_conversation = False
        if conversation.status != ConversationStatus.OPEN:
            # A customer writing again reopens the conversation.
            conversation.status = ConversationStatus.OPEN
            conversation.resolved_at = None
            conversation.snoozed_until = None
        if contact is not None and conversation.contact_id is None:
            conversation.contact = contact
        conversation.last_message_at = now
        apply_sla(conversation, now)  # SLA (issue 7): next-response (and reopen) due times
        conversation.save()
        partner_ids = [share.organization_id for share in conversation.shares.all()]
    message = Message(
        conversation=conversation,
        inbox=inbox,
        direction=Direction.INBOUND,
        sender_name=sender_name[:255],
        sender_address=sender_address[:255],
        body_text=body_text,
        body_html=body_html,
        external_id=external_id,
        status=MessageStatus.RECEIVED,
        metadata=metadata,
    )
    if defer_writes:
        pending = PendingReceipt(
            message,
            conversation,
            created=created,
            insert_conversation=insert_conversation,
            partner_ids=partner_ids,
        )
        return Received(message, conversation, created=True, pending_write=pending)
    message.save(force_insert=True)
    events = _received_events(conversation, message, created=created, partner_ids=partner_ids)
    if defer_events:
        return Received(message, conversation, created=True, pending_events=events)
    record_events(events)
    return Received(message, conversation, created=True)


def check_can_write(user: User, conversation: Conversation) -> None:
    """Staff may write in any conversation; a partner only in one shared with them."""
    if user.is_internal:
        return
    if (
        user.is_partner
        and conversation.shares.filter(organization_id=user.partner_organization_id).exists()
    ):
        return
    raise PermissionDenied("You cannot write in this conversation.")


@transaction.atomic
def do_reply(conversation: Conversation, body: str, *, by: User) -> Message:
    """An agent's (or partner's) reply, sent on the conversation's own channel."""
    text = check_body(body)
    conversation = _fresh(conversation.pk)
    check_can_write(by, conversation)
    if not outbound.can_send_on(conversation.channel):
        raise ValidationError(
            {"body": f"Replies on {conversation.channel} conversations cannot be sent here."}
        )
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        inbox=conversation.inbox,
        direction=Direction.OUTBOUND,
        author=by,
        sender_name=by.full_name,
        body_text=text,
        status=MessageStatus.QUEUED,
    )
    outbound.queue_outbound(message)
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    sla_on_reply(conversation)  # SLA (issue 7): first response met, next-response clock stops
    conversation.last_message_at = now
    conversation.save()
    _emit_message(message, conversation)
    _emit_conversation("conversation.updated", conversation)
    return message


@transaction.atomic
def do_add_note(
    conversation: Conversation,
    body: str,
    *,
    by: User,
    share_with: list[PartnerOrganization] | None = None,
) -> ConversationNote:
    """An internal note. Staff may share it with partners the conversation is shared
    with; a partner's own note is shared with their organization."""
    text = check_body(body)
    conversation = _fresh(conversation.pk)
    check_can_write(by, conversation)
    shared_org_ids = {share.organization_id for share in conversation.shares.all()}
    organizations = list(share_with or [])
    if by.is_partner:
        organizations = [by.partner_organization]
    for org in organizations:
        if org.pk not in shared_org_ids:
            raise ValidationError({"partners": f"The conversation is not shared with {org}."})
    note = ConversationNote.objects.create(conversation=conversation, author=by, body=text)
    note.shared_with.set(organizations)
    audience = conversation_audience(conversation, include_partners=False)
    audience |= {f"partner.{org.pk}" for org in organizations}
    record_event(
        "note.created",
        {"conversation": conversation.pk, "note": note_data(note)},
        audience,
        conversation_id=conversation.pk,
    )
    return note


def check_assignee(assignee: User | None) -> None:
    if assignee is None:
        return
    if not assignee.is_internal:
        raise ValidationError({"assignee": "Only active staff can be assigned conversations."})


@transaction.atomic
def do_assign(conversation: Conversation, assignee: User | None, *, by: User) -> Conversation:
    if not by.is_internal:
        raise PermissionDenied("Only staff assign conversations.")
    check_assignee(assignee)
    conversation = _fresh(conversation.pk)
    before = conversation_audience(conversation)
    previous = conversation.assignee_id
    previous_assignee = conversation.assignee
    conversation.assignee = assignee
    conversation.save()
    if previous is not None and assignee is not None and previous != assignee.pk:
        drain_after_commit(previous_assignee)  # routing: their capacity freed up
    record_audit(
        by,
        "conversation.assigned",
        conversation,
        {"assignee": [previous, assignee and assignee.pk]},
    )
    _emit_conversation("conversation.updated", conversation, extra=before)
    return conversation


@transaction.atomic
def do_change_status(
    conversation: Conversation,
    status: str,
    *,
    by: User,
    snooze_until: datetime | None = None,
) -> Conversation:
    if not by.is_internal:
        raise PermissionDenied("Only staff change a conversation's status.")
    if status not in ConversationStatus.values:
        raise ValidationError({"status": f"{status!r} is not one of {ConversationStatus.values}"})
    now = timezone.now()
    if status == ConversationStatus.SNOOZED and (snooze_until is None or snooze_until <= now):
        raise ValidationError({"snooze_until": "Snoozing needs a time in the future."})
    conversation = _fresh(conversation.pk)
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snooze_until if status == ConversationStatus.SNOOZED else None
    if status == ConversationStatus.RESOLVED:
        conversation.resolved_at = conversation.resolved_at or now
    else:
        conversation.resolved_at = None
    sla_on_status(conversation, now)  # SLA (issue 7): resolution clock stops or restarts
    conversation.save()
    if status == ConversationStatus.RESOLVED and previous != status:
        drain_after_commit(conversation.assignee)  # routing: their capacity freed up
        send_survey_after_resolution(conversation)  # analytics (issue 11): CSAT/CES/NPS survey
    record_audit(by, "conversation.status", conversation, {"status": [previous, status]})
    _emit_conversation("conversation.updated", conversation)
    return conversation


def do_snooze(conversation: Conversation, until: datetime, *, by: User) -> Conversation:
    return do_change_status(conversation, ConversationStatus.SNOOZED, by=by, snooze_until=until)


def wake_snoozed_conversations(now: datetime | None = None) -> int:
    """Reopen conversations whose snooze has run out; safe to run in many processes."""
    now = now or timezone.now()
    woken = 0
    due = Conversation.objects.filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=now)
    for conversation_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(
                    pk=conversation_id, status=ConversationStatus.SNOOZED, snoozed_until__lte=now
                )
                .first()
            )
            if conversation is None:
                continue
            conversation.status = ConversationStatus.OPEN
            conversation.snoozed_until = None
            conversation.save()
            _emit_conversation("conversation.updated", conversation)
            woken += 1
    return woken


@transaction.atomic
def do_share(
    conversation: Conversation, organization: PartnerOrganization, *, by: User
) -> Conversation:
    if not by.is_internal:
        raise PermissionDenied("Only staff share conversations.")
    if not organization.is_active:
        raise ValidationError({"partner": f"{organization} is not active."})
    conversation = _fresh(conversation.pk)
    _share, created = ConversationShare.objects.get_or_create(
        conversation=conversation, organization=organization, defaults={"shared_by": by}
    )
    if created:
        record_audit(by, "conversation.shared", conversation, {"partner": organization.pk})
        _emit_conversation("conversation.updated", conversation)
    return conversation


@transaction.atomic
def do_unshare(
    conversation: Conversation, organization: PartnerOrganization, *, by: User
) -> Conversation:
    if not by.is_internal:
        raise PermissionDenied("Only staff unshare conversations.")
    conversation = _fresh(conversation.pk)
    deleted, _ = ConversationShare.objects.filter(
        conversation=conversation, organization=organization
    ).delete()
    if deleted:
        record_audit(by, "conversation.unshared", conversation, {"partner": organization.pk})
        _emit_conversation("conversation.updated", conversation)
        # The partner learns only that it is gone, not what became of it.
        record_event(
            "conversation.unshared",
            {"conversation": {"id": conversation.pk}},
            {f"partner.{organization.pk}"},
            conversation_id=conversation.pk,
        )
    return conversation
