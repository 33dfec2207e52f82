"""The caller-ID screen pop: what an agent sees when the phone rings.

A fixed number of small indexed queries whatever the size of the CRM: the contact
with its account, phones, emails and tags, then bounded slices of its open
conversations, latest messages, open deals and open tasks.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet, prefetch_related_objects

from hub.compiled_query import CompiledValues
from hub.models import Contact, Deal, DealStage
from inbox.models import Conversation, ConversationStatus, Message
from telephony.models import Call

OPEN_CONVERSATIONS_SHOWN = 5
INTERACTIONS_SHOWN = 10
DEALS_SHOWN = 5
CONVERSATIONS_SCANNED = 50


def call_data(call: Call) -> dict[str, Any]:
    return {
        "id": call.pk,
        "sid": call.sid,
        "from": (call.customer_e164 if call.direction == "inbound" else "") or call.from_number,
        "to": (call.customer_e164 if call.direction == "outbound" else "") or call.to_number,
        "customer": call.customer_e164 or None,
        "status": call.status,
        "direction": call.direction,
        "outcome": call.outcome,
        "conversation": call.conversation_id,
        "contact": call.contact_id,
        "team": call.team_id,
        "answered_by": call.answered_by_id,
        "duration": call.duration,
        "recording_url": call.recording_url,
        "transcription": call.transcription,
        "created_at": call.created_at.isoformat() if call.created_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
    }


def account_data(contact: Contact) -> dict[str, Any] | None:
    account = contact.account
    if account is None:
        return None
    return {"id": account.pk, "name": account.name, "tier": account.tier}


def candidate_data(contact: Contact) -> dict[str, Any]:
    return {"id": contact.pk, "name": contact.name, "account": account_data(contact)}


def profile_for(contact: Contact) -> dict[str, Any]:
    """The full profile of a known caller. A contact as caller-ID found it (account,
    phones and emails already loaded) is used as it is; only its tags are read."""
    loaded = getattr(contact, "_prefetched_objects_cache", {})
    account_loaded = contact.account_id is None or Contact.account.is_cached(contact)
    if {"phones", "emails"} <= loaded.keys() and account_loaded:
        prefetch_related_objects([contact], "tags")
    else:
        contact = _profile_contact(contact.pk)
    # The contact's latest conversations first (contact index), then messages only of
    # those: ordering all messages by date and filtering by contact would let the
    # planner walk the whole message table for a contact with little history.
    latest = _LATEST_CONVERSATIONS.rows(contact=contact.pk)
    conversations = [row["id"] for row in latest]
    # The open ones among the latest, in the same order; read apart only when the
    # latest cannot hold them all (enough of them open, or more conversations than read).
    open_conversations = [row for row in latest if row["status"] != ConversationStatus.RESOLVED][
        :OPEN_CONVERSATIONS_SHOWN
    ]
    if len(open_conversations) < OPEN_CONVERSATIONS_SHOWN and len(latest) == CONVERSATIONS_SCANNED:
        open_conversations = _OPEN_CONVERSATIONS.rows(contact=contact.pk)
    interactions = (
        Message.objects.filter(conversation_id__in=conversations)
        .order_by("-created_at", "-id")
        .values(
            "id",
            "conversation_id",
            "conversation__channel",
            "direction",
            "body_text",
            "created_at",
        )[:INTERACTIONS_SHOWN]
        if conversations
        else []
    )
    deals = (
        _OPEN_DEALS_WITH_ACCOUNTS.rows(contact=contact.pk, account=contact.account_id)
        if contact.account_id
        else _OPEN_DEALS.rows(contact=contact.pk)
    )
    return {
        "id": contact.pk,
        "name": contact.name,
        "job_title": contact.job_title,
        "account": account_data(contact),
        "phones": [
            {"e164": phone.e164, "raw": phone.raw, "label": phone.label}
            for phone in contact.phones.all()
        ],
        "emails": [{"address": e.address, "label": e.label} for e in contact.emails.all()],
        "tags": sorted(tag.name for tag in contact.tags.all()),
        "open_conversations": [
            {
                "id": row["id"],
                "channel": row["channel"],
                "subject": row["subject"],
                "status": row["status"],
                "last_message_at": _iso(row["last_message_at"]),
            }
            for row in open_conversations
        ],
        "recent_interactions": [
            {
                "message": row["id"],
                "conversation": row["conversation_id"],
                "channel": row["conversation__channel"],
                "direction": row["direction"],
                "excerpt": row["body_text"][:200],
                "at": _iso(row["created_at"]),
            }
            for row in interactions
        ],
        "open_deals": [
            {
                "id": row["id"],
                "title": row["title"],
                "stage": row["stage"],
                "value": str(row["value"]),
                "currency": row["currency"],
            }
            for row in deals
        ],
        # Pinned notes live in kb_documents (not built yet); the key is part of the pop
        # so the console can render it today and the data arrives without a change here.
        "pinned_notes": [],
    }


# The pop's reads run on every call: compiled to SQL once per process (hub.compiled_query).
_CONVERSATION_COLUMNS = ("id", "channel", "subject", "status", "last_message_at")
# Stand-ins for ids (no row has a negative id), one per parameter of a statement.
_STAND_IN_ID, _OTHER_STAND_IN_ID = -904_213, -904_214


def _latest_conversations(contact: int) -> QuerySet[Conversation, dict[str, Any]]:
    return (
        Conversation.objects.filter(contact_id=contact)
        .order_by("-last_message_at", "-id")
        .values(*_CONVERSATION_COLUMNS)[:CONVERSATIONS_SCANNED]
    )


def _open_conversations(contact: int) -> QuerySet[Conversation, dict[str, Any]]:
    return (
        Conversation.objects.filter(contact_id=contact)
        .exclude(status=ConversationStatus.RESOLVED)
        .order_by("-last_message_at", "-id")
        .values(*_CONVERSATION_COLUMNS)[:OPEN_CONVERSATIONS_SHOWN]
    )


def _open_deals(contact: int, account: int | None = None) -> QuerySet[Deal, dict[str, Any]]:
    """The open deals of the contact, and of its account when it has one."""
    deal_filter = Q(contact_id=contact)
    if account is not None:
        deal_filter |= Q(account_id=account)
    return (
        Deal.objects.filter(deal_filter)
        .exclude(stage__in=[DealStage.WON, DealStage.LOST])
        .order_by("-created_at")
        .values("id", "title", "stage", "value", "currency")[:DEALS_SHOWN]
    )


_LATEST_CONVERSATIONS = CompiledValues(Conversation, _latest_conversations, contact=_STAND_IN_ID)
_OPEN_CONVERSATIONS = CompiledValues(Conversation, _open_conversations, contact=_STAND_IN_ID)
_OPEN_DEALS = CompiledValues(Deal, _open_deals, contact=_STAND_IN_ID)
_OPEN_DEALS_WITH_ACCOUNTS = CompiledValues(
    Deal, _open_deals, contact=_STAND_IN_ID, account=_OTHER_STAND_IN_ID
)


def _profile_contact(contact_id: int) -> Contact:
    return (
        Contact.objects.select_related("account")
        .prefetch_related("phones", "emails", "tags")
        .get(pk=contact_id)
    )


def screen_pop_for(call: Call) -> dict[str, Any]:
    """The `call.incoming` data: the call, the caller's profile (or null), and for a
    shared number the contacts it may be."""
    contact = None
    if call.contact_id is not None:
        # A call read from the database has no contact loaded: one read with all the
        # profile needs rather than the bare contact and then that.
        caller = call.contact if Call.contact.is_cached(call) else _profile_contact(call.contact_id)
        contact = profile_for(caller)
    candidates: list[dict[str, Any]] = []
    if call.contact_id is None and call.candidate_ids:
        rows = Contact.objects.filter(pk__in=call.candidate_ids).select_related("account")
        candidates = [candidate_data(c) for c in rows.order_by("name", "id")]
    return {"call": call_data(call), "contact": contact, "candidates": candidates}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None
