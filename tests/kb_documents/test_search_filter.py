"""The permission filter and the count as the backends compute them now: Whoosh keeps
one searcher per thread and the docnums of each filter term between queries, and
PostgreSQL checks the acl on the rows its text index finds. Whatever is cached, a
user never gets a hit (or a count) they may not see, and every change shows at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from whoosh import query as wq

from kb_documents.actions import Sharing, do_add_note, do_delete_note, do_edit_note
from kb_documents.search.backends.base import Filters, IndexItem
from kb_documents.search.backends.whoosh import (
    WhooshBackend,
    _clause_query,
    _matching_docs,
    _read_toc_retrying,
)
from kb_documents.search.query import parse_query
from kb_documents.search.service import search

pytestmark = pytest.mark.django_db

EVERYONE = ("agent", "teammate", "other_agent", "salesperson", "supervisor", "partner_a")


def found_ids(user: Any, query: str) -> set[int]:
    return {hit["id"] for hit in search(user, query, limit=500).results}


def test_nobody_gets_a_hit_or_a_count_they_may_not_see(search_backend, committed, people) -> None:
    with committed():
        everyone = do_add_note("Crane everyone\ncrane inspection", by=people.agent)
        support = do_add_note(
            "Crane support\ncrane inspection",
            by=people.agent,
            sharing=Sharing(visibility="team", team=people.support),
        )
        private = do_add_note(
            "Crane private\ncrane inspection",
            by=people.agent,
            sharing=Sharing(visibility="private"),
        )
        org_a = do_add_note(
            "Crane org A\ncrane inspection",
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_a]),
        )
    expected = {
        "agent": {everyone.pk, support.pk, private.pk, org_a.pk},
        "teammate": {everyone.pk, support.pk, org_a.pk},
        "other_agent": {everyone.pk, org_a.pk},
        "salesperson": {everyone.pk, org_a.pk},
        "supervisor": {everyone.pk, support.pk, org_a.pk},
        "partner_a": {org_a.pk},
        "partner_b": set(),
    }
    # Twice: the second round answers from the cached searcher and term sets.
    for _round in range(2):
        for name, ids in expected.items():
            user = getattr(people, name)
            assert found_ids(user, "crane") == ids, name
            assert search(user, "crane inspection").count == len(ids), name
            assert search(user, "type:note").count == len(ids), name


def test_a_change_of_sharing_shows_at_once_despite_the_caches(
    search_backend, committed, people
) -> None:
    with committed():
        item = do_add_note(
            "Hoist\nhoist maintenance",
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_a]),
        )
    assert found_ids(people.partner_a, "hoist") == {item.pk}
    assert found_ids(people.other_agent, "hoist") == {item.pk}
    with committed():
        do_edit_note(item, by=people.agent, sharing=Sharing(visibility="private"))
    assert found_ids(people.partner_a, "hoist") == set()
    assert found_ids(people.other_agent, "hoist") == set()
    assert search(people.partner_a, "hoist").count == 0
    assert found_ids(people.agent, "hoist") == {item.pk}
    with committed():
        do_edit_note(
            item,
            by=people.agent,
            sharing=Sharing(visibility="partner", partners=[people.org_b]),
        )
    assert found_ids(people.partner_a, "hoist") == set()
    assert found_ids(people.partner_b, "hoist") == {item.pk}
    with committed():
        do_delete_note(item, by=people.agent)
    for name in EVERYONE:
        assert search(getattr(people, name), "hoist").count == 0, name


def test_the_count_holds_every_visible_match_beyond_the_page(
    search_backend, committed, people
) -> None:
    # Titles and texts of different strength: a ranked top-N search that skips what
    # cannot reach the page must still count everything.
    with committed():
        for number in range(40):
            body = f"Pallet {number}\n" + "pallet " * (number % 7) + "stacking"
            do_add_note(body if number % 2 else f"Note {number}\n{body}", by=people.agent)
            do_add_note(
                f"Pallet hidden {number}\npallet",
                by=people.agent,
                sharing=Sharing(visibility="private"),
            )
    page = search(people.teammate, "pallet", limit=5)
    assert page.count == 40
    assert len(page.results) == 5
    assert search(people.teammate, "pallet stacking", limit=5).count == 40
    past_the_end = search(people.teammate, "pallet", offset=40, limit=5)
    assert (past_the_end.count, past_the_end.results) == (40, [])
    last = search(people.teammate, "pallet", offset=38, limit=5)
    assert (last.count, len(last.results)) == (40, 2)


def test_a_search_reads_back_its_hits_in_a_fixed_number_of_statements(
    search_backend, committed, people
) -> None:
    with committed():
        for number in range(25):
            do_add_note(f"Winch {number}\nwinch service", by=people.agent)
    search(people.agent, "winch")  # opens the index
    with CaptureQueriesContext(connection) as statements:
        found = search(people.agent, "winch")
    assert len(found.results) == 20
    # The user's teams, the notes read back; on PostgreSQL the savepoint, the plan
    # setting, the count, the page and the release.
    assert len(statements) <= (7 if search_backend.name == "postgres" else 2)


def _item(number: int, text: str, acl: list[str]) -> IndexItem:
    return IndexItem(
        key=f"note:{number}",
        kind="note",
        object_id=number,
        title=f"Item {number}",
        text=text,
        acl=acl,
        account_id=None,
        author_id=None,
        channel="",
        created_at=datetime.now(UTC),
    )


def test_a_reused_searcher_sees_writes_and_deletes_of_another_process(settings: Any) -> None:
    reader = WhooshBackend()
    reader.rebuild([_item(1, "forklift battery", ["internal"])])
    # Another backend object on the same directory stands for another process.
    writer = WhooshBackend(settings.SEARCH_INDEX_DIR)

    def page(terms: list[str]) -> tuple[int, list[int]]:
        found = reader.search(
            parse_query("forklift"), terms=terms, filters=Filters(), offset=0, limit=10
        )
        return found.total, sorted(hit.object_id for hit in found.hits)

    assert page(["internal"]) == (1, [1])
    writer.index([_item(2, "forklift", ["partner:7"]), _item(3, "forklift", ["internal"])])
    assert page(["internal"]) == (2, [1, 3])
    assert page(["partner:7"]) == (1, [2])
    # An update moves the document to a new segment: the cached term sets of the old
    # one must not let the old permission through.
    writer.index([_item(2, "forklift", ["internal"])])
    assert page(["partner:7"]) == (0, [])
    assert page(["internal"]) == (3, [1, 2, 3])
    writer.delete(["note:1"])
    assert page(["internal"]) == (2, [2, 3])
    assert page(["partner:7", "internal"]) == (2, [2, 3])


@pytest.mark.parametrize(
    "query",
    ["forklift", "forkl*", '"battery charger"', "forklift battery", "batteries", "lader"],
)
def test_the_counted_matches_are_the_ranked_querys_matches(query: str) -> None:
    backend = WhooshBackend()
    texts = [
        "forklift battery charger",
        "forklifts and batteries",
        "charger battery",
        "ny lader til truck",
        "laderen er byttet",
        "battery forklift",
    ]
    backend.rebuild(_item(number, text, ["internal"]) for number, text in enumerate(texts))
    parsed = parse_query(query)
    searcher = _read_toc_retrying(backend._open().searcher)
    with searcher:
        for leaf, _base in searcher.leaf_searchers():
            counted = _matching_docs(leaf, parsed, backend.term_docs)
            ranked = set(wq.And([_clause_query(clause) for clause in parsed.clauses]).docs(leaf))
            assert counted == ranked
            assert counted  # every query above matches something
