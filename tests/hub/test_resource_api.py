"""The REST resources of the organization and the configuration (issue 11 item 6):
who may read and write each one, a write that validates, and a bad write that is a
400 and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hub.models import (
    AuditLogEntry,
    LeadScoring,
    PartnerOrganization,
    Tag,
    Team,
    TeamMembership,
    User,
)
from inbox.models import BusinessHours, OpeningInterval, SlaPolicy
from mail.models import Mailbox
from slack_bridge.models import ChannelKind, SlackChannel, SlackWorkspace
from telephony.models import Call
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

# list URL → who may read it: "staff" (every internal role) or "supervisor".
READABLE = {
    "/api/v1/users/": "staff",
    "/api/v1/teams/": "staff",
    "/api/v1/team-memberships/": "staff",
    "/api/v1/tags/": "staff",
    "/api/v1/partner-organizations/": "staff",
    "/api/v1/lead-scoring/": "staff",
    "/api/v1/sla-policies/": "staff",
    "/api/v1/business-hours/": "staff",
    "/api/v1/calls/": "staff",
    "/api/v1/surveys/": "staff",
    "/api/v1/surveys/aggregate/": "staff",
    "/api/v1/metrics/": "staff",
    "/api/v1/metrics/conversations/": "staff",
    "/api/v1/mailboxes/": "supervisor",
    "/api/v1/slack-workspaces/": "supervisor",
    "/api/v1/slack-channels/": "supervisor",
}


def _json(client: Client, method: str, url: str, data: Any) -> Any:
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(READABLE))
def test_who_may_read_each_resource(people: Personas, url: str) -> None:
    assert Client().get(url).status_code in (401, 403)
    assert login_client(people.partner_a).get(url).status_code == 404
    assert login_client(people.supervisor).get(url).status_code == 200
    assert login_client(people.admin).get(url).status_code == 200
    expected = 200 if READABLE[url] == "staff" else 403
    assert login_client(people.agent).get(url).status_code == expected
    assert login_client(people.salesperson).get(url).status_code == expected


# url, valid body, bad body, the model, who may write ("admin" or "supervisor").
WRITES = [
    ("/api/v1/tags/", {"name": "vip", "color": "#aa0000"}, {"name": "x", "color": "red"}, Tag, "supervisor"),
    ("/api/v1/teams/", {"name": "Billing 2", "slug": "billing-2", "kind": "other"}, {"name": "Bad", "slug": "not a slug", "kind": "other"}, Team, "admin"),
    ("/api/v1/partner-organizations/", {"name": "Acme Parts", "slug": "acme"}, {"name": "", "slug": "acme"}, PartnerOrganization, "admin"),
    ("/api/v1/sla-policies/", {"priority": "urgent", "first_response_minutes": 15}, {"priority": "whenever"}, SlaPolicy, "supervisor"),
    ("/api/v1/lead-scoring/", {"name": "Spring", "tag_points": {"vip": 20}}, {"name": "Bad", "recency_days": 0}, LeadScoring, "admin"),
    ("/api/v1/users/", {"email": "New.Agent@Hub.test", "full_name": "New Agent", "role": "agent"}, {"email": "p@hub.test", "full_name": "Partner without org", "role": "partner"}, User, "admin"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "good", "bad", "model", "writer"), WRITES)
def test_writes_validate_audit_and_need_the_role(
    people: Personas, url: str, good: dict, bad: dict, model: Any, writer: str
) -> None:
    before = model.objects.count()
    refused = people.agent if writer == "supervisor" else people.supervisor
    assert _json(login_client(refused), "post", url, good).status_code == 403
    assert _json(login_client(people.partner_a), "post", url, good).status_code == 404
    client = login_client(people.admin if writer == "admin" else people.supervisor)
    audit = AuditLogEntry.objects.count()

    response = _json(client, "post", url, bad)
    assert response.status_code == 400, response.content
    assert model.objects.count() == before
    assert AuditLogEntry.objects.count() == audit

    response = _json(client, "post", url, good)
    assert response.status_code == 201, response.content
    assert model.objects.count() == before + 1
    created = model.objects.get(pk=response.json()["id"])
    entry = AuditLogEntry.objects.latest("id")
    assert (entry.object_id, entry.action.endswith(".created")) == (str(created.pk), True)


@pytest.mark.django_db
def test_a_user_created_over_the_api_has_no_usable_password_and_a_lower_case_address(
    people: Personas,
) -> None:
    client = login_client(people.admin)
    response = _json(
        client,
        "post",
        "/api/v1/users/",
        {"email": "Pia@Supplier.test", "full_name": "Pia", "role": "partner",
         "partner_organization": people.org_a.pk},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    user = User.objects.get(pk=response.json()["id"])
    assert user.email == "pia@supplier.test"
    assert not user.has_usable_password()
    assert "password" not in response.json()
    # A partner user cannot lose their organization (the model's check constraint).
    response = _json(client, "patch", f"/api/v1/users/{user.pk}/", {"partner_organization": None})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.partner_organization_id == people.org_a.pk
    assert client.delete(f"/api/v1/users/{user.pk}/").status_code == 405


@pytest.mark.django_db
def test_a_partner_organization_with_users_cannot_be_deleted(people: Personas) -> None:
    client = login_client(people.admin)
    response = client.delete(f"/api/v1/partner-organizations/{people.org_a.pk}/")
    assert response.status_code == 400
    assert PartnerOrganization.objects.filter(pk=people.org_a.pk).exists()
    empty = PartnerOrganization.objects.create(name="Empty", slug="empty")
    assert client.delete(f"/api/v1/partner-organizations/{empty.pk}/").status_code == 204
    assert AuditLogEntry.objects.filter(action="partnerorganization.deleted").count() == 1


@pytest.mark.django_db
def test_memberships_admit_staff_only_and_once(people: Personas) -> None:
    client = login_client(people.admin)
    url = "/api/v1/team-memberships/"
    body = {"team": people.billing.pk, "user": people.agent.pk}
    assert _json(client, "post", url, body).status_code == 201
    assert _json(client, "post", url, body).status_code == 400
    partner = {"team": people.billing.pk, "user": people.partner_a.pk}
    assert _json(client, "post", url, partner).status_code == 400
    assert not TeamMembership.objects.filter(user=people.partner_a).exists()
    listed = client.get(url, {"team": people.billing.pk}).json()["results"]
    assert sorted(row["user"] for row in listed) == sorted([people.other_agent.pk, people.agent.pk])
    team = client.get(f"/api/v1/teams/{people.billing.pk}/").json()
    assert people.agent.pk in team["members"]


@pytest.mark.django_db
def test_business_hours_are_saved_with_their_intervals_all_or_nothing(people: Personas) -> None:
    client = login_client(people.supervisor)
    url = "/api/v1/business-hours/"
    bad = {
        "team": people.support.pk,
        "time_zone": "Europe/Oslo",
        "intervals": [
            {"weekday": 0, "opens": "08:00", "closes": "16:00"},
            {"weekday": 1, "opens": "16:00", "closes": "08:00"},
        ],
    }
    assert _json(client, "post", url, bad).status_code == 400
    assert not BusinessHours.objects.exists() and not OpeningInterval.objects.exists()
    assert _json(client, "post", url, {**bad, "time_zone": "Mars/Olympus"}).status_code == 400

    good = {**bad, "intervals": bad["intervals"][:1], "holidays": [{"date": "2026-05-17"}]}
    response = _json(client, "post", url, good)
    assert response.status_code == 201, response.content
    assert response.json()["intervals"] == [
        {"weekday": 0, "opens": "08:00:00", "closes": "16:00:00"}
    ]
    hours_id = response.json()["id"]
    response = _json(
        client, "patch", f"{url}{hours_id}/",
        {"intervals": [{"weekday": 4, "opens": "09:00", "closes": "00:00"}]},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert [i["weekday"] for i in response.json()["intervals"]] == [4]
    assert len(response.json()["holidays"]) == 1
    assert _json(login_client(people.agent), "patch", f"{url}{hours_id}/", {}).status_code == 403


@pytest.mark.django_db
def test_mailboxes_and_slack_settings_never_show_secrets(people: Personas) -> None:
    inbox = make_inbox(people.support, key="mail", channel="email", address="s@hub.test")
    Mailbox.objects.create(
        inbox=inbox,
        imap_host="127.0.0.1",
        imap_user="support",
        imap_password_env="IMAP_SECRET_VARIABLE",
        imap_password_encrypted="gAAAA-encrypted",
        smtp_password_env="SMTP_SECRET_VARIABLE",
        from_address="s@hub.test",
    )
    workspace = SlackWorkspace.objects.create(
        team_id="T1", name="Acme", bot_token_env="BOT_SECRET_VARIABLE",
        signing_secret_env="SIGNING_SECRET_VARIABLE",
    )  # fmt: skip
    SlackChannel.objects.create(
        workspace=workspace, channel_id="C1", kind=ChannelKind.TEAM, team=people.support
    )
    client = login_client(people.supervisor)
    for url in ("/api/v1/mailboxes/", "/api/v1/slack-workspaces/", "/api/v1/slack-channels/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["count"] == 1
        assert b"SECRET" not in response.content and b"gAAAA" not in response.content
        assert _json(login_client(people.admin), "post", url, {}).status_code == 405


@pytest.mark.django_db
def test_the_call_log_lists_calls_with_filters(people: Personas) -> None:
    phone = make_inbox(people.support, key="phone", channel="phone", address="+15005550006")
    conversation = inbound(phone, "call").conversation
    Call.objects.create(sid="CA1", inbox=phone, conversation=conversation, status="completed")
    Call.objects.create(sid="CA2", inbox=phone, status="no-answer")
    client = login_client(people.agent)
    response = client.get("/api/v1/calls/", {"status": "completed"})
    assert [c["sid"] for c in response.json()["results"]] == ["CA1"]
    response = client.get("/api/v1/calls/", {"conversation": conversation.pk})
    assert response.json()["count"] == 1
    assert _json(client, "post", "/api/v1/calls/", {}).status_code == 405


@pytest.mark.django_db
def test_reading_the_directory_takes_a_fixed_number_of_queries(
    people: Personas, django_assert_max_num_queries: Any
) -> None:
    client = login_client(people.agent)
    for index in range(20):
        Tag.objects.create(name=f"tag-{index}")
        User.objects.create_user(f"u{index}@hub.test", "x", full_name=f"U {index}").teams.add(
            people.support
        )
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/users/", {"page_size": 100}).json()["count"] > 20
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/teams/").status_code == 200


@pytest.mark.django_db
def test_an_admin_cannot_demote_or_deactivate_themselves(people: Personas) -> None:
    client = login_client(people.admin)
    url = f"/api/v1/users/{people.admin.pk}/"
    assert _json(client, "patch", url, {"role": "agent"}).status_code == 400
    assert _json(client, "patch", url, {"is_active": False}).status_code == 400
    assert _json(client, "patch", url, {"full_name": "Ada A. Admin"}).status_code == 200
    people.admin.refresh_from_db()
    assert (people.admin.role, people.admin.is_active) == ("admin", True)
    other = f"/api/v1/users/{people.agent.pk}/"
    assert _json(client, "patch", other, {"role": "supervisor"}).status_code == 200


def test_a_tag_colour_is_checked_by_the_model_for_the_admin_too() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        Tag(name="vip", color="red").full_clean(validate_unique=False, validate_constraints=False)
    assert "color" in refused.value.message_dict
    Tag(name="vip", color="#AA0000").full_clean(validate_unique=False, validate_constraints=False)
