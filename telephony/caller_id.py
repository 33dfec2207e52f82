"""Caller-ID: from whatever number a carrier or PBX sends to the contacts it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from hub.actions import contacts_with_phone
from hub.models import Contact, ContactEmail, ContactPhone, Tag
from hub.phones import normalize_phone


@dataclass(frozen=True)
class CallerMatch:
    """Who is calling: `e164` is None for a withheld or invalid number; `contact` is set
    only when exactly one contact has the number; `candidates` holds every contact of a
    shared number (a switchboard), so an agent chooses instead of us guessing."""

    e164: str | None
    contact: Contact | None = None
    candidates: list[Contact] = field(default_factory=list)

    @property
    def is_known(self) -> bool:
        return self.contact is not None


def normalize_caller(raw: str | None, region: str | None = None) -> str | None:
    return normalize_phone(raw, region or settings.DEFAULT_PHONE_REGION)


def identify_caller(
    raw: str | None, region: str | None = None, *, for_screen_pop: bool = False
) -> CallerMatch:
    """`for_screen_pop`: the contacts come with their phones, e-mails and tags, which
    the pop shows; without it (an SMS) only with their account."""
    e164 = normalize_caller(raw, region)
    if e164 is None:
        return CallerMatch(e164=None)
    found = contacts_with_phone(e164)
    if for_screen_pop and connection.vendor == "postgresql":
        contacts = _with_related_rows(found.prefetch_related(None))
    else:
        found = found.prefetch_related("tags") if for_screen_pop else found.prefetch_related(None)
        # Two rows are enough to tell one owner from a switchboard; cap the fan-out so
        # a number on thousands of contacts cannot blow up the pop.
        contacts = list(found[:CONTACTS_READ])
    if len(contacts) == 1:
        return CallerMatch(e164=e164, contact=contacts[0], candidates=contacts)
    return CallerMatch(e164=e164, candidates=contacts)


CONTACTS_READ = 20
# The related rows the pop shows, each read as one JSON column of the contact's row.
_RELATED: tuple[tuple[str, type[Model], str], ...] = (
    ("phones", ContactPhone, "contact"),
    ("emails", ContactEmail, "contact"),
    ("tags", Tag, "contacts"),
)


def _related_rows(model: type[Model], link: str) -> Subquery:
    fields = [f.attname for f in model._meta.concrete_fields]
    rows = (
        model.objects.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(
            rows=JSONBAgg(
                JSONObject(**{name: name for name in fields}),
                order_by=[*model._meta.ordering, "pk"],
            )
        )
        .values("rows")
    )
    return Subquery(rows)


def _with_related_rows(found: QuerySet[Contact]) -> list[Contact]:
    """The callers with their phones, e-mails and tags in one statement (PostgreSQL:
    `jsonb_agg` subqueries) instead of one for the contacts and three prefetches: each
    round trip cost the pop about a millisecond under load. The related objects are
    put where prefetch_related puts them, so `contact.phones.all()` reads no more."""
    annotated = found.annotate(
        **{f"_{name}_rows": _related_rows(model, link) for name, model, link in _RELATED}
    )
    contacts = list(annotated[:CONTACTS_READ])
    for contact in contacts:
        for name, model, _link in _RELATED:
            rows = getattr(contact, f"_{name}_rows") or []
            _prefetched(contact, name, model, rows, annotated.db)
    return contacts


def _prefetched(
    contact: Contact, name: str, model: type[Model], rows: list[Any], alias: str
) -> None:
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    # JSON has no dates or decimals: each value goes through its field, as a form's
    # would, so that a field of such a type added later comes back as its type.
    objects = [
        model.from_db(alias, names, [f.to_python(row[f.attname]) for f in fields]) for row in rows
    ]
    related = getattr(contact, name).get_queryset()
    related._result_cache = objects
    related._prefetch_done = True
    if not hasattr(contact, "_prefetched_objects_cache"):
        contact._prefetched_objects_cache = {}
    contact._prefetched_objects_cache[name] = related
