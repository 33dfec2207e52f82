"""Search behaviour, run against every backend (Whoosh always, PostgreSQL when configured)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from hub.models import Account, Contact
from inbox.actions import do_share, do_unshare, receive_message
from kb_documents.actions import (
    Sharing,
    do_add_note,
    do_delete_note,
    do_edit_note,
    do_upload_document,
)
from kb_documents.search import indexing
from kb_documents.search.service import search
from tests.kb_documents.files import make_docx, make_pdf

pytestmark = pytest.mark.django_db


def titles(user: Any, query: str, **kwargs: Any) -> list[str]:
    return [hit["title"] for hit in search(user, query, **kwargs).results]


def note(committed: Any, by: Any, body: str, **sharing: Any) -> Any:
    with committed():
        return do_add_note(body, by=by, sharing=Sharing(**sharing))


def test_words_must_all_match(search_backend, committed, people) -> None:
    note(committed, people.agent, "Broken pallet\nThe pallet arrived broken in Oslo")
    note(committed, people.agent, "Pallet fine\nThe pallet arrived in Bergen")
    assert titles(people.agent, "pallet broken") == ["Broken pallet"]
    assert sorted(titles(people.agent, "pallet")) == ["Broken pallet", "Pallet fine"]


def test_a_phrase_matches_only_in_order(search_backend, committed, people) -> None:
    note(committed, people.agent, "A\nlate payment reminder")
    note(committed, people.agent, "B\npayment was late")
    assert titles(people.agent, '"late payment"') == ["A"]


def test_a_prefix_finds_longer_words(search_backend, committed, people) -> None:
    note(committed, people.agent, "Refunds\nrefundable deposit")
    note(committed, people.agent, "Other\nnothing here")
    assert titles(people.agent, "refunda*") == ["Refunds"]


def test_field_filters_narrow_by_type_author_account_and_channel(
    search_backend, committed, people, email_inbox
) -> None:
    acme = Account.objects.create(name="Acme AS")
    contact = Contact.objects.create(name="Kari", account=acme)
    note(committed, people.agent, "Acme delivery\ndelivery schedule", account=acme)
    note(committed, people.teammate, "Other delivery\ndelivery schedule")
    with committed():
        receive_message(
            email_inbox, body_text="delivery schedule please", contact=contact, subject="Mail"
        )
    assert sorted(titles(people.agent, "delivery")) == ["Acme delivery", "Mail", "Other delivery"]
    assert titles(people.agent, "delivery type:note author:me") == ["Acme delivery"]
    assert titles(people.agent, f"delivery author:{people.teammate.email}") == ["Other delivery"]
    assert sorted(titles(people.agent, 'delivery account:"acme"')) == ["Acme delivery", "Mail"]
    assert titles(people.agent, f"delivery account:{acme.pk} type:message") == ["Mail"]
    assert titles(people.agent, "delivery channel:email") == ["Mail"]
    assert titles(people.agent, "delivery channel:sms") == []
    assert titles(people.agent, "delivery author:nobody-at-all") == []
    assert titles(people.agent, "delivery type:spreadsheet") == []


def test_a_title_hit_ranks_above_a_passing_mention(search_backend, committed, people) -> None:
    note(committed, people.agent, "Other things\n" + "misc text " * 30 + " warranty once")
    note(committed, people.agent, "Warranty claim\nwarranty terms for the warranty claim")
    assert titles(people.agent, "warranty")[0] == "Warranty claim"


def test_the_snippet_marks_the_hits_and_escapes_the_text(search_backend, committed, people) -> None:
    note(committed, people.agent, "Script\n<script>alert(1)</script> the invoices were sent")
    [hit] = search(people.agent, "invoice").results
    assert "<mark>invoices</mark>" in hit["snippet"]
    assert "<script>" not in hit["snippet"]
    assert "&lt;script&gt;" in hit["snippet"]
    assert hit["type"] == "note" and hit["score"] > 0


def test_pages_are_full_and_hold_only_what_the_user_may_see(
    search_backend, committed, people
) -> None:
    # Interleave hidden and visible items, so that filtering after the fact would
    # leave holes in the pages.
    with committed():
        for number in range(12):
            do_add_note(f"Visible {number:02}\nshipment update", by=people.agent)
            do_add_note(
                f"Hidden {number:02}\nshipment update",
                by=people.agent,
                sharing=Sharing(visibility="private"),
            )
    first = search(people.teammate, "shipment", offset=0, limit=5)
    third = search(people.teammate, "shipment", offset=10, limit=5)
    assert first.count == 12
    assert len(first.results) == 5
    assert len(third.results) == 2
    seen = {
        hit["title"]
        for offset in (0, 5, 10)
        for hit in search(people.teammate, "shipment", offset=offset, limit=5).results
    }
    assert seen == {f"Visible {number:02}" for number in range(12)}


def test_the_index_follows_edits_and_deletes(search_backend, committed, people) -> None:
    item = note(committed, people.agent, "Status\ncustomer waiting for parts")
    with committed():
        do_edit_note(item, by=people.agent, body="Status\ncustomer received the compressor")
    assert titles(people.agent, "parts") == []
    assert titles(people.agent, "compressor") == ["Status"]
    with committed():
        do_delete_note(item, by=people.agent)
    assert titles(people.agent, "compressor") == []


def test_nothing_is_indexed_before_commit(search_backend, people) -> None:
    assert titles(people.agent, "zeppelin") == []  # the index exists, built from the database
    do_add_note("Uncommitted\nzeppelin", by=people.agent)
    assert titles(people.agent, "zeppelin") == []


def test_real_pdf_and_docx_files_are_found_by_their_text(search_backend, committed, people) -> None:
    with committed():
        do_upload_document(
            make_pdf("Service agreement", "Penalty clause for late delivery"),
            "agreement.pdf",
            by=people.agent,
            title="Agreement",
        )
        do_upload_document(
            make_docx("Installation guide", "Torque the flange bolts to 40 Nm"),
            "guide.docx",
            by=people.agent,
            title="Guide",
        )
    assert titles(people.agent, '"penalty clause"') == ["Agreement"]
    assert titles(people.agent, "flange bolts") == ["Guide"]
    assert titles(people.agent, "flange type:document") == ["Guide"]


def test_messages_are_found_by_staff_and_by_partners_of_shared_conversations(
    search_backend, committed, people, email_inbox
) -> None:
    with committed():
        received = receive_message(
            email_inbox, body_text="The gearbox is leaking oil", subject="Gearbox"
        )
    assert titles(people.agent, "gearbox leaking") == ["Gearbox"]
    assert titles(people.partner_a, "gearbox") == []
    with committed():
        do_share(received.conversation, people.org_a, by=people.agent)
    assert titles(people.partner_a, "gearbox") == ["Gearbox"]
    assert titles(people.partner_b, "gearbox") == []
    with committed():
        do_unshare(received.conversation, people.org_a, by=people.agent)
    assert titles(people.partner_a, "gearbox") == []


def test_rebuild_index_recreates_the_index_with_a_progress_report(
    search_backend, committed, people, capsys
) -> None:
    with committed():
        do_add_note("Rebuilt\nhydraulic pump", by=people.agent)
    search_backend.rebuild([])  # an empty index: as if it had been lost
    assert titles(people.agent, "hydraulic") == []
    call_command("rebuild_index")
    out = capsys.readouterr().out
    assert "Indexed 1 items" in out
    assert "1/1 (100%)" in out
    assert titles(people.agent, "hydraulic") == ["Rebuilt"]


def test_a_new_schema_version_triggers_a_rebuild(
    search_backend, committed, people, monkeypatch
) -> None:
    from kb_documents.search import backends
    from kb_documents.search.backends import base

    with committed():
        do_add_note("Versioned\ncarburettor", by=people.agent)
    assert search_backend.is_current()
    monkeypatch.setattr(base, "SCHEMA_VERSION", base.SCHEMA_VERSION + 1)
    for module in ("whoosh", "postgres"):
        monkeypatch.setattr(
            f"kb_documents.search.backends.{module}.SCHEMA_VERSION", base.SCHEMA_VERSION
        )
    backends.reset_backends()
    indexing._checked.clear()
    assert not backends.get_backend().is_current()
    # The first search after the upgrade finds everything: the index was rebuilt.
    assert titles(people.agent, "carburettor") == ["Versioned"]
    assert backends.get_backend().is_current()


def test_notes_written_in_the_inbox_are_found_with_the_inboxs_sharing_rule(
    search_backend, committed, people, email_inbox
) -> None:
    from inbox.actions import do_add_note as do_add_conversation_note

    with committed():
        conversation = receive_message(email_inbox, body_text="hello", subject="Crane").conversation
        do_share(conversation, people.org_a, by=people.agent)
        do_add_conversation_note(conversation, "internal: forklift budget", by=people.agent)
        do_add_conversation_note(
            conversation,
            "shared: forklift arrives Monday",
            by=people.agent,
            share_with=[people.org_a],
        )
    assert search(people.agent, "forklift").count == 2
    assert search(people.agent, "forklift type:note").count == 2
    [hit] = search(people.partner_a, "forklift").results
    assert hit["type"] == "conversation_note" and "Monday" in hit["snippet"]
    assert search(people.partner_b, "forklift").count == 0
    with committed():
        do_unshare(conversation, people.org_a, by=people.agent)
    assert search(people.partner_a, "forklift").count == 0


def test_the_demo_data_is_searchable_and_seeding_twice_adds_nothing(search_backend, people) -> None:
    import io

    from kb_documents.models import Document, Note

    call_command("seed_demo", contacts_per_account=1, stdout=io.StringIO())
    call_command("seed_demo", contacts_per_account=1, stdout=io.StringIO())
    assert (Note.objects.count(), Document.objects.count()) == (6, 2)
    call_command("rebuild_index", stdout=io.StringIO())
    from hub.models import User

    partner = User.objects.get(email="partner@supplier.test")
    # The shared note, and the shared demo chat about a cracked housing.
    assert sorted(hit["type"] for hit in search(partner, "housings").results) == ["message", "note"]
    assert search(partner, "paller").count == 0
    agent = User.objects.get(email="agent@demo.test")
    assert search(agent, "paller").count >= 1
    assert search(agent, "交货").count >= 1


@pytest.mark.django_db(transaction=True)
def test_the_background_indexer_writes_after_commit_without_blocking_the_writer(
    search_backend, people, settings
) -> None:
    settings.SEARCH_INDEX_IN_BACKGROUND = True
    assert titles(people.agent, "escalator") == []  # the index exists
    do_add_note("Background\nescalator maintenance", by=people.agent)  # commits (autocommit)
    assert indexing.background.drain()
    assert titles(people.agent, "escalator") == ["Background"]


@pytest.mark.django_db(transaction=True)
def test_the_background_indexer_waits_for_requests_in_flight_to_finish(
    search_backend, people, settings, monkeypatch
) -> None:
    """A webhook in flight keeps the index write back (it would share the interpreter
    lock with it); the write follows as soon as the request is done."""
    from hub.requests_in_flight import requests_in_flight

    settings.SEARCH_INDEX_IN_BACKGROUND = True
    monkeypatch.setattr(indexing, "BATCH_DELAY_SECONDS", 0)
    monkeypatch.setattr(indexing, "GIVE_WAY_SECONDS", 30)
    assert titles(people.agent, "gearbox") == []
    requests_in_flight.started()
    try:
        do_add_note("Held back\ngearbox noise", by=people.agent)
        assert not indexing.background.drain(timeout=0.5)  # still waiting for quiet
        assert titles(people.agent, "gearbox") == []
    finally:
        requests_in_flight.finished()
    assert indexing.background.drain()
    assert titles(people.agent, "gearbox") == ["Held back"]


@pytest.mark.django_db(transaction=True)
def test_the_background_indexer_writes_anyway_when_requests_never_stop(
    search_backend, people, settings, monkeypatch
) -> None:
    from hub.requests_in_flight import requests_in_flight

    settings.SEARCH_INDEX_IN_BACKGROUND = True
    monkeypatch.setattr(indexing, "BATCH_DELAY_SECONDS", 0)
    monkeypatch.setattr(indexing, "GIVE_WAY_SECONDS", 0.2)
    monkeypatch.setattr(indexing, "CHUNK", 1)
    requests_in_flight.started()
    try:
        do_add_note("Steady traffic\nclutch wear", by=people.agent)
        do_add_note("More traffic\nclutch slip", by=people.agent)
        # The waiting has a budget: both are written while the request still runs.
        assert indexing.background.drain(timeout=5)
        assert sorted(titles(people.agent, "clutch")) == ["More traffic", "Steady traffic"]
    finally:
        requests_in_flight.finished()
