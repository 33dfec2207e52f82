"""SMS: inbound into the unified inbox, replies out through a durable outbox with
retries, delivery reports onto the message."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inbox import actions as inbox_actions
from inbox.delivery import do_update_message
from inbox.models import Conversation, Inbox, Message, MessageStatus
from telephony.actions.calls import caller_label
from telephony.caller_id import identify_caller
from telephony.models import (
    SmsOutbox,
    SmsOutboxStatus,
)
from telephony.providers import ProviderError
from telephony.providers import twilio as twilio_provider

logger = logging.getLogger(__name__)

SMS_STATUS_PATH = "/telephony/twilio/sms/status/"
SMS_MAX_ATTEMPTS = 8
SMS_CLAIM_SECONDS = 60


# ---------------------------------------------------------------- SMS


def sms_thread_key(e164: str) -> str:
    return f"sms:{e164}"


@transaction.atomic
def do_receive_sms(
    inbox: Inbox,
    *,
    sid: str,
    from_number: str,
    body: str,
    media_urls: list[str] | None = None,
) -> inbox_actions.Received:
    """An inbound SMS: one conversation per sender number and inbox."""
    if not sid:
        raise ValidationError({"MessageSid": "An SMS needs its id."})
    match = identify_caller(from_number)
    if match.e164 is None:
        raise ValidationError({"From": "The sender's number is not a phone number."})
    text = body or ""
    if media_urls:
        text = "\n".join([text, *media_urls]).strip()
    return inbox_actions.receive_message(
        inbox,
        body_text=text or "(empty message)",
        external_id=sid,
        sender_name=caller_label(match, from_number),
        sender_address=match.e164,
        contact=match.contact,
        subject=f"SMS from {caller_label(match, from_number)}",
        thread_key=sms_thread_key(match.e164),
        metadata={"media": media_urls or []},
    )


# Twilio's message statuses, by how far along they are: a late "sent" must not
# overwrite "delivered" (callbacks are not ordered).
_SMS_STATUS = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
}
_RANK = {MessageStatus.QUEUED: 0, MessageStatus.SENT: 1}


@transaction.atomic
def do_update_sms_status(
    inbox: Inbox, *, sid: str, status: str, error_code: str = ""
) -> Message | None:
    new = _SMS_STATUS.get(status)
    message = (
        Message.objects.filter(inbox=inbox, external_id=sid).exclude(external_id="").first()
        if sid
        else None
    )
    if message is None or new is None:
        return message
    if message.status in (MessageStatus.DELIVERED, MessageStatus.FAILED):
        return message
    if _RANK.get(new, 2) < _RANK.get(message.status, 0):
        return message
    error = f"Twilio error {error_code}" if new == MessageStatus.FAILED and error_code else None
    return do_update_message(message, status=new, error=error)


def queue_sms(message: Message) -> None:
    """The inbox's sender for SMS replies: runs inside the reply's transaction and only
    writes the outbox row; delivery starts once the reply has committed."""
    outbox = SmsOutbox.objects.create(message=message, next_attempt_at=timezone.now())
    transaction.on_commit(lambda: deliver_sms_quietly(outbox.pk))


def deliver_sms_quietly(outbox_id: int) -> None:
    # Runs after the reply committed: a failure here must not fail the reply; the
    # outbox worker retries whatever is still pending.
    try:
        deliver_sms(outbox_id)
    except Exception:
        logger.exception("SMS outbox %s: delivery attempt crashed", outbox_id)


def _claim(outbox_id: int) -> bool:
    now = timezone.now()
    claimed = (
        SmsOutbox.objects.filter(
            pk=outbox_id, status=SmsOutboxStatus.PENDING, next_attempt_at__lte=now
        )
        .exclude(claimed_until__gt=now)
        .update(claimed_until=now + timedelta(seconds=SMS_CLAIM_SECONDS))
    )
    return claimed == 1


def deliver_sms(outbox_id: int) -> str:
    """Send one queued SMS if nobody else is; returns the outbox status afterwards."""
    if not _claim(outbox_id):
        return "skipped"
    outbox = SmsOutbox.objects.select_related(
        "message", "message__conversation", "message__inbox"
    ).get(pk=outbox_id)
    message = outbox.message
    conversation = message.conversation
    to_number = _sms_recipient(conversation)
    try:
        if not to_number:
            raise ProviderError("The conversation has no phone number to reply to.", permanent=True)
        sent = twilio_provider.send_sms(
            from_number=message.inbox.address,
            to_number=to_number,
            body=message.body_text,
            status_callback=twilio_provider.public_url(SMS_STATUS_PATH),
        )
    except ProviderError as exc:
        return _record_sms_failure(outbox, str(exc), permanent=exc.permanent)
    with transaction.atomic():
        SmsOutbox.objects.filter(pk=outbox.pk).update(
            status=SmsOutboxStatus.SENT,
            sent_at=timezone.now(),
            attempts=outbox.attempts + 1,
            claimed_until=None,
            last_error="",
        )
        do_update_message(message, status=MessageStatus.SENT, external_id=sent.sid, error="")
    return SmsOutboxStatus.SENT


def _sms_recipient(conversation: Conversation) -> str:
    if conversation.thread_key.startswith("sms:"):
        return conversation.thread_key.removeprefix("sms:")
    if conversation.contact_id:
        phone = conversation.contact.phones.first()
        return phone.e164 if phone else ""
    return ""


def _record_sms_failure(outbox: SmsOutbox, error: str, *, permanent: bool) -> str:
    attempts = outbox.attempts + 1
    gives_up = permanent or attempts >= SMS_MAX_ATTEMPTS
    with transaction.atomic():
        if gives_up:
            SmsOutbox.objects.filter(pk=outbox.pk).update(
                status=SmsOutboxStatus.FAILED,
                attempts=attempts,
                claimed_until=None,
                last_error=error,
            )
            do_update_message(outbox.message, status=MessageStatus.FAILED, error=error)
            return SmsOutboxStatus.FAILED
        backoff = timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
        SmsOutbox.objects.filter(pk=outbox.pk).update(
            attempts=attempts,
            claimed_until=None,
            last_error=error,
            next_attempt_at=timezone.now() + backoff,
        )
    logger.warning("SMS outbox %s: attempt %s failed, will retry: %s", outbox.pk, attempts, error)
    return SmsOutboxStatus.PENDING


def deliver_due_sms(limit: int = 100) -> int:
    """One pass of the outbox worker: every pending SMS whose time has come."""
    now = timezone.now()
    due = (
        SmsOutbox.objects.filter(status=SmsOutboxStatus.PENDING, next_attempt_at__lte=now)
        .exclude(claimed_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for outbox_id in list(due):
        if deliver_sms(outbox_id) != "skipped":
            done += 1
    return done
