"""Notes: Markdown rendered safely, @mentions notify live, pinning, edit history."""

from __future__ import annotations

from typing import Any

import pytest

from hub.models import Account, AuditLogEntry
from inbox.events import EVENT_SCHEMAS, check_event
from inbox.models import Event
from kb_documents.models import Note
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def post_note(client: Any, **data: Any) -> Any:
    return client.post("/api/v1/notes/", data, content_type="application/json")


def test_markdown_is_rendered_and_sanitized(committed: Any, people: Any) -> None:
    body = "# Plan\n\n**Call** the [customer](https://example.test) <script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    with committed():
        response = post_note(login_client(people.agent), body=body)
    assert response.status_code == 201
    html = response.json()["body_html"]
    assert "<h1>Plan</h1>" in html
    assert "<strong>Call</strong>" in html
    assert 'href="https://example.test"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert (
        "<script" not in html
        and "javascript:" not in html
        and "onerror" not in html
        and "<img" not in html
    )
    assert response.json()["title"] == "Plan"


def test_a_note_links_to_an_account_and_is_listed_under_it(committed: Any, people: Any) -> None:
    account = Account.objects.create(name="Fjord Fisk AS")
    client = login_client(people.salesperson)
    with committed():
        created = post_note(client, body="Renewal due in March", account=account.pk)
        post_note(client, body="Unrelated")
    assert created.status_code == 201
    listed = client.get(f"/api/v1/notes/?account={account.pk}").json()
    assert [note["id"] for note in listed["results"]] == [created.json()["id"]]
    assert set(listed) == {"count", "next", "previous", "results"}
    assert AuditLogEntry.objects.filter(
        action="note.created", object_id=str(created.json()["id"])
    ).exists()


def test_a_mention_notifies_the_mentioned_user_live(committed: Any, people: Any) -> None:
    with committed():
        response = post_note(
            login_client(people.agent),
            body=f"@{people.salesperson.email} can you call them? cc @{people.agent.email}",
        )
    assert response.status_code == 201
    assert response.json()["mentions"] == sorted([people.salesperson.pk, people.agent.pk])
    events = list(Event.objects.filter(type="note.mentioned"))
    # The author mentioning themselves gets no notification.
    assert [event.audience_keys for event in events] == [
        frozenset({f"user.{people.salesperson.pk}"})
    ]
    check_event(events[0].type, events[0].data)
    assert events[0].data["note"]["id"] == response.json()["id"]
    assert events[0].data["by"] == {"id": people.agent.pk, "name": people.agent.full_name}
    assert "note.mentioned" in EVENT_SCHEMAS


def test_mentioning_someone_who_cannot_see_the_note_is_refused(people: Any) -> None:
    response = post_note(
        login_client(people.agent), body=f"hi @{people.partner_a.email}", visibility="internal"
    )
    assert response.status_code == 400
    assert "cannot see this note" in str(response.json())
    assert not Note.objects.exists()
    assert not Event.objects.exists()


def test_an_edit_keeps_the_old_text_in_the_history_and_notifies_only_new_mentions(
    committed: Any, people: Any
) -> None:
    client = login_client(people.agent)
    with committed():
        note_id = post_note(client, body=f"first @{people.teammate.email}").json()["id"]
        response = client.patch(
            f"/api/v1/notes/{note_id}/",
            {"body": f"second @{people.teammate.email} @{people.supervisor.email}"},
            content_type="application/json",
        )
    assert response.status_code == 200
    assert response.json()["body"].startswith("second")
    history = client.get(f"/api/v1/notes/{note_id}/history/").json()
    assert [entry["body"] for entry in history["results"]] == [f"first @{people.teammate.email}"]
    audiences = [
        event.audience for event in Event.objects.filter(type="note.mentioned").order_by("id")
    ]
    assert audiences == [f" user.{people.teammate.pk} ", f" user.{people.supervisor.pk} "]


def test_only_the_author_or_a_supervisor_edits_a_note(people: Any) -> None:
    note_id = post_note(login_client(people.agent), body="mine").json()["id"]
    edit = {"body": "changed"}
    assert (
        login_client(people.teammate)
        .patch(f"/api/v1/notes/{note_id}/", edit, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        login_client(people.supervisor)
        .patch(f"/api/v1/notes/{note_id}/", edit, content_type="application/json")
        .status_code
        == 200
    )
    assert login_client(people.teammate).delete(f"/api/v1/notes/{note_id}/").status_code == 403
    assert login_client(people.agent).delete(f"/api/v1/notes/{note_id}/").status_code == 204
    assert not Note.objects.exists()


def test_pinned_notes_come_first(people: Any) -> None:
    client = login_client(people.agent)
    older = post_note(client, body="older").json()["id"]
    post_note(client, body="newer")
    assert client.patch(
        f"/api/v1/notes/{older}/", {"pinned": True}, content_type="application/json"
    ).json()["pinned"]
    listed = client.get("/api/v1/notes/").json()["results"]
    assert [note["title"] for note in listed] == ["older", "newer"]
    assert [note["title"] for note in client.get("/api/v1/notes/?pinned=1").json()["results"]] == [
        "older"
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": "x", "visibility": "public"}, "visibility"),
        ({"body": "x", "visibility": "partner"}, "partners"),
        ({"body": "x", "partners": [1]}, "partners"),
        ({"body": "x", "account": 999999}, "account"),
        ({"body": "x", "conversation": 999999}, "conversation"),
    ],
)
def test_bad_notes_get_a_clear_400_and_write_nothing(people: Any, data: dict, field: str) -> None:
    response = post_note(login_client(people.agent), **data)
    assert response.status_code == 400
    assert field in response.json()
    assert not Note.objects.exists()


def test_a_team_note_needs_a_team_the_author_is_in(people: Any) -> None:
    response = post_note(
        login_client(people.agent), body="x", visibility="team", team=people.sales.pk
    )
    assert response.status_code == 400
    response = post_note(login_client(people.admin), body="x", visibility="team")
    assert response.status_code == 400  # the admin is in no team
    response = post_note(login_client(people.agent), body="x", visibility="team")
    assert response.json()["team"] == people.support.pk
