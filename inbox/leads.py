"""Lead capture: the company website's contact form as an inbound channel (issue 11).

An inbox with channel `form` is one website form. Its page fetches a form token
(`GET /leads/<key>/token/`), a signed timestamp, and posts the visitor's name, e-mail,
phone and message with it to `POST /leads/<key>/`. The view is a thin adapter; this
module validates and then calls `receive_message`, so a lead enters routing like any
inbound interaction.

Spam protection, cheapest check first:
- honeypot: a field named `website` that the form hides from people; bots fill it.
  A filled honeypot is answered like a success (202) and nothing is written, so a
  bot learns nothing;
- minimum fill time: the token must be at least LEAD_MIN_FILL_SECONDS old (a person
  takes longer than a script) and at most LEAD_TOKEN_MAX_AGE_SECONDS; a token for
  another inbox, forged or expired → 400;
- per-IP rate limit: at most LEAD_RATE_LIMIT posts per IP per LEAD_RATE_WINDOW_SECONDS,
  counted in Django's cache (per process with the default local-memory cache; a
  shared cache makes it per deployment) → 429.

Idempotency: the message's external id is the client's `submission_id` when given,
else a hash of the form token and the submitted fields, so a double-click or a
browser retry of one submission makes one message.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from hub.actions import check_phone, do_add_contact_email, normalize_email, record_audit
from hub.imports import find_contact
from hub.models import Contact, ContactEmail, ContactPhone
from inbox.actions import MAX_BODY_LENGTH, Received, receive_message
from inbox.models import Channel, Inbox

TOKEN_SALT = "inbox.leads.form-token"  # noqa: S105 - a signing namespace, not a secret
HONEYPOT_FIELD = "website"


@dataclass(frozen=True)
class Lead:
    name: str
    email: str
    phone: str  # E.164, or ""
    phone_raw: str
    message: str
    submission_id: str


class SpamSuspected(Exception):
    """The honeypot was filled: answer like a success, write nothing."""


class RateLimited(Exception):
    pass


def form_inbox(key: str) -> Inbox | None:
    return Inbox.objects.filter(key=key, channel=Channel.FORM, is_active=True).first()


def issue_form_token(inbox: Inbox, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return signing.dumps({"inbox": inbox.key, "t": issued}, salt=TOKEN_SALT)


def check_form_token(inbox: Inbox, token: str, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT)
    except signing.BadSignature as exc:
        raise ValidationError({"form_token": "The form token is missing or not valid."}) from exc
    if not isinstance(data, dict) or data.get("inbox") != inbox.key:
        raise ValidationError({"form_token": "The form token belongs to another form."})
    age = now - int(data.get("t", 0))
    if age < settings.LEAD_MIN_FILL_SECONDS:
        raise ValidationError({"form_token": "The form was sent too quickly; please try again."})
    if age > settings.LEAD_TOKEN_MAX_AGE_SECONDS:
        raise ValidationError({"form_token": "The form has expired; reload the page."})


def check_rate_limit(ip: str) -> None:
    key = f"leads:rate:{ip}"
    window = settings.LEAD_RATE_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    if count > settings.LEAD_RATE_LIMIT:
        raise RateLimited


def check_lead(inbox: Inbox, data: Any, *, now: float | None = None) -> Lead:
    """Validate a form post (a QueryDict or a dict); raise ValidationError (field → reason)."""
    if not hasattr(data, "get"):
        raise ValidationError({"form": "Expected form fields or a JSON object."})
    if str(data.get(HONEYPOT_FIELD) or "").strip():
        raise SpamSuspected
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()[:200]
    email = normalize_email(str(data.get("email") or ""))
    phone_raw = str(data.get("phone") or "").strip()[:64]
    message = str(data.get("message") or "").strip()
    submission_id = str(data.get("submission_id") or "").strip()
    if not name:
        errors["name"] = "Please give your name."
    if email:
        try:
            ContactEmail(address=email).clean_fields(exclude=["contact", "label"])
        except ValidationError:
            errors["email"] = "This is not an e-mail address."
    phone = ""
    if phone_raw:
        try:
            phone, _ = check_phone(phone_raw, settings.DEFAULT_PHONE_REGION)
        except ValidationError:
            errors["phone"] = "This is not a phone number."
    if not email and not phone_raw:
        errors["email"] = "Please give an e-mail address or a phone number."
    if not message:
        errors["message"] = "Please write a message."
    elif len(message) > MAX_BODY_LENGTH:
        errors["message"] = f"The message is longer than {MAX_BODY_LENGTH} characters."
    if len(submission_id) > 100:
        errors["submission_id"] = "At most 100 characters."
    try:
        check_form_token(inbox, str(data.get("form_token") or ""), now=now)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    if not submission_id:
        digest = hashlib.sha256(
            "\x1f".join([str(data.get("form_token")), name, email, phone, message]).encode()
        ).hexdigest()
        submission_id = digest[:40]
    return Lead(name, email, phone, phone_raw, message, submission_id)


def _contact_for(lead: Lead) -> Contact:
    """The contact the lead is: found by e-mail or phone (and completed), else created."""
    contact = find_contact([lead.email] if lead.email else [], [lead.phone] if lead.phone else [])
    if contact is None:
        contact = Contact.objects.create(name=lead.name)
        record_audit(None, "contact.created", contact, {"name": lead.name, "source": "lead form"})
    if lead.email and not contact.emails.filter(address=lead.email).exists():
        do_add_contact_email(contact, lead.email)
    if lead.phone and not contact.phones.filter(e164=lead.phone).exists():
        ContactPhone.objects.create(contact=contact, raw=lead.phone_raw, e164=lead.phone)
        record_audit(None, "phone.added", contact, {"phone": lead.phone, "source": "lead form"})
    return contact


def external_id_for(lead: Lead) -> str:
    return f"form:{lead.submission_id}"


@transaction.atomic
def do_capture_lead(inbox: Inbox, lead: Lead) -> Received:
    """Create or update the contact and receive the message; a repeat is a no-op."""
    external_id = external_id_for(lead)
    existing = inbox.messages.filter(external_id=external_id).select_related("conversation")
    first = existing.first()
    if first is not None:
        return Received(first, first.conversation, created=False)
    contact = _contact_for(lead)
    return receive_message(
        inbox,
        body_text=lead.message,
        external_id=external_id,
        sender_name=lead.name,
        sender_address=lead.email or lead.phone,
        contact=contact,
        subject=f"Website form: {lead.name}"[:255],
        metadata={"form": {"name": lead.name, "email": lead.email, "phone": lead.phone}},
    )
