"""The mail channel's writes: a fetched mail becomes an inbox message (deduped,
threaded, with its contact and attachments) in the same transaction as the folder
checkpoint that covers it; an agent's reply becomes an outbox row; the SMTP outcome
becomes a delivery status."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hub import config_cache
from hub.actions import EmailInput, contacts_with_email, do_create_contact, do_create_contacts
from hub.models import Contact, ContactEmail
from hub.retry import next_attempt_at
from hub.scoring import PendingInteractions, deal_value_read, open_deal_value_of_account
from inbox.actions import PendingReceipt, receive_message, write_receipts
from inbox.attachments import AttachmentInput, do_add_attachments
from inbox.delivery import mark_message_status
from inbox.events import PendingEvent, record_events
from inbox.models import Channel, Conversation, Direction, Inbox, Message, MessageStatus
from kb_documents.search.indexing import queued_together
from mail import parsing
from mail.models import FolderCheckpoint, Mailbox, MailMessage, OutboxItem, OutboxState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchedMail:
    uid: int
    raw: bytes
    size: int
    oversized: bool = False  # raw then holds the headers only


@dataclass(frozen=True)
class IngestResult:
    uid: int
    outcome: str  # "stored", "duplicate", "flagged", "skipped"
    message: Message | None = None


# ---------------------------------------------------------------- checkpoints


def checkpoint_for(mailbox: Mailbox, folder: str, uidvalidity: int) -> FolderCheckpoint:
    """The folder's checkpoint; a new UIDVALIDITY means the server renumbered the
    folder, so reading starts over (Message-ID dedupe keeps that from duplicating)."""
    with transaction.atomic():
        checkpoint, _ = FolderCheckpoint.objects.select_for_update().get_or_create(
            mailbox=mailbox, folder=folder, defaults={"uidvalidity": uidvalidity}
        )
        if checkpoint.uidvalidity != uidvalidity:
            logger.warning(
                "mailbox %s folder %s: UIDVALIDITY %s -> %s, reading it again",
                mailbox.pk,
                folder,
                checkpoint.uidvalidity,
                uidvalidity,
            )
            checkpoint.uidvalidity = uidvalidity
            checkpoint.last_uid = 0
            checkpoint.save()
    return checkpoint


def _advance(mailbox: Mailbox, folder: str, uidvalidity: int, uid: int) -> bool:
    """Lock the checkpoint and move it past `uid`; False when another worker already
    covered that uid (then this transaction must write nothing)."""
    checkpoint = FolderCheckpoint.objects.select_for_update().get(mailbox=mailbox, folder=folder)
    if checkpoint.uidvalidity != uidvalidity or checkpoint.last_uid >= uid:
        return False
    checkpoint.last_uid = uid
    checkpoint.save(update_fields=["last_uid", "updated_at"])
    return True


# ---------------------------------------------------------------- ingest


@dataclass
class _BatchLookups:
    """What the mails of one batch need to know about stored mail and contacts, read
    with one query each for the whole batch instead of one per mail. Mails and
    contacts the batch stores are added as it goes, so a later mail of the batch
    sees them as it would have in a transaction of its own."""

    # Mail key (Message-ID or hash) -> (order, stored message): existing records in
    # id order, then this batch's, newer than any existing one.
    records: dict[str, tuple[tuple[int, int], Message]] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    # Contact id -> its account's open deal value, read with the contact: the lead
    # score then counts a mail without a locking read (hub.scoring.record_interaction).
    deal_values: dict[int, Decimal] = field(default_factory=dict)

    @classmethod
    def load(cls, mails: list[parsing.ParsedMail]) -> _BatchLookups:
        lookups = cls()
        keys = {mail.key[:255] for mail in mails}
        for mail in mails:
            keys.update(_thread_candidates(mail))
        for record in MailMessage.objects.filter(key__in=keys).select_related(
            "message__conversation__inbox"
        ):
            lookups.records[record.key] = ((0, record.pk), record.message)
        addresses = {mail.from_address for mail in mails if "@" in mail.from_address}
        for email in (
            ContactEmail.objects.filter(address__in=addresses)
            .select_related("contact__account")
            .annotate(open_deal_value=open_deal_value_of_account("contact__account_id"))
            .order_by("contact_id")
        ):
            # The contact of lowest id per address, as contacts_with_email(...).first().
            lookups.contacts.setdefault(email.address, email.contact)
            lookups.deal_values[email.contact_id] = deal_value_read(email.open_deal_value)
        return lookups

    def create_new_senders(self, mails: list[parsing.ParsedMail]) -> None:
        """The contacts _contact_for would create for the batch's mails, one per new
        sender address in mail order (so ids are in the same order), created at once
        (hub.actions.do_create_contacts: three statements for all of them instead of
        three each). Only for mails that will be stored: not a duplicate of a stored
        mail or of an earlier mail of the batch, not a bounce. A sender whose contact
        does not pass the checks is left to _contact_for, which logs it as before."""
        keys: set[str] = set()
        new: dict[str, str] = {}
        for mail in mails:
            key = mail.key[:255]
            if key in self.records or key in keys:
                continue
            keys.add(key)
            sender = _new_contact_sender(mail)
            if sender is None or sender[0] in self.contacts or sender[0] in new:
                continue
            address, name = sender
            new[address] = name
        if not new:
            return
        created = do_create_contacts(
            [(name, [EmailInput(address)]) for address, name in new.items()]
        )
        for address, contact in zip(new, created, strict=True):
            if contact is not None:
                self.add_new_contact(address, contact)

    def add_new_contact(self, address: str, contact: Contact) -> None:
        self.contacts[address] = contact
        # A new contact has no account, hence no deals.
        self.deal_values[contact.pk] = deal_value_read(None)

    def remember(self, key: str, message: Message) -> None:
        self.records[key] = ((1, len(self.records)), message)

    def newest_record(self, keys: list[str]) -> Message | None:
        found = [self.records[key] for key in keys if key in self.records]
        return max(found, key=lambda pair: pair[0])[1] if found else None


@dataclass
class _BatchWrites:
    """What the mails of one batch write at its end rather than one statement per
    mail: their messages and new conversations (one INSERT each, inbox.actions.
    write_receipts), their Message-ID records (one INSERT) and their events (one
    INSERT, which is also when the event-log lock is taken, so it is held from the
    batch's end to its commit). Written earlier, at once, before anything that
    records events or reads those rows itself (attachments, bounces, a flagged mail,
    a reply into a conversation of this batch, auto-assignment's load count), so that
    events stay in order and every read sees what the batch wrote."""

    # Mail order: a message still to insert, or events already decided.
    entries: list[PendingReceipt | list[PendingEvent]] = field(default_factory=list)
    records: list[MailMessage] = field(default_factory=list)
    # The lead score's counts of the batch's known contacts (one UPDATE).
    interactions: PendingInteractions = field(default_factory=PendingInteractions)

    def write_messages(self) -> None:
        """Insert the messages and conversations so far (their events wait)."""
        receipts = [entry for entry in self.entries if isinstance(entry, PendingReceipt)]
        if not receipts:
            return
        # The rows' post_save queues their index jobs: all of the batch's in one INSERT.
        with queued_together():
            receipt_events = iter(write_receipts(receipts))
        self.entries = [
            next(receipt_events) if isinstance(entry, PendingReceipt) else entry
            for entry in self.entries
        ]

    def flush(self) -> None:
        self.write_messages()
        events = [event for entry in self.entries for event in entry]  # type: ignore[union-attr]
        self.entries = []
        self.interactions.write()
        if self.records:
            for record in self.records:
                record.message_id = record.message.pk  # set now that the message has one
            MailMessage.objects.bulk_create(self.records)
            self.records = []
        if events:
            record_events(events)

    def waiting(self, conversation: Conversation | None) -> bool:
        """The conversation is one this batch has not inserted yet."""
        return conversation is not None and conversation.pk is None


def ingest_batch(
    mailbox: Mailbox, folder: str, uidvalidity: int, batch: list[FetchedMail]
) -> list[IngestResult]:
    """Store the mails of one fetch (in uid order) and move the checkpoint past the
    last of them, in one transaction: a crash loses and doubles nothing, and the
    batch costs one commit, one doorbell and one read of what it looks up.

    When the batch fails for any reason, it is stored again one mail per
    transaction (ingest_mail), so that one bad mail is flagged on its own and
    cannot hold back the others.

    The configuration every message reads (routing rules, SLA policies, business
    hours, lead scoring) comes from this process's cache, checked once per batch
    (hub.config_cache)."""
    if len(batch) < 2:
        with config_cache.snapshot():
            return [ingest_mail(mailbox, folder, uidvalidity, fetched) for fetched in batch]
    parsed = [_parse_or_reason(mailbox, fetched) for fetched in batch]
    try:
        with transaction.atomic(), config_cache.snapshot():
            return _store_batch(mailbox, folder, uidvalidity, batch, parsed)
    except Exception:
        logger.warning(
            "mailbox %s uids %s-%s: the batch failed, storing its mails one by one",
            mailbox.pk,
            batch[0].uid,
            batch[-1].uid,
            exc_info=True,
        )
        with config_cache.snapshot():
            return [ingest_mail(mailbox, folder, uidvalidity, fetched) for fetched in batch]


def _parse_or_reason(mailbox: Mailbox, fetched: FetchedMail) -> parsing.ParsedMail | str:
    """The parsed mail, or why it is stored flagged instead (as ingest_mail does)."""
    if fetched.oversized:
        return _oversized_reason(fetched)
    try:
        return parsing.parse(fetched.raw)
    except Exception as exc:
        logger.exception("mailbox %s uid %s: storing it raw", mailbox.pk, fetched.uid)
        return f"could not be parsed: {type(exc).__name__}: {exc}"[:500]


def _store_batch(
    mailbox: Mailbox,
    folder: str,
    uidvalidity: int,
    batch: list[FetchedMail],
    parsed: list[parsing.ParsedMail | str],
) -> list[IngestResult]:
    checkpoint = FolderCheckpoint.objects.select_for_update().get(mailbox=mailbox, folder=folder)
    if checkpoint.uidvalidity != uidvalidity:
        return [IngestResult(fetched.uid, "skipped") for fetched in batch]
    lookups = _BatchLookups.load([mail for mail in parsed if not isinstance(mail, str)])
    # The mails the loop below stores (it skips a uid not past the checkpoint).
    to_store, last_uid = [], checkpoint.last_uid
    for fetched, mail in zip(batch, parsed, strict=True):
        if fetched.uid > last_uid:
            last_uid = fetched.uid
            if not isinstance(mail, str):
                to_store.append(mail)
    lookups.create_new_senders(to_store)
    writes = _BatchWrites()
    first_uid = checkpoint.last_uid
    results = []
    for fetched, mail in zip(batch, parsed, strict=True):
        if fetched.uid <= checkpoint.last_uid:
            # Another worker covered it already (or the server repeated a uid).
            results.append(IngestResult(fetched.uid, "skipped"))
            continue
        checkpoint.last_uid = fetched.uid
        if isinstance(mail, str):
            writes.flush()
            results.append(_store_flagged(mailbox, folder, fetched, mail))
        else:
            results.append(_store(mailbox, folder, fetched, mail, lookups, writes))
    writes.flush()
    if checkpoint.last_uid != first_uid:
        checkpoint.save(update_fields=["last_uid", "updated_at"])
    return results


def ingest_mail(
    mailbox: Mailbox, folder: str, uidvalidity: int, fetched: FetchedMail
) -> IngestResult:
    """Store one fetched mail and advance the checkpoint past it, atomically. A mail
    that cannot be parsed or stored is kept raw and flagged instead: never dropped,
    never blocking the mail after it."""
    try:
        with transaction.atomic():
            if not _advance(mailbox, folder, uidvalidity, fetched.uid):
                return IngestResult(fetched.uid, "skipped")
            if fetched.oversized:
                return _store_flagged(mailbox, folder, fetched, _oversized_reason(fetched))
            mail = parsing.parse(fetched.raw)
            return _store(mailbox, folder, fetched, mail)
    except Exception as exc:
        logger.exception("mailbox %s uid %s: storing it raw", mailbox.pk, fetched.uid)
        with transaction.atomic():
            if not _advance(mailbox, folder, uidvalidity, fetched.uid):
                return IngestResult(fetched.uid, "skipped")
            return _store_flagged(
                mailbox, folder, fetched, f"could not be parsed: {type(exc).__name__}: {exc}"[:500]
            )


def _oversized_reason(fetched: FetchedMail) -> str:
    return (
        f"The message is {fetched.size} bytes, larger than the limit of "
        f"{settings.MAIL_MAX_MESSAGE_BYTES} bytes; only its headers were stored."
    )


def _thread_candidates(mail: parsing.ParsedMail) -> list[str]:
    """The Message-IDs a mail may answer: bounced ids, In-Reply-To, then References
    (newest first)."""
    candidates = list(dict.fromkeys([*mail.in_reply_to, *reversed(mail.references)]))
    if mail.auto == "bounce":
        candidates = mail.bounced_message_ids + candidates
    return candidates


def _find_conversation(
    mail: parsing.ParsedMail, lookups: _BatchLookups | None = None
) -> Conversation | None:
    """In-Reply-To and References first (the newest stored record of them), then the
    [#id] token in the subject. A shared subject alone never joins a conversation."""
    candidates = _thread_candidates(mail)
    if candidates:
        if lookups is not None:
            message = lookups.newest_record(candidates)
            if message is not None:
                return message.conversation
        else:
            record = (
                MailMessage.objects.filter(key__in=candidates)
                .select_related("message__conversation__inbox")
                .order_by("-id")
                .first()
            )
            if record is not None:
                return record.message.conversation
    token = parsing.conversation_token(mail.subject)
    if token is not None:
        conversation = Conversation.objects.filter(pk=token, channel=Channel.EMAIL).first()
        if conversation is not None and _has_written_in(conversation, mail.from_address):
            return conversation
    return None


def _has_written_in(conversation: Conversation, address: str) -> bool:
    """A subject token is only a hint: it threads mail from someone already in the
    conversation, so that nobody can drop mail into another customer's thread by
    guessing `[#id]`."""
    if not address:
        return False
    if conversation.contact_id and conversation.contact.emails.filter(address=address).exists():
        return True
    return (
        Message.objects.filter(conversation=conversation, sender_address=address).exists()
        or OutboxItem.objects.filter(
            message__conversation=conversation, to_address=address
        ).exists()
    )


def _new_contact_sender(mail: parsing.ParsedMail) -> tuple[str, str] | None:
    """The address and name of the contact this mail's sender gets if unknown; None
    when the mail makes no contact (no usable address, a bounce). One rule for
    _contact_for and for the batch's new senders created at once."""
    address = mail.from_address
    if not address or "@" not in address or mail.auto == "bounce":
        return None
    return address, mail.from_name or address.split("@")[0]


def _contact_for(mail: parsing.ParsedMail, lookups: _BatchLookups | None = None) -> Contact | None:
    address = mail.from_address
    if not address or "@" not in address:
        return None
    if lookups is not None:
        known = lookups.contacts.get(address)
    else:
        known = contacts_with_email(address).select_related("account").order_by("id").first()
    sender = _new_contact_sender(mail)
    if known is not None or sender is None:
        return known
    address, name = sender
    try:
        contact = do_create_contact(name, emails=[EmailInput(address)])
    except ValidationError:
        logger.warning("could not create a contact for %r", address)
        return None
    if lookups is not None:
        lookups.add_new_contact(address, contact)
    return contact


def _store(
    mailbox: Mailbox,
    folder: str,
    fetched: FetchedMail,
    mail: parsing.ParsedMail,
    lookups: _BatchLookups | None = None,
    writes: _BatchWrites | None = None,
) -> IngestResult:
    """`lookups` and `writes`: the mail is one of a batch (ingest_batch), stored in
    the batch's transaction; its events and Message-ID record are written with the
    batch's, and a failure fails the whole batch (no savepoint of its own), which is
    then stored again one mail per transaction."""
    key = mail.key[:255]
    if lookups is not None:
        stored = lookups.records.get(key)
        if stored is not None:
            return IngestResult(fetched.uid, "duplicate", stored[1])
    else:
        existing = MailMessage.objects.filter(key=key).select_related("message").first()
        if existing is not None:
            return IngestResult(fetched.uid, "duplicate", existing.message)
    if writes is not None and parsing.conversation_token(mail.subject) is not None:
        # The token's check reads the conversation's stored messages.
        writes.write_messages()
    conversation = _find_conversation(mail, lookups)
    if writes is not None and writes.waiting(conversation):
        # A reply to a mail of this batch: the conversation is locked and updated.
        writes.write_messages()
    inbox: Inbox = conversation.inbox if conversation is not None else mailbox.inbox
    contact = _contact_for(mail, lookups)
    limit = settings.MAIL_MAX_ATTACHMENT_BYTES
    kept = [a for a in mail.attachments if len(a.data) <= limit]
    dropped = [
        {"filename": a.filename, "size": len(a.data), "reason": f"larger than {limit} bytes"}
        for a in mail.attachments
        if len(a.data) > limit
    ]
    metadata = {
        "mail": {
            "message_id": mail.message_id,
            "in_reply_to": mail.in_reply_to,
            "references": mail.references[-20:],
            "from": mail.from_address,
            "reply_to": mail.reply_to,
            "to": mail.to,
            "cc": mail.cc,
            "date": mail.date,
            "mailbox": mailbox.pk,
            "folder": folder,
            "uid": fetched.uid,
        },
    }
    if mail.auto:
        # Recorded, never answered automatically (loop protection).
        metadata["auto"] = mail.auto
    if dropped:
        metadata["attachments_dropped"] = dropped
    if mail.defects:
        metadata["mail"]["defects"] = mail.defects
    received = receive_message(
        inbox,
        body_text=mail.text or ("(no text)" if not mail.html else ""),
        body_html=mail.html,
        external_id=key,
        sender_name=mail.from_name,
        sender_address=mail.from_address,
        contact=contact,
        subject=mail.subject or "(no subject)",
        conversation=conversation,
        metadata=metadata,
        # Looked up in MailMessage under the folder's checkpoint lock: no stored copy.
        redelivery_checked=True,
        defer_events=writes is not None,
        defer_writes=writes is not None,
        interactions=writes.interactions if writes is not None else None,
        savepoint=writes is None,
        contact_deal_value=(
            lookups.deal_values.get(contact.pk)
            if lookups is not None and contact is not None
            else None
        ),
    )
    record = MailMessage(
        key=key,
        message=received.message,
        mailbox=mailbox,
        folder=folder,
        uid=fetched.uid,
        references=" ".join(mail.references[-20:]),
    )
    if writes is not None:
        writes.entries.append(received.pending_write or received.pending_events)
        writes.records.append(record)
        if (received.created and kept) or mail.auto == "bounce":
            # Attachments and bounces record events of their own, after this message's.
            writes.flush()
        elif (
            received.pending_write is not None
            and received.pending_write.insert_conversation
            and received.conversation.assignee_id is not None
        ):
            # The next auto-assignment counts agents' open conversations in the database.
            writes.write_messages()
    else:
        record.save(force_insert=True)
    if lookups is not None:
        lookups.remember(key, received.message)
    if received.created and kept:
        do_add_attachments(
            received.message,
            [AttachmentInput(a.filename, a.content_type, a.data, a.content_id) for a in kept],
        )
    if mail.auto == "bounce":
        _record_bounce(mail)
    return IngestResult(fetched.uid, "stored", received.message)


def _record_bounce(mail: parsing.ParsedMail) -> None:
    if not mail.bounced_message_ids:
        return
    for item in OutboxItem.objects.filter(
        mail_message_id__in=mail.bounced_message_ids
    ).select_related("message"):
        reason = (
            mail.bounce_diagnostic or "The recipient's server returned the mail as undeliverable."
        )
        mark_message_status(item.message, MessageStatus.FAILED, f"Bounced: {reason}")


def _store_flagged(
    mailbox: Mailbox, folder: str, fetched: FetchedMail, reason: str
) -> IngestResult:
    """Keep what the server gave us, as an inbox message flagged with the reason, and
    the raw bytes as an .eml attachment."""
    headers = parsing.header_summary(fetched.raw)
    key = f"raw:{mailbox.pk}:{folder}:{fetched.uid}:{hashlib.sha256(fetched.raw).hexdigest()[:16]}"
    message_id = (parsing.MESSAGE_ID_RE.findall(headers.get("Message-ID", "")) or [""])[0].lower()
    if message_id:
        existing = MailMessage.objects.filter(key=message_id).select_related("message").first()
        if existing is not None:
            return IngestResult(fetched.uid, "duplicate", existing.message)
        key = message_id
    _name, address = parseaddr(headers.get("From", ""))
    received = receive_message(
        mailbox.inbox,
        body_text=parsing.strip_nul(
            f"[{reason}]\n\n{fetched.raw[:4000].decode('utf-8', 'replace')}"
        ),
        external_id=key[:255],
        sender_name=_name[:255],
        sender_address=address.lower()[:255],
        contact=contacts_with_email(address).first() if address else None,
        subject=parsing.strip_nul(headers.get("Subject", "")) or "(unreadable message)",
        metadata={
            "flagged": reason,
            "mail": {
                "message_id": message_id,
                "mailbox": mailbox.pk,
                "folder": folder,
                "uid": fetched.uid,
                "size": fetched.size,
            },
        },
    )
    MailMessage.objects.create(
        key=key[:255], message=received.message, mailbox=mailbox, folder=folder, uid=fetched.uid
    )
    if received.created:
        do_add_attachments(
            received.message,
            [AttachmentInput("original.eml", "message/rfc822", fetched.raw)],
        )
    return IngestResult(fetched.uid, "flagged", received.message)


# ---------------------------------------------------------------- outbound


def mailbox_for_replies(inbox: Inbox) -> Mailbox | None:
    return (
        Mailbox.objects.filter(inbox=inbox, is_active=True)
        .exclude(smtp_host="")
        .order_by("id")
        .first()
    )


def queue_reply(message: Message) -> None:
    """inbox.outbound sender for email: runs inside the reply's transaction and only
    writes the outbox row (and the Message-ID record the answer will thread on)."""
    conversation = message.conversation
    mailbox = mailbox_for_replies(conversation.inbox)
    if mailbox is None:
        raise ValidationError({"body": "This inbox has no mailbox that can send e-mail."})
    last_inbound = (
        (
            Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
            .exclude(metadata__has_key="auto")
            .order_by("-created_at", "-id")
            .first()
        )
        if conversation.pk
        else None
    )
    mail_meta = (last_inbound.metadata or {}).get("mail", {}) if last_inbound else {}
    to_address = mail_meta.get("reply_to") or (last_inbound.sender_address if last_inbound else "")
    if not to_address and conversation.contact_id:
        first = conversation.contact.emails.order_by("id").first()
        to_address = first.address if first else ""
    if not to_address:
        raise ValidationError(
            {"body": "Nobody to reply to: the conversation has no e-mail address."}
        )
    queue_mail(message, mailbox, to_address, mail_meta)


def queue_mail(
    message: Message, mailbox: Mailbox, to_address: str, mail_meta: dict[str, Any]
) -> None:
    """Write the outbox row of an outbound message (threaded on `mail_meta`, the mail
    headers of the message it answers, if any) and its Message-ID record, so that an
    answer to it threads back into the conversation."""
    conversation = message.conversation
    parent = mail_meta.get("message_id", "")
    references = [*mail_meta.get("references", []), parent] if parent else []
    domain = mailbox.from_address.rsplit("@", 1)[-1]
    message_id = make_msgid(domain=domain).lower()
    OutboxItem.objects.create(
        message=message,
        mailbox=mailbox,
        mail_message_id=message_id,
        to_address=to_address,
        subject=parsing.reply_subject(conversation.subject, conversation.pk),
        in_reply_to=parent,
        references=" ".join(references[-20:]),
        next_attempt_at=timezone.now(),
    )
    MailMessage.objects.create(key=message_id, message=message, mailbox=mailbox)


def claim_outbox(worker: str, *, limit: int = 20) -> list[OutboxItem]:
    """Take due rows with a conditional UPDATE: of two workers, only one gets a row."""
    now = timezone.now()
    due = OutboxItem.objects.filter(state=OutboxState.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    claimed = []
    for pk in due.order_by("id").values_list("pk", flat=True)[:limit]:
        won = OutboxItem.objects.filter(pk=pk, state=OutboxState.PENDING).update(
            state=OutboxState.SENDING, claimed_by=worker, claimed_at=now, attempts=F("attempts") + 1
        )
        if won:
            claimed.append(
                OutboxItem.objects.select_related("message__conversation", "mailbox").get(pk=pk)
            )
    return claimed


@transaction.atomic
def mark_sent(item: OutboxItem, response: str) -> None:
    OutboxItem.objects.filter(pk=item.pk).update(
        state=OutboxState.SENT, smtp_response=response[:1000], sent_at=timezone.now(), last_error=""
    )
    mark_message_status(item.message, MessageStatus.SENT)


@transaction.atomic
def mark_retry(item: OutboxItem, error: str) -> None:
    """A temporary failure: try again later, or give up after MAIL_SEND_MAX_ATTEMPTS."""
    if item.attempts >= settings.MAIL_SEND_MAX_ATTEMPTS:
        mark_failed(item, f"gave up after {item.attempts} attempts: {error}")
        return
    OutboxItem.objects.filter(pk=item.pk).update(
        state=OutboxState.PENDING,
        next_attempt_at=next_attempt_at(item.attempts, settings.MAIL_SEND_RETRY_SECONDS),
        last_error=error[:1000],
        claimed_by="",
    )


@transaction.atomic
def mark_failed(item: OutboxItem, error: str) -> None:
    OutboxItem.objects.filter(pk=item.pk).update(state=OutboxState.FAILED, last_error=error[:1000])
    mark_message_status(item.message, MessageStatus.FAILED, error)


def fail_abandoned_sends(*, older_than: timedelta) -> int:
    """Rows left in `sending` by a worker that died mid-send. Whether the SMTP server
    took the mail is unknown; at-most-once means they are not sent again but reported
    to the agent as failed, who can resend knowingly."""
    cutoff = timezone.now() - older_than
    count = 0
    for item in OutboxItem.objects.filter(
        state=OutboxState.SENDING, claimed_at__lt=cutoff
    ).select_related("message"):
        with transaction.atomic():
            won = OutboxItem.objects.filter(pk=item.pk, state=OutboxState.SENDING).update(
                state=OutboxState.FAILED,
                last_error="The worker stopped while sending; the mail may or may not have left.",
            )
            if won:
                mark_message_status(
                    item.message,
                    MessageStatus.FAILED,
                    "Sending was interrupted; check with the customer before sending again.",
                )
                count += 1
    return count


# ---------------------------------------------------------------- mailboxes


@dataclass(frozen=True)
class MailboxInput:
    inbox_key: str
    imap_host: str
    imap_port: int
    imap_user: str
    imap_security: str
    from_address: str
    imap_password: str = ""
    imap_password_env: str = ""
    folders: tuple[str, ...] = ("INBOX",)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_password_env: str = ""
    team_slug: str = ""


@transaction.atomic
def do_add_mailbox(data: MailboxInput) -> tuple[Mailbox, bool]:
    """Create (or update) the mailbox of an email inbox, creating the inbox if missing.
    Idempotent on inbox + IMAP user."""
    from hub.models import Team
    from mail.secrets import encrypt_password

    if not data.imap_password and not data.imap_password_env:
        raise ValidationError({"imap_password": "Give a password or the variable that holds it."})
    inbox = Inbox.objects.filter(key=data.inbox_key).first()
    if inbox is None:
        team_query = Team.objects.filter(slug=data.team_slug or "support")
        team = (
            team_query.first()
            or Team.objects.filter(name__iexact=data.team_slug or "Support").first()
        )
        if team is None:
            raise ValidationError(
                {"team": f"No team {data.team_slug or 'Support'!r} for the new inbox."}
            )
        inbox = Inbox.objects.create(
            key=data.inbox_key,
            name=f"{data.inbox_key} e-mail",
            channel=Channel.EMAIL,
            address=data.from_address.lower(),
            default_team=team,
        )
    elif inbox.channel != Channel.EMAIL:
        raise ValidationError({"inbox": f"Inbox {inbox.key!r} is a {inbox.channel} inbox."})
    mailbox = Mailbox.objects.filter(inbox=inbox, imap_user=data.imap_user).first()
    created = mailbox is None
    mailbox = mailbox or Mailbox(inbox=inbox, imap_user=data.imap_user)
    mailbox.imap_host = data.imap_host
    mailbox.imap_port = data.imap_port
    mailbox.imap_security = data.imap_security
    mailbox.imap_password_env = data.imap_password_env
    mailbox.imap_password_encrypted = (
        encrypt_password(data.imap_password) if not data.imap_password_env else ""
    )
    mailbox.folders = "\n".join(data.folders) or "INBOX"
    mailbox.smtp_host = data.smtp_host
    mailbox.smtp_port = data.smtp_port
    mailbox.smtp_security = data.smtp_security
    mailbox.smtp_user = data.smtp_user
    mailbox.smtp_password_env = data.smtp_password_env
    mailbox.smtp_password_encrypted = (
        encrypt_password(data.smtp_password) if not data.smtp_password_env else ""
    )
    mailbox.from_address = data.from_address.lower()
    mailbox.full_clean(exclude=["inbox"])
    mailbox.save()
    return mailbox, created
