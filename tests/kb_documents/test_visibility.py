"""Who finds and reads which note and document: the database scoping and the search
index agree, for every persona."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.actions import do_share, receive_message
from kb_documents.actions import Sharing, do_add_note, do_upload_document
from kb_documents.search.service import search
from kb_documents.visibility import visible_documents, visible_notes
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

EVERYONE = (
    "agent",
    "teammate",
    "other_agent",
    "salesperson",
    "supervisor",
    "admin",
    "partner_a",
    "partner_b",
)


def finders(people: Any, query: str) -> set[str]:
    return {name for name in EVERYONE if search(getattr(people, name), query).count}


def readers(people: Any, note: Any) -> set[str]:
    return {
        name
        for name in EVERYONE
        if visible_notes(getattr(people, name)).filter(pk=note.pk).exists()
    }


@pytest.mark.parametrize(
    ("sharing", "expected"),
    [
        (
            {"visibility": "internal"},
            {"agent", "teammate", "other_agent", "salesperson", "supervisor", "admin"},
        ),
        ({"visibility": "team"}, {"agent", "teammate", "supervisor", "admin"}),
        ({"visibility": "private"}, {"agent"}),
        (
            "partner_a",
            {"agent", "teammate", "other_agent", "salesperson", "supervisor", "admin", "partner_a"},
        ),
    ],
    ids=["internal", "team", "private", "partner"],
)
def test_each_visibility_is_found_and_read_by_exactly_its_audience(
    search_backend: Any, committed: Any, people: Any, sharing: Any, expected: set[str]
) -> None:
    if sharing == "partner_a":
        sharing = {"visibility": "partner", "partners": [people.org_a]}
    with committed():
        note = do_add_note(
            "Gasket\nreplacement gasket ordered", by=people.agent, sharing=Sharing(**sharing)
        )
    assert finders(people, "gasket") == expected
    assert readers(people, note) == expected


def test_an_internal_note_is_never_found_by_a_partner_and_a_shared_one_is(
    search_backend: Any, committed: Any, people: Any
) -> None:
    with committed():
        do_add_note("Internal\nmargin on the turbine deal is 40%", by=people.agent)
        do_add_note(
            "Shared\nturbine delivery in week 12",
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_a]),
        )
    assert [hit["title"] for hit in search(people.partner_a, "turbine").results] == ["Shared"]
    assert search(people.partner_a, "margin").count == 0
    assert search(people.partner_b, "turbine").count == 0
    # Filters cannot widen what a partner sees.
    assert search(people.partner_a, "turbine type:note author:" + people.agent.email).count == 1
    assert search(people.partner_a, "type:note").count == 1


def test_nobody_finds_another_users_private_note_not_even_an_admin(
    search_backend: Any, committed: Any, people: Any
) -> None:
    with committed():
        do_add_note(
            "Diary\nsalary negotiation", by=people.agent, sharing=Sharing(visibility="private")
        )
    assert finders(people, "salary") == {"agent"}
    assert finders(people, f"author:{people.agent.email}") == {"agent"}


def test_documents_follow_the_same_visibility(
    search_backend: Any, committed: Any, people: Any
) -> None:
    with committed():
        shared = do_upload_document(
            b"Price list for spare valves",
            "prices.txt",
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_b]),
        )
        do_upload_document(b"Internal cost of spare valves", "cost.txt", by=people.agent)
    assert [hit["id"] for hit in search(people.partner_b, "valves").results] == [shared.pk]
    assert search(people.partner_a, "valves").count == 0
    assert search(people.salesperson, "valves").count == 2
    assert list(visible_documents(people.partner_b)) == [shared]


def test_a_partner_gets_404_for_what_is_not_shared_with_their_organization(
    committed: Any, people: Any
) -> None:
    with committed():
        internal = do_add_note("Internal\nsecret", by=people.agent)
        other = do_add_note(
            "For B\nshared",
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_b]),
        )
        document = do_upload_document(b"internal text", "a.txt", by=people.agent)
    client = login_client(people.partner_a)
    for url in (
        f"/api/v1/notes/{internal.pk}/",
        f"/api/v1/notes/{other.pk}/",
        f"/api/v1/documents/{document.pk}/",
        f"/api/v1/documents/{document.pk}/download/",
        f"/api/v1/notes/{internal.pk}/history/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.patch(
            f"/api/v1/notes/{internal.pk}/", {"pinned": True}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/documents/{document.pk}/").status_code == 404
    assert client.get("/api/v1/notes/").json()["count"] == 0
    assert client.get(f"/api/v1/notes/{other.pk}/").status_code == 404
    assert login_client(people.partner_b).get(f"/api/v1/notes/{other.pk}/").json()["partners"] == [
        people.org_b.pk
    ]


def test_a_partner_never_learns_which_other_partners_share_a_note(
    committed: Any, people: Any
) -> None:
    with committed():
        note = do_add_note(
            "Both\nshared twice",
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_a, people.org_b]),
        )
    assert login_client(people.partner_a).get(f"/api/v1/notes/{note.pk}/").json()["partners"] == [
        people.org_a.pk
    ]
    assert login_client(people.agent).get(f"/api/v1/notes/{note.pk}/").json()["partners"] == sorted(
        [people.org_a.pk, people.org_b.pk]
    )


def test_a_partner_writes_notes_only_on_conversations_shared_with_them(
    search_backend: Any, committed: Any, people: Any, email_inbox: Any
) -> None:
    with committed():
        conversation = receive_message(email_inbox, body_text="hello", subject="Hi").conversation
    client = login_client(people.partner_a)
    response = client.post(
        "/api/v1/notes/",
        {"body": "Our note", "conversation": conversation.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    with committed():
        do_share(conversation, people.org_a, by=people.agent)
        response = client.post(
            "/api/v1/notes/",
            {
                "body": "Our note about the crane",
                "conversation": conversation.pk,
                "visibility": "internal",
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["visibility"] == "partner" and body["partners"] == [people.org_a.pk]
    assert finders(people, "crane") == {
        "agent",
        "teammate",
        "other_agent",
        "salesperson",
        "supervisor",
        "admin",
        "partner_a",
    }
    account_note = client.post(
        "/api/v1/notes/", {"body": "x", "account": 1}, content_type="application/json"
    )
    assert account_note.status_code == 400


def test_partner_sharing_of_a_conversation_note_requires_the_conversation_to_be_shared(
    committed: Any, people: Any, email_inbox: Any
) -> None:
    with committed():
        conversation = receive_message(email_inbox, body_text="hello", subject="Hi").conversation
    response = login_client(people.agent).post(
        "/api/v1/notes/",
        {
            "body": "x",
            "conversation": conversation.pk,
            "visibility": "partner",
            "partners": [people.org_a.pk],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "share it first" in str(response.json())


def test_index_items_for_many_messages_read_their_shares_in_one_query(people: Any) -> None:
    """The indexer builds a batch of messages (a mail sync's, a rebuild's chunk) from
    two queries, not two per message, and each message keeps its own partners."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kb_documents.search import indexing
    from tests.inbox_fixtures import make_inbox

    inbox = make_inbox(people.support)
    shared, private = (
        receive_message(inbox, body_text=f"Pump seal {n}", external_id=f"m{n}", thread_key=f"t{n}")
        for n in (1, 2)
    )
    do_share(shared.conversation, people.org_a, by=people.agent)
    more = [
        receive_message(
            inbox, body_text=f"Follow-up {n}", external_id=f"f{n}", thread_key="t1"
        ).message.pk
        for n in range(8)
    ]
    ids = [shared.message.pk, private.message.pk, *more, 10**9]
    with CaptureQueriesContext(connection) as queries:
        items, gone = indexing.items_for("message", ids)
    assert len(queries) == 2
    assert gone == [10**9]
    acl = {item.object_id: set(item.acl) for item in items}
    partner = f"partner:{people.org_a.pk}"
    assert acl[shared.message.pk] == {"internal", partner}
    assert acl[private.message.pk] == {"internal"}
    assert all(acl[pk] == {"internal", partner} for pk in more)
