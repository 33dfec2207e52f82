"""Domain actions of the CRM core: every write to contacts, accounts, deals and tasks.

check_* functions validate, do_* functions write (and audit) in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from hub import scoring
from hub.models import (
    Account,
    ApiToken,
    AuditLogEntry,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    DealStage,
    DealStageChange,
    Task,
    TaskStatus,
    User,
)
from hub.phones import parse_phone


def audit_entry(
    actor: User | None, action: str, obj: models.Model, changes: dict[str, Any] | None = None
) -> AuditLogEntry:
    """An audit row, not saved yet (several of one write go in with one INSERT)."""
    return AuditLogEntry(
        actor=actor if actor and actor.pk else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
    )


def record_audit(
    actor: User | None, action: str, obj: models.Model, changes: dict[str, Any] | None = None
) -> AuditLogEntry:
    entry = audit_entry(actor, action, obj, changes)
    entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class PhoneInput:
    raw: str
    label: str = "work"


@dataclass(frozen=True)
class EmailInput:
    address: str
    label: str = "work"


def normalize_email(address: str) -> str:
    return address.strip().lower()


def check_phone(raw: str, region: str) -> tuple[str, str]:
    parsed = parse_phone(raw, region)
    if parsed is None:
        raise ValidationError({"phones": f"{raw!r} is not a phone number"})
    return parsed.e164, parsed.extension


@transaction.atomic
def do_add_contact_phone(
    contact: Contact, raw: str, *, label: str = "work", by: User | None = None
) -> ContactPhone:
    e164, extension = check_phone(raw, contact.phone_region)
    if contact.phones.filter(e164=e164).exists():
        raise ValidationError({"phones": f"{raw!r} is already on this contact as {e164}"})
    phone = ContactPhone.objects.create(
        contact=contact, raw=raw.strip(), e164=e164, extension=extension, label=label
    )
    record_audit(by, "phone.added", contact, {"phone": e164})
    return phone


@transaction.atomic
def do_add_contact_email(
    contact: Contact, address: str, *, label: str = "work", by: User | None = None
) -> ContactEmail:
    normalized = normalize_email(address)
    ContactEmail(contact=contact, address=normalized, label=label).full_clean(exclude=["contact"])
    if contact.emails.filter(address=normalized).exists():
        raise ValidationError({"emails": f"{normalized} is already on this contact"})
    email = ContactEmail.objects.create(contact=contact, address=normalized, label=label)
    record_audit(by, "email.added", contact, {"email": normalized})
    return email


def do_create_contact(
    name: str,
    *,
    account: Account | None = None,
    phones: Iterable[PhoneInput] = (),
    emails: Iterable[EmailInput] = (),
    by: User | None = None,
    **fields: Any,
) -> Contact:
    """The contact, its phones and e-mail addresses, and their audit rows.

    Everything but the phones is checked before anything is written, and a new
    contact has no addresses to compare with but those given: without phones there
    is nothing left to fail halfway, so no savepoint is needed inside a caller's
    transaction, and the addresses and the audit rows go in with one INSERT each
    (the mail sync creates a contact for every new sender)."""
    contact, addresses = _checked_contact(name, account, emails, fields)
    phones = list(phones)
    with transaction.atomic(savepoint=bool(phones)):
        contact.save()
        for phone in phones:
            do_add_contact_phone(contact, phone.raw, label=phone.label, by=by)
        _insert_addresses_and_audit([(contact, addresses)], by)
    return contact


def _insert_addresses_and_audit(
    created: list[tuple[Contact, list[ContactEmail]]], by: User | None
) -> None:
    """The addresses of contacts just inserted, and the audit rows of both, with one
    INSERT each; per contact its addresses' rows, then its `contact.created`."""
    for contact, addresses in created:
        for address in addresses:
            address.contact = contact
    ContactEmail.objects.bulk_create([a for _contact, addresses in created for a in addresses])
    AuditLogEntry.objects.bulk_create(
        [
            entry
            for contact, addresses in created
            for entry in (
                *(audit_entry(by, "email.added", contact, {"email": a.address}) for a in addresses),
                audit_entry(by, "contact.created", contact, {"name": contact.name}),
            )
        ]
    )


def _checked_contact(
    name: str, account: Account | None, emails: Iterable[EmailInput], fields: dict[str, Any]
) -> tuple[Contact, list[ContactEmail]]:
    """The unsaved contact and its addresses, checked (ValidationError if not valid)."""
    contact = Contact(name=name.strip(), account=account, **fields)
    contact.full_clean()
    addresses: list[ContactEmail] = []
    for email in emails:
        normalized = normalize_email(email.address)
        address = ContactEmail(contact=contact, address=normalized, label=email.label)
        address.full_clean(exclude=["contact"])
        if any(other.address == normalized for other in addresses):
            raise ValidationError({"emails": f"{normalized} is already on this contact"})
        addresses.append(address)
    return contact, addresses


def do_create_contacts(
    new: list[tuple[str, list[EmailInput]]], *, by: User | None = None
) -> list[Contact | None]:
    """Several contacts without phones (name, addresses), as do_create_contact creates
    each, with one INSERT for all the contacts, one for their addresses and one for
    their audit rows (in the order do_create_contact writes them one by one). A
    contact that does not pass the checks is not created: None in its place. Must be
    called in the caller's transaction (the mail sync creates its batch's new
    senders at once)."""
    checked: list[tuple[Contact, list[ContactEmail]] | None] = []
    for name, emails in new:
        try:
            checked.append(_checked_contact(name, None, emails, {}))
        except ValidationError:
            checked.append(None)
    valid = [pair for pair in checked if pair is not None]
    if valid:
        Contact.objects.bulk_create([contact for contact, _addresses in valid])
        _insert_addresses_and_audit(valid, by)
    return [pair[0] if pair is not None else None for pair in checked]


@transaction.atomic
def do_update_contact(contact: Contact, *, by: User | None = None, **fields: Any) -> Contact:
    changes = {}
    for name, value in fields.items():
        old = getattr(contact, name)
        if old != value:
            changes[name] = [_jsonable(old), _jsonable(value)]
            setattr(contact, name, value)
    if changes:
        contact.full_clean()
        contact.save()
        record_audit(by, "contact.updated", contact, changes)
    return contact


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def contacts_with_phone(e164: str) -> QuerySet[Contact]:
    """Every contact that has this number: a switchboard number can belong to many."""
    return (
        Contact.objects.filter(phones__e164=e164)
        .select_related("account")
        .prefetch_related("phones", "emails")
        .distinct()
        .order_by("name", "id")
    )


def contacts_with_email(address: str) -> QuerySet[Contact]:
    return Contact.objects.filter(emails__address=normalize_email(address)).distinct()


def do_issue_api_token(user: User, *, name: str = "api", by: User | None = None) -> str:
    """A new API key for the user; the key itself is returned once and never stored."""
    with transaction.atomic():
        token, key = ApiToken.issue(user, name=name)
        record_audit(by, "api_token.issued", token, {"user": user.email, "name": name})
    return key


def do_revoke_api_token(token: ApiToken, *, by: User | None = None) -> None:
    with transaction.atomic():
        token.revoke()
        record_audit(by, "api_token.revoked", token, {"user": token.user.email})


@transaction.atomic
def do_save_deal(deal: Deal, *, by: User | None = None) -> Deal:
    """Create or update a deal; closing it (won/lost) stamps the close time once."""
    created = deal.pk is None
    previous_stage = (
        None if created else Deal.objects.values_list("stage", flat=True).get(pk=deal.pk)
    )
    if deal.stage in (DealStage.WON, DealStage.LOST):
        if deal.closed_at is None or previous_stage not in (DealStage.WON, DealStage.LOST):
            deal.closed_at = timezone.now()
    else:
        deal.closed_at = None
    deal.full_clean()
    deal.save()
    changes = {"stage": [previous_stage, deal.stage]} if previous_stage != deal.stage else {}
    if previous_stage != deal.stage:  # analytics: the stage history behind cycle lengths
        DealStageChange.objects.create(
            deal=deal,
            from_stage=previous_stage or "",
            to_stage=deal.stage,
            changed_at=deal.closed_at or timezone.now(),
        )
    entry = record_audit(by, "deal.created" if created else "deal.updated", deal, changes)
    for listener in _deal_listeners:
        listener(deal, entry)
    scoring.on_deal_saved(deal)
    return deal


# Apps above hub that must act on a deal change in the same transaction (outgoing
# webhooks: inbox.webhooks writes its delivery rows here, a transactional outbox).
# A listener gets the saved deal and its audit entry (action, changes, time).
DealListener = Callable[[Deal, AuditLogEntry], None]
_deal_listeners: list[DealListener] = []


def register_deal_listener(listener: DealListener) -> None:
    if listener not in _deal_listeners:
        _deal_listeners.append(listener)


@transaction.atomic
def do_save_task(task: Task, *, by: User | None = None) -> Task:
    created = task.pk is None
    if created and task.created_by_id is None and by is not None:
        task.created_by = by
    if task.status == TaskStatus.DONE and task.completed_at is None:
        task.completed_at = timezone.now()
    elif task.status != TaskStatus.DONE:
        task.completed_at = None
    task.full_clean()
    task.save()
    record_audit(by, "task.created" if created else "task.updated", task, {"status": task.status})
    return task


def _audit_name(obj: models.Model) -> str:
    return obj._meta.model_name or type(obj).__name__.lower()


@transaction.atomic
def do_save_record(
    obj: models.Model, *, by: User | None, changes: dict[str, Any] | None = None
) -> models.Model:
    """Save a configuration record that has no rules beyond its model's own (teams,
    tags, partner organizations, SLA policies …): validated with full_clean (fields,
    unique and check constraints, clean()), then saved and audited in one transaction."""
    created = obj.pk is None
    obj.full_clean()
    obj.save()
    verb = "created" if created else "updated"
    record_audit(
        by,
        f"{_audit_name(obj)}.{verb}",
        obj,
        {name: _jsonable(value) for name, value in (changes or {}).items()},
    )
    return obj


@transaction.atomic
def do_delete_record(obj: models.Model, *, by: User | None) -> None:
    """Delete a configuration record; one that others still point at (PROTECT) is a
    validation error, not a crash."""
    record_audit(by, f"{_audit_name(obj)}.deleted", obj)
    try:
        with transaction.atomic():
            obj.delete()
    except models.ProtectedError as error:
        raise ValidationError(
            f"This {obj._meta.verbose_name} is still in use and cannot be deleted."
        ) from error


def check_user_change(user: User, changes: dict[str, Any], *, by: User) -> None:
    """An administrator cannot take away their own role or access: the last admin
    would lock everyone out of the administration."""
    if user.pk != by.pk:
        return
    if changes.get("role", user.role) != user.role or changes.get("is_active") is False:
        raise ValidationError({"role": "You cannot change your own role or deactivate yourself."})
