"""Replies to leads from the website form (channel `form`) go out by e-mail.

A form inbox has no mailbox of its own: its `address` names the from-address of the
mailbox that sends for it, and without one the first mailbox that can send of an
e-mail inbox of the form's team is used. The reply is queued in the mail outbox like
any e-mail reply (mail.actions.queue_mail), inside the reply's transaction, and its
Message-ID is recorded, so the lead's answer by e-mail threads back into the form
conversation (mail.actions._find_conversation follows In-Reply-To/References)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from inbox.models import Channel, Direction, Inbox, Message
from mail.actions import mailbox_for_replies, queue_mail
from mail.models import Mailbox


def mailbox_for_form(inbox: Inbox) -> Mailbox | None:
    sending = Mailbox.objects.filter(is_active=True, inbox__is_active=True).exclude(smtp_host="")
    if inbox.address:
        return sending.filter(from_address__iexact=inbox.address).order_by("id").first()
    for email_inbox in Inbox.objects.filter(
        channel=Channel.EMAIL, default_team_id=inbox.default_team_id, is_active=True
    ).order_by("id"):
        mailbox = mailbox_for_replies(email_inbox)
        if mailbox is not None:
            return mailbox
    return None


def lead_address(message: Message) -> tuple[str, dict]:
    """Where the reply goes, and the mail headers it answers: the lead's own e-mail
    answer when there is one (its Reply-To first), else the address typed into the
    form, else the contact's first e-mail address."""
    conversation = message.conversation
    inbound = Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
    for earlier in inbound.exclude(metadata__has_key="auto").order_by("-created_at", "-id"):
        metadata = earlier.metadata or {}
        if "mail" in metadata:
            mail_meta = metadata["mail"]
            return mail_meta.get("reply_to") or earlier.sender_address, mail_meta
        if metadata.get("form", {}).get("email"):
            return metadata["form"]["email"], {}
    if conversation.contact_id:
        first = conversation.contact.emails.order_by("id").first()
        if first is not None:
            return first.address, {}
    return "", {}


def queue_form_reply(message: Message) -> None:
    """inbox.outbound sender for the `form` channel."""
    mailbox = mailbox_for_form(message.conversation.inbox)
    if mailbox is None:
        raise ValidationError(
            {"body": "No mailbox can send e-mail for this form: give the form inbox the "
             "address of a mailbox that sends."}
        )  # fmt: skip
    to_address, mail_meta = lead_address(message)
    try:
        validate_email(to_address)
    except ValidationError as error:
        raise ValidationError(
            {"body": "The lead left no e-mail address: answer them by phone."}
        ) from error
    queue_mail(message, mailbox, to_address, mail_meta)
