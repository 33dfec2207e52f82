"""Caller-ID: any spelling of a number, from any country, finds its contact."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.db import connection

from hub.actions import EmailInput, PhoneInput, do_create_contact
from hub.models import Account, Contact, Tag
from telephony.caller_id import identify_caller
from telephony.screen_pop import profile_for

pytestmark = pytest.mark.django_db

# (stored as a person typed it, the contact's country, what the carrier sends)
STORED_AND_CALLING = [
    ("030/123 456-7", "DE", "+49301234567"),  # Germany: slash, national trunk zero
    ("+49 (0)89 1234-5678", "", "+4989 12345678"),  # trunk zero in brackets
    ("020 7946 0958", "GB", "+442079460958"),  # United Kingdom
    ("+44 (0)20 7946 0018", "", "00442079460018"),  # leading 00 from the carrier
    ("01.42.68.53.00", "FR", "+33142685300"),  # France: dots
    ("(415) 555-0132", "US", "4155550132"),  # United States: national, parentheses
    ("+1 415.555.0199 ext. 12", "", "+14155550199"),  # extension on the stored number
    ("22 123 45 67", "PL", "+48221234567"),  # Poland: spaces
    ("612 3456", "EE", "+3726123456"),  # Estonia
    ("22 12 34 56", "NO", "0047 22 12 34 56"),  # Norway, caller id with 00 and spaces
    ("010-1234-5678", "CN", "+86 10 1234 5678"),  # China: dashes
    ("044 668 18 00", "CH", "+41-44-668-18-00"),  # Switzerland, dashes in the caller id
]


@pytest.mark.parametrize(("stored", "country", "calling"), STORED_AND_CALLING)
def test_a_caller_is_found_whatever_way_either_number_was_written(
    stored: str, country: str, calling: str
) -> None:
    contact = do_create_contact("Caller", country=country, phones=[PhoneInput(stored)])
    match = identify_caller(calling)
    assert match.contact == contact
    assert match.e164 == contact.phones.get().e164


def test_a_national_number_is_read_in_the_default_phone_region(settings: object) -> None:
    settings.DEFAULT_PHONE_REGION = "DE"  # type: ignore[attr-defined]
    contact = do_create_contact("Berliner", country="DE", phones=[PhoneInput("+49 30 1234567")])
    assert identify_caller("030 1234567").contact == contact
    settings.DEFAULT_PHONE_REGION = "US"  # type: ignore[attr-defined]
    assert identify_caller("030 1234567").contact is None


@pytest.mark.parametrize(
    "withheld", ["anonymous", "Restricted", "+266696687", "", "   ", None, "not a number", "12"]
)
def test_withheld_or_invalid_numbers_are_unknown_callers(withheld: str | None) -> None:
    do_create_contact("Someone", phones=[PhoneInput("+14155550132")])
    match = identify_caller(withheld)
    assert match.e164 is None
    assert match.contact is None
    assert match.candidates == []


def test_a_number_shared_by_several_contacts_offers_the_choice_and_guesses_nobody() -> None:
    acme = Account.objects.create(name="Acme GmbH", country="DE")
    first = do_create_contact("Anna", account=acme, phones=[PhoneInput("+49 30 9999 0")])
    second = do_create_contact("Bernd", account=acme, phones=[PhoneInput("030/99990")])
    match = identify_caller("+49 30 99990")
    assert match.contact is None
    assert {c.pk for c in match.candidates} == {first.pk, second.pk}
    assert all(c.account == acme for c in match.candidates)


def test_a_number_nobody_has_is_an_unknown_caller_with_its_number() -> None:
    match = identify_caller("+44 20 7946 0999")
    assert match.e164 == "+442079460999"
    assert match.contact is None
    assert match.candidates == []


def test_the_pop_reads_a_caller_with_phones_emails_and_tags_as_the_prefetch_would(
    django_assert_max_num_queries: object,
) -> None:
    """PostgreSQL reads them in one statement (telephony/caller_id.py); the profile
    then shows exactly what separate reads give, in the same order."""
    contact = do_create_contact(
        "Many Ways",
        phones=[PhoneInput("+14155550177", label="mobile"), PhoneInput("+14155550100")],
        emails=[EmailInput("b@example.test"), EmailInput("a@example.test", label="home")],
    )
    contact.tags.set([Tag.objects.create(name="vip"), Tag.objects.create(name="churn")])
    expected = profile_for(Contact.objects.get(pk=contact.pk))
    statements = 1 if connection.vendor == "postgresql" else 4
    with django_assert_max_num_queries(statements):  # type: ignore[operator]
        match = identify_caller("+14155550100", for_screen_pop=True)
        caller = match.contact
        assert caller is not None
        shown = (list(caller.phones.all()), list(caller.emails.all()), list(caller.tags.all()))
    assert [p.e164 for p in shown[0]] == ["+14155550177", "+14155550100"]
    assert profile_for(caller) == expected


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement read is PostgreSQL's"
)
def test_a_caller_read_in_one_statement_is_freed_without_the_garbage_collector() -> None:
    """The caller's phones, e-mails and tags stay the caller's (a query made from them
    is still its), but nothing points back from them to the caller: a reference
    cycle per call would be left for the full collections that stop the server."""
    contact = do_create_contact("Cycle Free", phones=[PhoneInput("+14155550188")])
    contact.tags.set([Tag.objects.create(name="vip")])
    do_create_contact("Someone Else", phones=[PhoneInput("+14155550189")])
    gc.collect()
    gc.disable()
    try:
        caller = identify_caller("+14155550188", for_screen_pop=True).contact
        assert caller is not None
        assert [p.e164 for p in caller.phones.all()] == ["+14155550188"]
        assert [p.e164 for p in caller.phones.filter(e164__startswith="+1")] == ["+14155550188"]
        assert [t.name for t in caller.tags.all()] == ["vip"]
        freed = weakref.ref(caller)
        del caller
        assert freed() is None
    finally:
        gc.enable()
