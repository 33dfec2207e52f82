"""Caller-ID: from whatever number a carrier or PBX sends to the contacts it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from hub.actions import contacts_with_phone
from hub.models import Contact
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
    found = found.prefetch_related("tags") if for_screen_pop else found.prefetch_related(None)
    # Two rows are enough to tell one owner from a switchboard; cap the fan-out so a
    # number on thousands of contacts cannot blow up the pop.
    contacts = list(found[:20])
    if len(contacts) == 1:
        return CallerMatch(e164=e164, contact=contacts[0], candidates=contacts)
    return CallerMatch(e164=e164, candidates=contacts)
