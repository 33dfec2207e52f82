"""The permission filter and the count as the backends compute them now: Whoosh keeps
one searcher per thread and the docnums of each filter term between queries, and
PostgreSQL checks the acl on the rows its text index finds. Whatever is cached, a
user never gets a hit (or a count) they may not see, and every change shows at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from whoosh import query as wq

from kb_documents.actions import Sharing, do_add_note, do_delete_note, do_edit_note
from kb_documents.search.backends.base import Filters, IndexItem
from kb_documents.search.backends.whoosh import (
    _BLOCK_READER,
    STEM_MARK,
    WhooshBackend,
    _clause_terms,
    _field_lengths,
    _length_column,
    _matching_docs,
    _postings,
    _read_toc_retrying,
)
from kb_documents.search.query import Clause, parse_query
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
    # The user's teams, the notes read back; on PostgreSQL the page with its count,
    # sent with its plan setting as one query string.
    assert len(statements) <= (3 if search_backend.name == "postgres" else 2)


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


TEXTS = [
    "forklift battery charger",
    "forklifts and batteries",
    "charger battery",
    "ny lader til truck",
    "laderen er byttet",
    "battery forklift",
]


def _meaning(clause: Clause) -> wq.Query:
    """What a clause means, as Whoosh's own queries: the word's form, its stems and
    the text's stems of it, and longer words it begins (docs/architecture.md)."""
    if clause.kind == "phrase":
        return wq.Phrase("phrases", list(clause.forms))
    if clause.kind == "prefix":
        return wq.Prefix("words", clause.forms[0])
    options: list[wq.Query] = [wq.Term("words", form) for form in clause.forms]
    options += [wq.Term("words", STEM_MARK + form) for form in clause.forms]
    if clause.expands_to_prefix:
        options.append(wq.Prefix("words", clause.forms[0]))
    return wq.Or(options)


@pytest.mark.parametrize(
    "query",
    ["forklift", "forkl*", '"battery charger"', "forklift battery", "batteries", "lader"],
)
def test_the_counted_matches_are_what_the_query_means(query: str) -> None:
    backend = WhooshBackend()
    backend.rebuild(_item(number, text, ["internal"]) for number, text in enumerate(TEXTS))
    parsed = parse_query(query)
    searcher = _read_toc_retrying(backend._open().searcher)
    with searcher:
        for leaf, _base in searcher.leaf_searchers():
            terms = [_clause_terms(leaf.reader(), clause) for clause in parsed.clauses]
            counted = set(np.flatnonzero(_matching_docs(leaf, parsed, terms, backend.term_docs)))
            meant = set(wq.And([_meaning(clause) for clause in parsed.clauses]).docs(leaf))
            assert counted == meant
            assert counted  # every query above matches something


@pytest.mark.parametrize("query", ["forklift", "battery charger", "lader", "forkl*"])
def test_the_ranking_gives_whooshs_own_bm25_scores_to_the_visible_matches(query: str) -> None:
    """The backend scores only the matches the user may see, from cached postings;
    the scores are those Whoosh's BM25F gives the same weighted terms."""
    backend = WhooshBackend()
    acls = (["internal"], ["user:9"])
    backend.rebuild(_item(number, text, acls[number % 2]) for number, text in enumerate(TEXTS * 3))
    parsed = parse_query(query)
    page = backend.search(parsed, terms=["internal"], filters=Filters(), offset=0, limit=50)
    searcher = _read_toc_retrying(backend._open().searcher)
    with searcher:
        reader = searcher.reader()
        weighted: dict[str, float] = {}
        for clause in parsed.clauses:
            for term, boost in _clause_terms(reader, clause).items():
                weighted[term] = weighted.get(term, 0.0) + boost
        visible = set(wq.Term("acl", "internal").docs(searcher)) & set(
            wq.And([_meaning(clause) for clause in parsed.clauses]).docs(searcher)
        )
        whoosh_ranked = searcher.search(
            wq.Or([wq.Term("words", term, boost=boost) for term, boost in weighted.items()]),
            filter=visible,
            limit=None,
            optimize=False,
        )
        expected = {int(hit["key"].partition(":")[2]): hit.score for hit in whoosh_ranked}
    assert page.total == len(visible) > 0
    assert {hit.object_id: hit.score for hit in page.hits} == pytest.approx(expected)
    assert all(number % 2 == 0 for number in expected)  # only the shared ones
    scores = [hit.score for hit in page.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.postgres
def test_postgres_applies_the_permission_filter_inside_the_text_index_scan() -> None:
    """One GIN index on (vector, acl): a partner's search finds exactly the entries
    shared with them, and the acl is a condition of the index scan, so entries they
    may not see are not read from the table."""
    from kb_documents.search.backends.postgres import TABLE, PostgresBackend, tsquery_literal

    backend = PostgresBackend()
    acls = (["internal"], ["internal", "partner:7"], ["user:3"], ["team:2", "user:4"])
    backend.rebuild(
        _item(number, f"forklift battery {number}", acls[number % 4]) for number in range(200)
    )

    def found(terms: list[str]) -> tuple[int, set[int]]:
        page = backend.search(
            parse_query("forklift"), terms=terms, filters=Filters(), offset=0, limit=500
        )
        return page.total, {hit.object_id for hit in page.hits}

    shared = {number for number in range(200) if number % 4 == 1}
    assert found(["partner:7"]) == (50, shared)
    assert found(["user:3"]) == (50, {number for number in range(200) if number % 4 == 2})
    assert found(["partner:8"]) == (0, set())
    assert found(["internal", "user:4", "team:2"])[0] == 150
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT id FROM {TABLE} "  # noqa: S608 -- our table name
            "WHERE acl && %s::varchar[] AND vector @@ %s::tsquery",
            [["partner:7"], tsquery_literal(parse_query("forklift"))],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "kb_searchentry_vector_acl_gin" in plan
    index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "acl &&" in index_condition and "vector @@" in index_condition


def test_the_cached_posting_weights_are_whooshs_over_many_blocks() -> None:
    """Whoosh stores postings in blocks of up to 128: the weights read a block at a
    time are the ones its matcher gives one by one (a title word weighs more)."""
    backend = WhooshBackend()
    backend.rebuild(
        _item(number, "forklift " * (number % 3) + "battery", ["internal"]) for number in range(400)
    )
    searcher = _read_toc_retrying(backend._open().searcher)
    with searcher:
        for leaf, _base in searcher.leaf_searchers():
            reader = leaf.reader()
            for term in ("forklift", "battery", "item", "~batteri"):
                one_by_one = {}
                postings = reader.postings("words", term)
                assert all(hasattr(postings, name) for name in _BLOCK_READER)
                while postings.is_active():
                    one_by_one[postings.id()] = postings.weight()
                    postings.next()
                assert len(one_by_one) > 128
                postings = _postings(reader, "words", term)
                read = dict(zip(postings.docnums.tolist(), postings.weights.tolist(), strict=True))
                assert read == one_by_one


def test_the_field_lengths_read_whole_are_whooshs_one_by_one() -> None:
    """BM25 divides by each document's length: read as Whoosh's whole length column
    they are what its reader gives a document at a time (short and long texts)."""
    backend = WhooshBackend()
    backend.rebuild(
        _item(number, "forklift battery " * (number % 40), ["internal"]) for number in range(300)
    )
    searcher = _read_toc_retrying(backend._open().searcher)
    with searcher:
        for leaf, _base in searcher.leaf_searchers():
            reader = leaf.reader()
            assert _length_column(reader, "words") is not None  # not the fallback
            one_by_one = [reader.doc_field_length(docnum, "words", 1) for docnum in range(300)]
            assert len(set(one_by_one)) > 20
            assert _field_lengths(reader, "words").tolist() == one_by_one


@pytest.mark.postgres
def test_postgres_ranks_title_matches_and_the_newest_of_a_very_common_query(monkeypatch) -> None:
    """A query matching more than RANKED_MATCHES items ranks that many (the best of
    them first): those with the word in their title, however old, then the newest.
    The others follow in that order, newest first: an old item matching the word only
    in its text does not come first however often it has it, but it is on a later
    page, the count is exact and every match is on exactly one page
    (docs/architecture.md, "Ranking a very common word")."""
    from kb_documents.search.backends import postgres

    backend = postgres.PostgresBackend()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    titled = {0: "Forklift forklift", 5: "Forklift"}  # 0 the oldest and the best match
    texts = {1: "forklift " * 30}  # old, and the word often, but only in the text
    backend.rebuild(
        IndexItem(
            key=f"note:{number}",
            kind="note",
            object_id=number,
            title=titled.get(number, f"Item {number}"),
            text=texts.get(number, "forklift battery"),
            acl=["internal"],
            account_id=None,
            author_id=None,
            channel="",
            created_at=start + timedelta(days=number),
        )
        for number in range(10)
    )

    def order() -> list[int]:
        pages = [
            backend.search(
                parse_query("forklift"), terms=["internal"], filters=Filters(), offset=o, limit=3
            )
            for o in range(0, 12, 3)
        ]
        assert [page.total for page in pages] == [10] * 4
        return [hit.object_id for page in pages for hit in page.hits]

    assert order()[:4] == [0, 5, 1, 9]  # few enough matches: all ranked
    monkeypatch.setattr(postgres, "RANKED_MATCHES", 4)
    assert order() == [0, 5, 9, 8, 7, 6, 4, 3, 2, 1]
    last = backend.search(
        parse_query("forklift"), terms=["internal"], filters=Filters(), offset=2, limit=5
    )
    assert [hit.object_id for hit in last.hits] == [9, 8, 7, 6, 4]  # across the boundary
    # Two words (the title hits counted on every match's row): the same pick.
    both = backend.search(
        parse_query("forklift battery"), terms=["internal"], filters=Filters(), offset=0, limit=9
    )
    assert both.total == 9
    assert [hit.object_id for hit in both.hits] == [0, 5, 9, 8, 7, 6, 4, 3, 2]
