from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from hub.models import Account, Contact, ContactPhone, Deal, PartnerOrganization, Role, Team, User

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Team, PartnerOrganization, Account, Contact, ContactPhone, Deal)
    }


def test_seed_demo_creates_the_demo_company_once() -> None:
    call_command("seed_demo", contacts_per_account=3, stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", contacts_per_account=3, stdout=io.StringIO())
    assert counts() == first
    assert first["Contact"] >= 60
    assert set(Team.objects.values_list("name", flat=True)) >= {"Support", "Sales"}
    assert PartnerOrganization.objects.get().name == "Nordic Supplies"


def test_the_demo_logins_have_their_documented_roles() -> None:
    call_command("seed_demo", contacts_per_account=1, stdout=io.StringIO())
    expected = {
        "agent@demo.test": (Role.AGENT, {"Support"}),
        "sales@demo.test": (Role.SALES, {"Sales"}),
        "supervisor@demo.test": (Role.SUPERVISOR, {"Support", "Sales"}),
        "partner@supplier.test": (Role.PARTNER, set()),
    }
    for email, (role, teams) in expected.items():
        user = User.objects.get(email=email)
        assert user.role == role
        assert set(user.teams.values_list("name", flat=True)) == teams
    assert (
        User.objects.get(email="partner@supplier.test").partner_organization.name
        == "Nordic Supplies"
    )


def test_supervisor_signs_into_the_admin_with_the_demo_password() -> None:
    call_command("seed_demo", contacts_per_account=1, stdout=io.StringIO())
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "supervisor@demo.test", "password": "demo"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_some_accounts_share_a_switchboard_between_contacts() -> None:
    call_command("seed_demo", contacts_per_account=4, stdout=io.StringIO())
    shared = ContactPhone.objects.filter(label="switchboard").values("e164").distinct().count()
    assert shared == Account.objects.count()
