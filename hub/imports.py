"""CSV import and export of contacts and accounts (issue 11).

Files exported by another CRM have their own headers: a mapping says which column
feeds which field, and common header names are recognised without one. Every row is
applied inside its own savepoint in one outer transaction, so:

- a bad row (no name, an e-mail or phone that does not parse, …) gets one error with
  its row number (the header is row 1, as a spreadsheet shows it);
- `atomic=True` rolls the whole file back when any row is bad: nothing half-imported;
  `atomic=False` keeps the good rows;
- `dry_run=True` runs exactly the same code and rolls back at the end, so the preview
  (created / updated / unchanged / error per row) is what a real run would do,
  including duplicates inside the file itself.

Dedupe: a contact is the same person when it shares a normalized e-mail address or an
E.164 phone number (hub.phones) with an existing contact; an account when it shares
its name (case-insensitive) or its web domain. Values only add or overwrite with a
non-empty cell: an import never blanks a field and never removes a phone or e-mail,
so exporting and importing the file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hub.actions import (
    check_phone,
    do_add_contact_email,
    normalize_email,
    record_audit,
)
from hub.models import Account, Contact, ContactEmail, ContactPhone, User
from hub.models.crm import AccountTier

KINDS = ("contacts", "accounts")
MULTI_VALUE_SEPARATOR = ";"
MAX_ROWS = 100_000

# Field → header names (lower-cased, without spaces, dashes and underscores) that
# other CRMs use for it. The first matching header wins.
CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "contactname", "contact", "displayname"),
    "first_name": ("firstname", "givenname", "first", "forename"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "email": ("email", "emails", "emailaddress", "mail", "email1", "primaryemail", "workemail"),
    "phone": (
        "phone",
        "phones",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "cell",
        "workphone",
        "phone1",
        "businessphone",
    ),
    "account": ("account", "accountname", "company", "companyname", "organization", "org"),
    "job_title": ("jobtitle", "title", "position", "role"),
    "country": ("country", "countrycode"),
    "language": ("language", "lang", "locale"),
}
ACCOUNT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "accountname", "company", "companyname", "organization", "account"),
    "domain": ("domain", "webdomain", "website", "web", "url"),
    "industry": ("industry", "sector"),
    "country": ("country", "countrycode"),
    "language": ("language", "lang"),
    "tier": ("tier", "segment"),
    "employees": ("employees", "employeecount", "numberofemployees", "size"),
}
HEADERS = {"contacts": CONTACT_HEADERS, "accounts": ACCOUNT_HEADERS}
EXPORT_COLUMNS = {
    "contacts": ["name", "email", "phone", "account", "job_title", "country", "language"],
    "accounts": ["name", "domain", "industry", "country", "language", "tier", "employees"],
}


class CsvImportError(ValueError):
    """The file as a whole cannot be read (not CSV, no header, unknown mapping)."""


@dataclass
class RowOutcome:
    row: int
    action: str  # created | updated | unchanged | error
    reason: str = ""
    object_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "action": self.action,
            "reason": self.reason,
            "id": self.object_id,
        }


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    atomic: bool
    mapping: dict[str, str]
    rows: list[RowOutcome] = field(default_factory=list)
    committed: bool = False

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def errors(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.action == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "atomic": self.atomic,
            "committed": self.committed,
            "mapping": self.mapping,
            "created": self.count("created"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "errors": [row.as_dict() for row in self.errors],
            "rows": [row.as_dict() for row in self.rows],
        }


def _header_key(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


def detect_mapping(kind: str, headers: Iterable[str]) -> dict[str, str]:
    """field → column header, from the common header names other CRMs write."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_header_key(header), header)
    mapping: dict[str, str] = {}
    for name, aliases in HEADERS[kind].items():
        for alias in aliases:
            if alias in by_key and by_key[alias] not in mapping.values():
                mapping[name] = by_key[alias]
                break
    return mapping


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str] | None) -> dict[str, str]:
    """The effective mapping: the detected one, overridden by the caller's field → header."""
    if kind not in KINDS:
        raise CsvImportError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    result = detect_mapping(kind, headers)
    for name, header in (mapping or {}).items():
        if name not in HEADERS[kind]:
            raise CsvImportError(f"unknown field {name!r}; fields: {', '.join(HEADERS[kind])}")
        if header and header not in headers:
            raise CsvImportError(f"column {header!r} is not in the file")
        if header:
            result[name] = header
        else:
            result.pop(name, None)
    has_name = "name" in result or (kind == "contacts" and "first_name" in result)
    if not has_name:
        raise CsvImportError("no column for the name; map one with name=<column>")
    return result


def read_csv(source: TextIO | str | bytes) -> tuple[list[str], Iterator[dict[str, str]]]:
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvImportError("the file is not UTF-8 text") from exc
    if isinstance(source, str):
        source = io.StringIO(source.lstrip("\ufeff"))
    sample = source.read(64 * 1024)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    source.seek(0)
    reader = csv.DictReader(source, dialect=dialect)
    headers = [h.strip() for h in (reader.fieldnames or []) if h is not None]
    if not headers:
        raise CsvImportError("the file has no header row")
    reader.fieldnames = headers
    return headers, reader


def _cell(record: dict[str, Any], mapping: dict[str, str], name: str) -> str:
    header = mapping.get(name)
    value = record.get(header) if header else None
    return (value or "").strip() if isinstance(value, str) else ""


def _split(value: str) -> list[str]:
    return [
        part.strip()
        for part in value.replace(",", MULTI_VALUE_SEPARATOR).split(";")
        if part.strip()
    ]


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return "; ".join(exc.messages)


# -- contacts ---------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInput:
    name: str
    emails: list[str]
    phones: list[tuple[str, str]]  # (raw, e164)
    account: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def check_contact_row(record: dict[str, Any], mapping: dict[str, str], region: str) -> ContactInput:
    name = _cell(record, mapping, "name")
    if not name:
        name = " ".join(
            part
            for part in (_cell(record, mapping, "first_name"), _cell(record, mapping, "last_name"))
            if part
        )
    if not name:
        raise ValidationError("the name is empty")
    fields = {
        key: _cell(record, mapping, key)
        for key in ("job_title", "country", "language")
        if _cell(record, mapping, key)
    }
    if "country" in fields:
        fields["country"] = fields["country"].upper()
        if len(fields["country"]) != 2 or not fields["country"].isalpha():
            raise ValidationError(f"country {fields['country']!r} is not a two-letter ISO code")
    emails = []
    for address in _split(_cell(record, mapping, "email")):
        normalized = normalize_email(address)
        try:
            ContactEmail(address=normalized).clean_fields(exclude=["contact", "label"])
        except ValidationError as exc:
            raise ValidationError(f"e-mail {address!r} is not valid") from exc
        emails.append(normalized)
    phones = []
    phone_region = fields.get("country") or region
    for raw in _split(_cell(record, mapping, "phone")):
        try:
            e164, _ = check_phone(raw, phone_region)
        except ValidationError as exc:
            raise ValidationError(f"phone {raw!r} is not a phone number") from exc
        phones.append((raw, e164))
    return ContactInput(
        name=name[:200],
        emails=list(dict.fromkeys(emails)),
        phones=list(dict.fromkeys(phones)),
        account=_cell(record, mapping, "account")[:200],
        fields=fields,
    )


def find_contact(emails: Iterable[str], e164s: Iterable[str]) -> Contact | None:
    """The existing contact with one of these e-mails, else one of these numbers."""
    emails, e164s = list(emails), list(e164s)
    if emails:
        contact = Contact.objects.filter(emails__address__in=emails).order_by("id").first()
        if contact is not None:
            return contact
    if e164s:
        return Contact.objects.filter(phones__e164__in=e164s).order_by("id").first()
    return None


def find_or_create_account(name: str, *, by: User | None) -> Account:
    account = Account.objects.filter(name__iexact=name).order_by("id").first()
    if account is None:
        account = Account(name=name)
        account.full_clean()
        account.save()
        record_audit(by, "account.created", account, {"name": name, "source": "import"})
    return account


def apply_contact(data: ContactInput, *, by: User | None) -> tuple[str, Contact]:
    """Create the contact or merge the row into the existing one; (action, contact)."""
    contact = find_contact(data.emails, [e164 for _, e164 in data.phones])
    account = find_or_create_account(data.account, by=by) if data.account else None
    if contact is None:
        contact = Contact(name=data.name, account=account, **data.fields)
        contact.full_clean()
        contact.save()
        record_audit(by, "contact.created", contact, {"name": contact.name, "source": "import"})
        action = "created"
    else:
        changes: dict[str, list[Any]] = {}
        wanted = {"name": data.name, **data.fields}
        if account is not None:
            wanted["account"] = account
        for name, value in wanted.items():
            old = getattr(contact, name)
            if old != value:
                changes[name] = [getattr(old, "pk", old), getattr(value, "pk", value)]
                setattr(contact, name, value)
        if changes:
            contact.full_clean()
            contact.save()
            record_audit(by, "contact.updated", contact, {**changes, "source": "import"})
        action = "updated" if changes else "unchanged"
    known_emails = set(contact.emails.values_list("address", flat=True))
    known_phones = set(contact.phones.values_list("e164", flat=True))
    for address in data.emails:
        if address not in known_emails:
            do_add_contact_email(contact, address, by=by)
            action = "updated" if action == "unchanged" else action
    for raw, e164 in data.phones:
        if e164 not in known_phones:
            # Stored under the number as normalized with the row's region.
            ContactPhone.objects.create(contact=contact, raw=raw, e164=e164)
            record_audit(by, "phone.added", contact, {"phone": e164})
            known_phones.add(e164)
            action = "updated" if action == "unchanged" else action
    return action, contact


# -- accounts ---------------------------------------------------------------------


def _normalize_domain(value: str) -> str:
    value = value.strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    return value.removeprefix("www.").split("/")[0]


def check_account_row(record: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    name = _cell(record, mapping, "name")
    if not name:
        raise ValidationError("the name is empty")
    data: dict[str, Any] = {"name": name[:200]}
    for key in ("industry", "language"):
        if _cell(record, mapping, key):
            data[key] = _cell(record, mapping, key)
    if _cell(record, mapping, "domain"):
        data["domain"] = _normalize_domain(_cell(record, mapping, "domain"))
    country = _cell(record, mapping, "country").upper()
    if country:
        if len(country) != 2 or not country.isalpha():
            raise ValidationError(f"country {country!r} is not a two-letter ISO code")
        data["country"] = country
    tier = _cell(record, mapping, "tier").lower()
    if tier:
        if tier not in AccountTier.values:
            raise ValidationError(f"tier {tier!r} is not one of {', '.join(AccountTier.values)}")
        data["tier"] = tier
    employees = _cell(record, mapping, "employees").replace(" ", "")
    if employees:
        if not employees.isdigit():
            raise ValidationError(f"employees {employees!r} is not a whole number")
        data["employees"] = int(employees)
    return data


def apply_account(data: dict[str, Any], *, by: User | None) -> tuple[str, Account]:
    account = Account.objects.filter(name__iexact=data["name"]).order_by("id").first()
    if account is None and data.get("domain"):
        account = Account.objects.filter(domain__iexact=data["domain"]).order_by("id").first()
    if account is None:
        account = Account(**data)
        account.full_clean()
        account.save()
        record_audit(by, "account.created", account, {"name": account.name, "source": "import"})
        return "created", account
    changes = {}
    for name, value in data.items():
        if getattr(account, name) != value:
            changes[name] = [getattr(account, name), value]
            setattr(account, name, value)
    if not changes:
        return "unchanged", account
    account.full_clean()
    account.save()
    record_audit(by, "account.updated", account, {**changes, "source": "import"})
    return "updated", account


# -- the import -------------------------------------------------------------------


class _DryRun(Exception):
    pass


def run_import(
    kind: str,
    source: TextIO | str | bytes,
    *,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    atomic: bool = True,
    by: User | None = None,
    region: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV file of contacts or accounts; see the module docstring."""
    headers, records = read_csv(source)
    effective = check_mapping(kind, headers, mapping)
    report = ImportReport(kind=kind, dry_run=dry_run, atomic=atomic, mapping=effective)
    region = region or settings.DEFAULT_PHONE_REGION
    try:
        with transaction.atomic():
            for index, record in enumerate(records, start=2):
                if index - 1 > MAX_ROWS:
                    raise CsvImportError(f"the file has more than {MAX_ROWS} rows")
                report.rows.append(_import_row(kind, index, record, effective, region, by))
                if progress is not None:
                    progress(index - 1)
            if dry_run or (atomic and report.errors):
                raise _DryRun
            report.committed = True
    except _DryRun:
        pass
    return report


def _import_row(
    kind: str,
    row: int,
    record: dict[str, Any],
    mapping: dict[str, str],
    region: str,
    by: User | None,
) -> RowOutcome:
    if None in record:  # DictReader puts cells beyond the header under None
        return RowOutcome(row, "error", "the row has more cells than the header")
    try:
        with transaction.atomic():
            if kind == "contacts":
                action, obj = apply_contact(check_contact_row(record, mapping, region), by=by)
            else:
                action, obj = apply_account(check_account_row(record, mapping), by=by)
    except ValidationError as exc:
        return RowOutcome(row, "error", _messages(exc))
    except IntegrityError as exc:
        # A concurrent write took the same e-mail/number; the savepoint is rolled back.
        return RowOutcome(row, "error", f"conflicting write: {exc}"[:300])
    return RowOutcome(row, action, object_id=obj.pk)


# -- the export -------------------------------------------------------------------


def export_csv(kind: str, out: TextIO, queryset: Any = None) -> int:
    """Write contacts or accounts as CSV in the columns the import auto-detects."""
    if kind not in KINDS:
        raise CsvImportError(f"unknown kind {kind!r}")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS[kind])
    count = 0
    if kind == "contacts":
        rows = (
            (queryset if queryset is not None else Contact.objects.all())
            .select_related("account")
            .prefetch_related("phones", "emails")
            .order_by("id")
        )
        for contact in rows.iterator(chunk_size=500):
            writer.writerow(
                [
                    contact.name,
                    MULTI_VALUE_SEPARATOR.join(e.address for e in contact.emails.all()),
                    MULTI_VALUE_SEPARATOR.join(p.e164 for p in contact.phones.all()),
                    contact.account.name if contact.account else "",
                    contact.job_title,
                    contact.country,
                    contact.language,
                ]
            )
            count += 1
    else:
        rows = (queryset if queryset is not None else Account.objects.all()).order_by("id")
        for account in rows.iterator(chunk_size=500):
            writer.writerow(
                [
                    account.name,
                    account.domain,
                    account.industry,
                    account.country,
                    account.language,
                    account.tier,
                    "" if account.employees is None else account.employees,
                ]
            )
            count += 1
    return count
