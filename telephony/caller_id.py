"""Caller-ID: from whatever number a carrier or PBX sends to the contacts it belongs to."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connections, router
from django.db.models import Model, OuterRef, Subquery
from django.db.models.functions import JSONObject

from hub.actions import contacts_with_phone
from hub.compiled_query import stand_in_places
from hub.models import Account, Contact, ContactEmail, ContactPhone, Tag
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
    if for_screen_pop and connections[router.db_for_read(Contact)].vendor == "postgresql":
        contacts = _with_related_rows(e164)
    else:
        found = contacts_with_phone(e164)
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
# The number the callers' statement is compiled with; each call's number takes its
# place among the parameters.
_NUMBER_PLACEHOLDER = "+0"


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


def _account_row() -> Subquery:
    fields = [f.attname for f in Account._meta.concrete_fields]
    return Subquery(
        Account.objects.filter(pk=OuterRef("account_id")).values(
            row=JSONObject(**{name: name for name in fields})
        )
    )


@functools.lru_cache(maxsize=8)
def _callers_statement(alias: str) -> tuple[str, tuple[Any, ...], int]:
    """The callers of a number with their account, phones, e-mails and tags as JSON
    columns (`jsonb_agg` subqueries), compiled to SQL once per process and database:
    building and compiling this queryset (three correlated subqueries) took the pop
    longer than PostgreSQL took to run it. Returns the SQL, its parameters and where
    the number goes among them.

    Contacts are those with a phone of the number (a semi-join, so a contact with the
    number twice is one caller), in name order, at most CONTACTS_READ."""
    phones = ContactPhone.objects.filter(e164=_NUMBER_PLACEHOLDER).values("contact_id")
    callers = (
        Contact.objects.using(alias)
        .filter(pk__in=phones)
        .annotate(
            _account_row=_account_row(),
            **{f"_{name}_rows": _related_rows(model, link) for name, model, link in _RELATED},
        )
        .order_by("name", "id")[:CONTACTS_READ]
    )
    sql, params = callers.query.sql_with_params()
    return sql, params, stand_in_places(params, {"number": _NUMBER_PLACEHOLDER})["number"]


def _with_related_rows(e164: str) -> list[Contact]:
    """The callers with their account, phones, e-mails and tags in one statement
    (PostgreSQL) instead of one for the contacts and three prefetches: each round trip
    cost the pop about a millisecond under load. The related objects are put where
    select_related and prefetch_related put them, so `contact.account` and
    `contact.phones.all()` read no more."""
    alias = router.db_for_read(Contact)
    sql, template, at = _callers_statement(alias)
    params = (*template[:at], e164, *template[at + 1 :])
    contacts = list(Contact.objects.using(alias).raw(sql, params))
    for contact in contacts:
        account = _json(contact._account_row)
        contact.account = _from_row(Account, account, alias) if account else None
        for name, model, link in _RELATED:
            rows = _json(getattr(contact, f"_{name}_rows")) or []
            objects = [_from_row(model, row, alias) for row in rows]
            _prefetched(contact, name, model, link, objects, alias)
    return contacts


def _json(value: Any) -> Any:
    # Django's PostgreSQL backend hands JSON columns to the field that reads them; a
    # raw statement's extra columns come as the text PostgreSQL sent.
    return json.loads(value) if isinstance(value, str) else value


def _from_row(model: type[Model], row: dict[str, Any], alias: str) -> Model:
    # JSON has no dates or decimals: each value goes through its field, as a form's
    # would, so that a field of such a type added later comes back as its type.
    fields = model._meta.concrete_fields
    return model.from_db(
        alias, [f.attname for f in fields], [f.to_python(row[f.attname]) for f in fields]
    )


def _prefetched(
    contact: Contact, name: str, model: type[Model], link: str, objects: list[Model], alias: str
) -> None:
    """`objects` as `contact.<name>.all()` gives them, and as prefetch_related leaves
    them. The cached query names the contact by its id where the related manager's
    names the instance: contact -> cache -> query -> contact would be a reference
    cycle, about 40 objects a call that only the collector's full passes free (see
    hub.asgi_handler). A query made from it (`contact.phones.filter(...)`) is still
    the contact's."""
    related = model._default_manager.db_manager(alias).filter(**{link: contact.pk})
    related._result_cache = objects
    related._prefetch_done = True
    if not hasattr(contact, "_prefetched_objects_cache"):
        contact._prefetched_objects_cache = {}
    contact._prefetched_objects_cache[name] = related
