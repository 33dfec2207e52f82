"""The faster ways of issue 10's third search round give what the straightforward
ways give: the same pages from PostgreSQL (the count and the page in one statement,
the newest matches picked as narrow rows), the same snippets (the written words
found by one regular expression instead of one by one)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb_documents.search.backends.base import Filters, IndexItem
from kb_documents.search.query import parse_query
from kb_documents.search.snippets import (
    SNIPPET_WHOLE_SCAN_CHARS,
    _hits,
    _hits_by_regex,
    _hits_word_by_word,
    make_snippet,
    make_snippets,
)

pytestmark = pytest.mark.django_db

WORDS = "forklift battery pallet Forklifts forklifting lift batterier Gabelstapler ø æ 发票已经 _x"


def _items(rng: random.Random, count: int) -> list[IndexItem]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    acls = (["internal"], ["internal", "partner:7"], ["user:3"], ["team:2"])
    return [
        IndexItem(
            key=f"note:{number}",
            kind="note",
            object_id=number,
            title=" ".join(rng.choices(WORDS.split(), k=rng.randint(1, 3))),
            text=" ".join(rng.choices(WORDS.split(), k=rng.randint(1, 12))),
            acl=acls[number % 4],
            account_id=None,
            author_id=None,
            channel="",
            # Some share a creation time: the order then falls back to the id.
            created_at=start + timedelta(hours=rng.randint(0, 30)),
        )
        for number in range(count)
    ]


def _straightforward_order(query: str, terms: list[str], ranked_matches: int) -> list[Any]:
    """Every match with its rank and its title hits, from one plain query that reads
    the title from the vector itself (its lexemes of weights A and C), not from the
    title vector the backend keeps; then the order the product promises
    (docs/architecture.md, "Ranking a very common word"): `ranked_matches` picked by
    title hits, then by recency, best first; then the others in the order of the pick."""
    from kb_documents.search.backends.postgres import (
        RANK_WEIGHTS,
        TABLE,
        title_tsqueries,
        tsquery_literal,
    )

    parsed = parse_query(query)
    tsquery = tsquery_literal(parsed)
    titles = title_tsqueries(parsed)
    title_hits = " + ".join(["(ts_filter(vector, '{a,c}') @@ %s::tsquery)::int"] * len(titles))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT object_id, ts_rank(%s::float4[], vector, %s::tsquery), created_at, id, "  # noqa: S608
            f"{title_hits or '0'} FROM {TABLE} WHERE acl && %s::varchar[] AND vector @@ %s::tsquery",
            [RANK_WEIGHTS, tsquery, *titles, terms, tsquery],
        )
        rows = cursor.fetchall()
    picked_first = sorted(rows, key=lambda row: (row[4], row[2], row[3]), reverse=True)
    ranked = sorted(
        picked_first[:ranked_matches], key=lambda row: (-row[1], -row[2].timestamp(), -row[3])
    )
    return [(row[0], pytest.approx(row[1])) for row in ranked + picked_first[ranked_matches:]]


@pytest.mark.postgres
def test_postgres_title_vector_holds_the_title_lexemes_of_the_vector() -> None:
    """What the backend writes as an entry's title vector is what migration 0005
    computed for the entries it found: the vector's lexemes of weights A and C (the
    title's forms and stems), without positions. Titles in several scripts, empty ones
    and words that repeat are among them; an update rewrites it."""
    from kb_documents.search.backends import postgres

    backend = postgres.PostgresBackend()
    items = _items(random.Random(5), 40)
    items[0].title = ""
    items[1].title = "Gabelstapler gabelstapler Łódź 发票已经 l'eau"
    backend.rebuild(items)
    items[2].title = "Batterier"
    backend.index([items[2]])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, title_vector::text, strip(ts_filter(vector, '{{a,c}}'))::text "  # noqa: S608
            f"FROM {postgres.TABLE} ORDER BY key"
        )
        rows = cursor.fetchall()
    assert len(rows) == 40
    assert [(key, written) for key, written, _ in rows] == [
        (key, wanted) for key, _, wanted in rows
    ]
    by_key = {key: written for key, written, _ in rows}
    assert by_key["note:0"] == ""
    assert "'~batteri'" in by_key["note:2"] and "'forklift'" not in by_key["note:2"]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query",
    ["forklift", "batteri", "forklift battery", "lift*", "发票", '"forklift battery"', "lift* ø"],
)
def test_postgres_pages_are_those_of_ranking_every_match_in_python(monkeypatch, query) -> None:
    from kb_documents.search.backends import postgres

    backend = postgres.PostgresBackend()
    backend.rebuild(_items(random.Random(query), 60))
    monkeypatch.setattr(postgres, "RANKED_MATCHES", 9)
    for terms in (["internal", "user:3"], ["partner:7"], ["team:2"], ["partner:8"]):
        expected = _straightforward_order(query, terms, 9)
        for limit in (1, 4, 7):
            for offset in range(0, len(expected) + 3):
                page = backend.search(
                    parse_query(query), terms=terms, filters=Filters(), offset=offset, limit=limit
                )
                assert page.total == len(expected)
                shown = [(hit.object_id, hit.score) for hit in page.hits]
                assert shown == expected[offset : offset + limit], (terms, limit, offset)


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["forklift", "forklift battery"])
def test_postgres_counts_and_ranks_a_page_in_one_statement_that_sorts_no_vectors(
    monkeypatch, query
) -> None:
    """Page one is one statement (no count of its own), and the sorts that pick the
    matches to rank carry narrow rows (their address, id, time and title hits), not
    their vectors: only the picked ones are read again and ranked. The pick of the
    newest matches is a bounded sort, since every match is counted before it."""
    from kb_documents.search.backends import postgres

    backend = postgres.PostgresBackend()
    backend.rebuild(_items(random.Random(1), 40))
    monkeypatch.setattr(postgres, "RANKED_MATCHES", 5)
    with CaptureQueriesContext(connection) as statements:
        page = backend.search(
            parse_query(query), terms=["internal"], filters=Filters(), offset=0, limit=3
        )
    assert page.total > 5 and len(page.hits) == 3
    # One statement, sent with its plan setting as one query string (one round trip).
    assert [s["sql"][: len(postgres.PLAN_SETTING)] for s in statements] == [postgres.PLAN_SETTING]
    read = statements[0]["sql"].removeprefix(postgres.PLAN_SETTING)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, VERBOSE) " + read)
        plan = [row[0] for row in cursor.fetchall()]
    sorts = [number for number, line in enumerate(plan) if "Sort Key:" in line]
    page_sort = [n for n in sorts if "ts_rank" in plan[n].split("Sort Key:")[1].split(",")[0]]
    assert len(page_sort) == 1
    picks = [n for n in sorts if n not in page_sort]
    assert picks
    for pick in picks:
        output = next(line for line in reversed(plan[:pick]) if "Output:" in line)
        assert "created_at" in output and ".vector" not in output, output
    # The count: a window right over the matches' scan. The sort above it, the pick of
    # the newest (by title hits first where it reads them), is a bounded one.
    nodes = [n for n, line in enumerate(plan) if "->" in line or n == 0]
    counts = [
        n
        for n, following in itertools.pairwise(nodes)
        if "WindowAgg" in plan[n] and "Bitmap Heap Scan" in plan[following]
    ]
    assert len(counts) == 1
    pick = max(n for n in picks if n < counts[0])
    assert "created_at DESC" in plan[pick]
    method = next(line for line in plan[pick:] if "Sort Method:" in line)
    assert "top-N heapsort" in method


def _query_and_texts(rng: random.Random) -> tuple[str, list[str]]:
    vocabulary = [
        "Faktura",
        "fakturaen",
        "fakturaer",
        "faktura-nr.",
        "refund",
        "Refunds",
        "refunding",
        "øl",
        "Øl",
        "Łódź",
        "lodz",
        "发票已经",
        "发票",
        "票",
        "e-mail",
        "email_x",
        "x_email",
        "café",
        "cafe",
        "CAFÉ",
        "a1b2",
        "the",
        "of",
        "and",
        "to",
        "<b>&amp;",
        "straße",
        "strasse",
    ]
    query = " ".join(rng.sample(["faktura", "refund*", "发票", "email", "cafe", "strasse", "l"], 2))
    texts = [
        " ".join(rng.choices(vocabulary, k=rng.randint(0, 60))) + rng.choice(["", ".", " "])
        for _ in range(30)
    ]
    return query, texts


@pytest.mark.parametrize("seed", range(40))
def test_snippet_hits_found_by_regex_are_those_found_word_by_word(seed: int) -> None:
    query, texts = _query_and_texts(random.Random(seed))
    by_regex, word_by_word = parse_query(query), parse_query(query)
    for text in texts:
        assert _hits_by_regex(text, by_regex) == _hits_word_by_word(text, word_by_word), text


@pytest.mark.parametrize("seed", range(10))
def test_a_pages_snippets_are_those_made_one_at_a_time(seed: int) -> None:
    """The service makes a page's snippets together (its words decided first): each
    is the snippet of its text alone, a long text's (read word by word) included."""
    query, texts = _query_and_texts(random.Random(seed))
    texts.append("words and refund faktura " * (SNIPPET_WHOLE_SCAN_CHARS // 10))
    together = make_snippets(texts, parse_query(query))
    assert together == [make_snippet(text, parse_query(query)) for text in texts]
    assert any("<mark>" in snippet for snippet in together)


def test_the_regex_scan_is_used_for_texts_up_to_its_limit_only(monkeypatch) -> None:
    """A long text is still read word by word, which stops early; the snippets of
    either way are the same."""
    used = []
    from kb_documents.search import snippets

    for name in ("_hits_by_regex", "_hits_word_by_word"):
        real = getattr(snippets, name)
        monkeypatch.setattr(
            snippets,
            name,
            lambda text, query, real=real, name=name: used.append(name) or real(text, query),
        )
    query = parse_query("refund")
    short = "a refund " * 10
    long = "words and refund " * (SNIPPET_WHOLE_SCAN_CHARS // 10)
    for text in (short, long):
        _hits(text, query)
    assert used == ["_hits_by_regex", "_hits_word_by_word"]
    assert _hits_by_regex(long, query) == _hits_word_by_word(long, parse_query("refund"))
    assert "<mark>refund</mark>" in make_snippet(long, query)


@pytest.mark.parametrize("query", ["faktura", "refund* cafe", "发票 email", "strasse l", "øl"])
def test_a_word_without_cjk_is_marked_as_its_tokens_would_mark_it(query: str) -> None:
    from kb_documents.search.snippets import _marker, _marks_by_tokens

    parsed = parse_query(query)
    exact, prefixes = parsed.highlight_terms()
    long_words = tuple(form for form in exact if len(form) >= 4)
    marked = _marker(parsed)
    words = (
        "Faktura fakturaen fakturaer nr refund Refunds refunding øl Øl ØL Łódź lodz 发票已经 "
        "发票 票 a发票b email EMAIL emails café cafe CAFÉ Cafés a1b2 straße STRASSE Straßen "
        "the L l ﬁle Ⅻ ½ " + "x" * 70 + " " + "é" * 65 + " \u0301"
    ).split()
    for word in words:
        assert marked(word) == _marks_by_tokens(word, exact, tuple(prefixes), long_words), word
