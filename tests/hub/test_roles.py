from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from hub.models import Account, Role, User
from tests.conftest import login_client
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def test_only_supervisors_and_admins_reach_the_admin(people: Personas) -> None:
    expected = {
        people.admin: 200,
        people.supervisor: 200,
        people.agent: 302,
        people.salesperson: 302,
        people.partner_a: 302,
    }
    for user, status in expected.items():
        response = login_client(user).get("/admin/")
        assert response.status_code == status, user.email


def test_a_supervisor_manages_operations_but_cannot_delete_users(people: Personas) -> None:
    sky = people.supervisor
    assert sky.has_perm("hub.change_contact")
    assert sky.has_perm("hub.add_team")
    assert not sky.has_perm("hub.delete_user")
    assert not sky.has_perm("axes.delete_accessattempt")
    assert people.admin.has_perm("hub.delete_user")
    for user in (people.agent, people.salesperson, people.partner_a):
        assert not user.has_perm("hub.view_contact")
        assert not user.is_staff


def test_an_inactive_supervisor_has_no_permissions(people: Personas) -> None:
    people.supervisor.is_active = False
    assert not people.supervisor.has_perm("hub.change_contact")
    assert not people.supervisor.has_module_perms("hub")


def test_a_partner_must_belong_to_a_partner_organization(people: Personas) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="x@partner.test", full_name="X", role=Role.PARTNER)


def test_only_partners_belong_to_a_partner_organization(people: Personas) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            email="y@hub.test", full_name="Y", role=Role.AGENT, partner_organization=people.org_a
        )


def test_partners_are_external_and_staff_are_internal(people: Personas) -> None:
    assert not people.partner_a.is_internal
    assert all(u.is_internal for u in (people.agent, people.salesperson, people.supervisor))


def test_staff_land_on_the_console_and_partners_on_the_portal(
    people: Personas, password: str
) -> None:
    for user, target in ((people.agent, "/"), (people.partner_a, "/portal/")):
        client = Client()
        response = client.post("/accounts/login/", {"username": user.email, "password": password})
        assert response.status_code == 302
        assert response["Location"] == target


def test_the_console_sends_partners_to_their_portal_and_the_portal_hides_from_staff(
    people: Personas,
) -> None:
    assert login_client(people.partner_a).get("/").status_code == 302
    assert login_client(people.partner_a).get("/portal/").status_code == 200
    assert login_client(people.agent).get("/portal/").status_code == 404
    assert login_client(people.agent).get("/").status_code == 200


def test_crm_endpoints_answer_404_to_partners_and_data_to_staff(people: Personas) -> None:
    account = Account.objects.create(name="Acme")
    partner = login_client(people.partner_a)
    staff = login_client(people.salesperson)
    for path in (
        "/api/v1/contacts/",
        "/api/v1/accounts/",
        f"/api/v1/accounts/{account.pk}/",
        "/api/v1/deals/",
        "/api/v1/tasks/",
        "/api/v1/contacts/lookup/?phone=1",
    ):
        assert partner.get(path).status_code == 404, path
        assert staff.get(path).status_code == 200, path


def test_anonymous_api_requests_are_refused(people: Personas) -> None:
    assert Client().get("/api/v1/contacts/").status_code in (401, 403)
