"""Creating a contact with its e-mail address (every new sender of the mail sync does)
costs three statements inside a caller's transaction: the contact, its addresses
and its audit rows, one INSERT each, with nothing left to fail halfway and so no
savepoint."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from hub.actions import EmailInput, PhoneInput, do_create_contact, do_create_contacts
from hub.models import AuditLogEntry, Contact, ContactEmail

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_contact_with_an_address_costs_three_statements_in_a_transaction() -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        contact = do_create_contact(
            "Olga Nordmann", emails=[EmailInput(" Olga@Nordlys.test "), EmailInput("o@n.test")]
        )
    assert len(queries.captured_queries) == 3, [q["sql"] for q in queries.captured_queries]
    assert sorted(contact.emails.values_list("address", flat=True)) == [
        "o@n.test",
        "olga@nordlys.test",
    ]
    assert list(
        AuditLogEntry.objects.filter(object_id=str(contact.pk))
        .order_by("id")
        .values_list("action", "changes")
    ) == [
        ("email.added", {"email": "olga@nordlys.test"}),
        ("email.added", {"email": "o@n.test"}),
        ("contact.created", {"name": "Olga Nordmann"}),
    ]


def test_an_address_given_twice_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValidationError):
        do_create_contact(
            "Olga", emails=[EmailInput("olga@nordlys.test"), EmailInput("OLGA@nordlys.test")]
        )
    assert not Contact.objects.exists() and not ContactEmail.objects.exists()


def test_a_bad_phone_leaves_the_callers_transaction_usable() -> None:
    """With phones the contact keeps its savepoint: a phone is checked as it is added."""
    with transaction.atomic():
        with pytest.raises(ValidationError):
            do_create_contact(
                "Olga",
                phones=[PhoneInput("not a number")],
                emails=[EmailInput("olga@nordlys.test")],
            )
        assert not Contact.objects.exists()
        Contact.objects.create(name="Per")
    assert list(Contact.objects.values_list("name", flat=True)) == ["Per"]


def test_several_contacts_cost_three_statements_and_an_invalid_one_is_left_out() -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        created = do_create_contacts(
            [
                ("Olga", [EmailInput(" Olga@Nordlys.test ")]),
                ("Broken", [EmailInput("not an address")]),
                ("Per", [EmailInput("per@nordlys.test")]),
            ]
        )
    assert len(queries.captured_queries) == 3, [q["sql"] for q in queries.captured_queries]
    olga, broken, per = created
    assert broken is None and olga is not None and per is not None
    assert olga.pk < per.pk
    assert list(ContactEmail.objects.order_by("id").values_list("contact_id", "address")) == [
        (olga.pk, "olga@nordlys.test"),
        (per.pk, "per@nordlys.test"),
    ]
    assert list(
        AuditLogEntry.objects.order_by("id").values_list("object_id", "action", "changes")
    ) == [
        (str(olga.pk), "email.added", {"email": "olga@nordlys.test"}),
        (str(olga.pk), "contact.created", {"name": "Olga"}),
        (str(per.pk), "email.added", {"email": "per@nordlys.test"}),
        (str(per.pk), "contact.created", {"name": "Per"}),
    ]
