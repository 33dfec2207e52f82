"""Canned responses: staff read them, supervisors change them, partners see nothing."""

from __future__ import annotations

import pytest

from hub.models import AuditLogEntry
from inbox.models import CannedResponse
from tests.conftest import login_client
from tests.factories import Personas

pytestmark = pytest.mark.django_db
URL = "/api/v1/canned-responses/"


@pytest.fixture
def thanks() -> CannedResponse:
    return CannedResponse.objects.create(
        shortcut="thanks", title="Thanks", body="Thanks, {{contact.first_name}}!"
    )


def test_every_member_of_staff_reads_them(people: Personas, thanks: CannedResponse) -> None:
    for user in (people.agent, people.salesperson, people.supervisor):
        data = login_client(user).get(URL).json()
        assert [row["shortcut"] for row in data["results"]] == ["thanks"]


def test_partners_get_404(people: Personas, thanks: CannedResponse) -> None:
    client = login_client(people.partner_a)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}{thanks.pk}/").status_code == 404
    response = client.post(URL, {"shortcut": "x", "title": "x", "body": "x"}, "application/json")
    assert response.status_code == 404
    assert CannedResponse.objects.count() == 1


def test_a_supervisor_creates_one_and_it_is_audited(people: Personas) -> None:
    response = login_client(people.supervisor).post(
        URL,
        {"shortcut": "/Hello", "title": "Hello", "body": "Hi {{contact.name}}"},
        "application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["shortcut"] == "hello"
    assert AuditLogEntry.objects.filter(action="cannedresponse.created").count() == 1


def test_an_agent_may_not_change_them(people: Personas, thanks: CannedResponse) -> None:
    client = login_client(people.agent)
    response = client.patch(f"{URL}{thanks.pk}/", {"title": "Mine"}, "application/json")
    assert response.status_code == 403
    thanks.refresh_from_db()
    assert thanks.title == "Thanks"


@pytest.mark.parametrize(
    "payload",
    [
        {"shortcut": "two words", "title": "x", "body": "x"},
        {"shortcut": "thanks", "title": "dupe", "body": "x"},
        {"shortcut": "ok", "title": "x", "body": "   "},
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(
    people: Personas, thanks: CannedResponse, payload: dict
) -> None:
    response = login_client(people.supervisor).post(URL, payload, "application/json")
    assert response.status_code == 400, response.content
    assert CannedResponse.objects.count() == 1
