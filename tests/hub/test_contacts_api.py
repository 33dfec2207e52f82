from __future__ import annotations

import pytest

from hub.models import Account, AuditLogEntry, Contact, Deal
from tests.conftest import login_client
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def test_creating_a_contact_normalizes_numbers_and_addresses_and_audits(people: Personas) -> None:
    account = Account.objects.create(name="Trøndelag Bygg", country="NO")
    client = login_client(people.salesperson)
    response = client.post(
        "/api/v1/contacts/",
        {
            "name": "Ståle Søreide",
            "account": account.pk,
            "phones": [{"raw": "22 33 44 55", "label": "work"}],
            "emails": [{"address": "Stale@Trondelag.example"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phones"] == [{"e164": "+4722334455", "raw": "22 33 44 55", "label": "work"}]
    assert body["emails"] == [{"address": "stale@trondelag.example", "label": "work"}]
    entry = AuditLogEntry.objects.get(action="contact.created")
    assert entry.actor == people.salesperson
    assert entry.object_id == str(body["id"])


def test_a_bad_number_gets_400_and_creates_nothing(people: Personas) -> None:
    response = login_client(people.agent).post(
        "/api/v1/contacts/",
        {"name": "Nobody", "phones": [{"raw": "not a number"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "phones" in response.json()
    assert not Contact.objects.exists()


def test_lookup_finds_a_contact_by_any_spelling_of_the_number(people: Personas) -> None:
    client = login_client(people.agent)
    client.post(
        "/api/v1/contacts/",
        {"name": "Jürgen", "country": "DE", "phones": [{"raw": "030/1234567"}]},
        content_type="application/json",
    )
    response = client.get("/api/v1/contacts/lookup/", {"phone": "+49 (0)30 123 45 67"})
    assert response.status_code == 200
    body = response.json()
    assert body["e164"] == "+49301234567"
    assert [c["name"] for c in body["results"]] == ["Jürgen"]
    assert client.get("/api/v1/contacts/lookup/", {"phone": "anonymous"}).json()["count"] == 0


def test_lists_are_paginated_with_page_size_up_to_500(people: Personas) -> None:
    Account.objects.bulk_create([Account(name=f"Account {i:03}") for i in range(120)])
    client = login_client(people.agent)
    body = client.get("/api/v1/accounts/", {"page_size": 100}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 120
    assert len(body["results"]) == 100
    assert len(client.get("/api/v1/accounts/", {"page_size": 1000}).json()["results"]) == 120


def test_winning_a_deal_stamps_its_close_time(people: Personas) -> None:
    account = Account.objects.create(name="Acme")
    client = login_client(people.salesperson)
    deal_id = client.post(
        "/api/v1/deals/",
        {"title": "Pumps", "account": account.pk, "value": "1200.00"},
        content_type="application/json",
    ).json()["id"]
    response = client.patch(
        f"/api/v1/deals/{deal_id}/", {"stage": "won"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Deal.objects.get(pk=deal_id).closed_at is not None
    negative = client.post(
        "/api/v1/deals/",
        {"title": "Bad", "account": account.pk, "value": "-5"},
        content_type="application/json",
    )
    assert negative.status_code == 400


def test_the_openapi_schema_is_served(people: Personas) -> None:
    response = login_client(people.agent).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/contacts/lookup/" in response.content
