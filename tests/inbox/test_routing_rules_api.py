"""The routing rules endpoint: supervisors and admins edit, other staff get 403,
partners 404; bad shapes are a 400 that names the problem and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from hub.models import AuditLogEntry
from inbox.models import RoutingRule
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox.routing_fixtures import rule

pytestmark = pytest.mark.django_db

URL = "/api/v1/routing-rules/"
GOLD = {
    "name": "Gold accounts",
    "position": 10,
    "conditions": {"tier": ["gold"]},
    "actions": {"team": "sales", "priority": "high"},
}


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_supervisors_and_admins_create_list_update_and_delete(people: Personas, who: str) -> None:
    client = login_client(getattr(people, who))

    created = client.post(URL, GOLD, content_type="application/json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert client.get(URL).json()["results"][0]["name"] == "Gold accounts"
    patched = client.patch(
        f"{URL}{rule_id}/", {"stop_processing": True}, content_type="application/json"
    )
    assert patched.status_code == 200
    assert RoutingRule.objects.get(pk=rule_id).stop_processing is True
    assert client.delete(f"{URL}{rule_id}/").status_code == 204
    assert not RoutingRule.objects.exists()
    assert list(
        AuditLogEntry.objects.filter(object_type="inbox.routingrule")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["routingrule.created", "routingrule.updated", "routingrule.deleted"]


@pytest.mark.parametrize(("who", "status"), [("agent", 403), ("salesperson", 403)])
def test_other_staff_are_refused(people: Personas, who: str, status: int) -> None:
    existing = rule(people.supervisor, "Existing", {}, {"priority": "low"})
    client = login_client(getattr(people, who))

    assert client.get(URL).status_code == status
    assert client.post(URL, GOLD, content_type="application/json").status_code == status
    assert client.delete(f"{URL}{existing.pk}/").status_code == status
    assert RoutingRule.objects.count() == 1


def test_partners_find_nothing_there(people: Personas) -> None:
    existing = rule(people.supervisor, "Existing", {}, {"priority": "low"})
    client = login_client(people.partner_a)

    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}{existing.pk}/").status_code == 404
    assert client.post(URL, GOLD, content_type="application/json").status_code == 404


def test_anonymous_callers_must_sign_in(people: Personas) -> None:
    assert Client().get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"conditions": {"tier": ["bronze"]}}, "conditions", "tier: bronze not one of"),
        ({"conditions": ["tier"]}, "conditions", "must be an object"),
        ({"actions": {"team": "nope"}}, "actions", "no team with slug 'nope'"),
        ({"actions": {"assign": "pia@org-a.test"}}, "actions", "partners never"),
    ],
)
def test_bad_rules_get_400_with_the_reason_and_nothing_changes(
    people: Personas, change: dict, field: str, message: str
) -> None:
    response = login_client(people.supervisor).post(
        URL, {**GOLD, **change}, content_type="application/json"
    )

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not RoutingRule.objects.exists()


def test_the_admin_change_form_explains_a_bad_condition(people: Personas) -> None:
    client = login_client(people.supervisor)

    response = client.post(
        "/admin/inbox/routingrule/add/",
        {
            "name": "Bad",
            "position": 1,
            "is_active": "on",
            "conditions": '{"colour": ["red"]}',
            "actions": '{"priority": "high"}',
        },
    )

    assert response.status_code == 200
    assert "Unknown condition" in response.content.decode()
    assert not RoutingRule.objects.exists()
    good = client.post(
        "/admin/inbox/routingrule/add/",
        {
            "name": "Good",
            "position": 1,
            "is_active": "on",
            "conditions": '{"tier": ["gold"]}',
            "actions": '{"priority": "high"}',
        },
    )
    assert good.status_code == 302
    assert RoutingRule.objects.get().conditions == {"tier": ["gold"]}
