from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError

from hub import actions
from hub.demo import seeded_phone_forms
from hub.models import Account, Contact, ContactPhone
from hub.phones import normalize_phone, parse_phone

# (written form, region of the writer, E.164): formats from nine countries.
WRITTEN_NUMBERS = [
    ("(415) 555-0132", "US", "+14155550132"),
    ("415.555.0132", "US", "+14155550132"),
    ("415-555-0132", "US", "+14155550132"),
    ("1 415 555 0132", "US", "+14155550132"),
    ("+1-415-555-0132", "DE", "+14155550132"),
    ("+1 415-555-0132 ext. 204", "US", "+14155550132"),
    ("030/1234567", "DE", "+49301234567"),
    ("030 / 123 45 67", "DE", "+49301234567"),
    ("+49 (0)30 1234567", "US", "+49301234567"),
    ("0049 30 1234567", "US", "+49301234567"),
    ("0049 (0)30 1234567", "US", "+49301234567"),
    ("030.123.45.67", "DE", "+49301234567"),
    ("22 33 44 55", "NO", "+4722334455"),
    ("+47 22.33.44.55", "US", "+4722334455"),
    ("0047 22 33 44 55", "US", "+4722334455"),
    ("020 7946 0018", "GB", "+442079460018"),
    ("+44 (0)20 7946 0018", "US", "+442079460018"),
    ("22 123 45 67", "PL", "+48221234567"),
    ("+48 512-345-678", "US", "+48512345678"),
    ("5123 4567", "EE", "+37251234567"),
    ("+372 5123 4567", "US", "+37251234567"),
    ("01 23 45 67 89", "FR", "+33123456789"),
    ("+33 (0)1 23 45 67 89", "US", "+33123456789"),
    ("010 1234 5678", "CN", "+861012345678"),
    ("+86 131 2345 6789", "US", "+8613123456789"),
    ("08-12 34 56", "SE", "+468123456"),
]


@pytest.mark.parametrize(("raw", "region", "e164"), WRITTEN_NUMBERS)
def test_every_written_form_normalizes_to_the_same_e164(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


def test_an_extension_is_kept_apart_from_the_number() -> None:
    parsed = parse_phone("+1 415-555-0132 ext. 204", "US")
    assert parsed is not None
    assert (parsed.e164, parsed.extension) == ("+14155550132", "204")


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "anonymous", "Restricted", "PRIVATE", "+266696687", "unknown", "abc", "12", None],
)
def test_withheld_or_invalid_numbers_are_no_number(raw: str | None) -> None:
    assert normalize_phone(raw, "US") is None


@pytest.mark.django_db
def test_every_seeded_number_normalizes_back_to_its_stored_e164() -> None:
    call_command("seed_demo", contacts_per_account=4, stdout=open("/dev/null", "w"))  # noqa: SIM115
    forms = seeded_phone_forms()
    assert len(forms) > 100
    # The seed writes numbers in many shapes; make sure the test really sees them.
    assert any(raw.startswith("00") for raw, _, _ in forms)
    assert any("(0)" in raw for raw, _, _ in forms)
    assert any("/" in raw for raw, _, _ in forms)
    assert any("ext." in raw for raw, _, _ in forms)
    assert len({region for _, region, _ in forms}) >= 6
    for raw, region, e164 in forms:
        assert normalize_phone(raw, region) == e164, raw
        # And the stored value is what a carrier would send for the call.
        assert normalize_phone(e164, "US") == e164


@pytest.mark.django_db
def test_a_contact_cannot_hold_the_same_number_twice_in_any_spelling() -> None:
    account = Account.objects.create(name="Müller Maschinenbau", country="DE")
    contact = actions.do_create_contact(
        "Jürgen Müller", account=account, phones=[actions.PhoneInput("030/1234567")]
    )
    with pytest.raises(ValidationError):
        actions.do_add_contact_phone(contact, "+49 (0)30 123 45 67")
    assert contact.phones.count() == 1
    assert contact.phones.get().e164 == "+49301234567"


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_duplicate_e164_on_one_contact() -> None:
    contact = actions.do_create_contact(
        "Ola Nordmann", phones=[actions.PhoneInput("+47 22 33 44 55")]
    )
    with pytest.raises(IntegrityError):
        ContactPhone.objects.create(contact=contact, raw="22334455", e164="+4722334455")


@pytest.mark.django_db
def test_two_contacts_may_share_a_switchboard_and_lookup_returns_both() -> None:
    account = Account.objects.create(name="Fjordkraft", country="NO")
    first = actions.do_create_contact(
        "Åse", account=account, phones=[actions.PhoneInput("22 33 44 55")]
    )
    second = actions.do_create_contact(
        "Bjørn", account=account, phones=[actions.PhoneInput("+47 22-33-44-55")]
    )
    found = list(actions.contacts_with_phone("+4722334455"))
    assert set(found) == {first, second}


@pytest.mark.django_db
def test_national_numbers_use_the_contacts_country() -> None:
    contact = actions.do_create_contact(
        "Łukasz Wójcik", country="PL", phones=[actions.PhoneInput("22 123 45 67")]
    )
    assert contact.phones.get().e164 == "+48221234567"


@pytest.mark.django_db
def test_garbage_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="not a phone number"):
        actions.do_create_contact("Nobody", phones=[actions.PhoneInput("call me maybe")])
    assert not Contact.objects.filter(name="Nobody").exists()
