"""PostgreSQL full-text backend (SEARCH_BACKEND=postgres), for deployments on several
hosts: the index is a table in the shared database.

The terms come from kb_documents.search.analysis, like Whoosh's, and go in as
tsvector and tsquery literals, not through to_tsvector/to_tsquery: PostgreSQL's
parser would split them again by the database's locale (and may drop CJK entirely),
and `unaccent` may not be installable. Lexemes:

- ``form`` with weight A (title) or B (text), at the word's position (phrases work);
- ``~stem`` with weight C (title) or D (text), at the same position.

`title_vector` holds the title's forms and ``~stems`` again, without positions: the
pick of a very common query's matches reads it to put those with the query's words in
their title first (see `search`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from kb_documents.models import SearchEntry, SearchIndexState
from kb_documents.search.analysis import Token
from kb_documents.search.backends.base import (
    SCHEMA_VERSION,
    Filters,
    Hit,
    HitPage,
    IndexItem,
    Progress,
    SearchBackend,
)
from kb_documents.search.query import Clause, ParsedQuery

MAX_POSITION = 16383
# Title hits count most, then text, then stems: ts_rank's weights are {D, C, B, A}.
RANK_WEIGHTS = "{0.05, 0.1, 0.4, 1.0}"
UPGRADE_LOCK_KEY = 0x48554253  # "HUBS"
TABLE = SearchEntry._meta.db_table
REBUILD_BATCH = 200
# A query matching more of what the user may see than this ranks this many of its
# matches: those with the query's words in their title first, then the newest. The
# others follow in the same order; the count stays exact (a product choice:
# docs/architecture.md, "Ranking a very common word").
RANKED_MATCHES = 1_000


def _lexeme(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(title: list[Token], text: list[Token]) -> str:
    positions: dict[str, list[str]] = defaultdict(list)

    def add(tokens: list[Token], offset: int, form_weight: str, stem_weight: str) -> None:
        for token in tokens:
            position = min(token.position + offset, MAX_POSITION)
            positions[token.form].append(f"{position}{form_weight}")
            for stem in token.stems:
                positions["~" + stem].append(f"{position}{stem_weight}")

    add(title, 1, "A", "C")
    # A gap, so that a phrase never runs from the title into the text.
    add(text, len(title) + 10, "B", "D")
    # PostgreSQL keeps at most 256 positions per lexeme.
    return " ".join(f"{_lexeme(term)}:{','.join(spots[:256])}" for term, spots in positions.items())


def title_literal(title: list[Token]) -> str:
    """The title's lexemes of `tsvector_literal` (weights A and C) without positions."""
    lexemes = {token.form for token in title}
    lexemes.update("~" + stem for token in title for stem in token.stems)
    return " ".join(_lexeme(lexeme) for lexeme in sorted(lexemes))


def _clause_tsquery(clause: Clause) -> str:
    if clause.kind == "phrase":
        return "(" + " <-> ".join(_lexeme(form) for form in clause.forms) + ")"
    if clause.kind == "prefix":
        return f"{_lexeme(clause.forms[0])}:*"
    options = []
    for form in clause.forms:
        options.extend([_lexeme(form), _lexeme("~" + form)])
    if clause.expands_to_prefix:
        options.append(f"{_lexeme(clause.forms[0])}:*")
    return "(" + " | ".join(options) + ")"


def tsquery_literal(query: ParsedQuery) -> str:
    return " & ".join(_clause_tsquery(clause) for clause in query.clauses)


def title_tsqueries(query: ParsedQuery) -> list[str]:
    """One tsquery per clause that can be found in a title vector: words and prefixes,
    not phrases (the title vector has no positions)."""
    return [_clause_tsquery(clause) for clause in query.clauses if clause.kind != "phrase"]


class PostgresBackend(SearchBackend):
    name = "postgres"

    def _check_database(self) -> None:
        if connection.vendor != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL to point at PostgreSQL")

    def _upsert(self, cursor: Any, items: Sequence[IndexItem]) -> None:
        rows = []
        for item in items:
            title = item.title_tokens()
            rows.append(
                (
                    item.key,
                    item.kind,
                    item.object_id,
                    item.acl,
                    item.account_id,
                    item.author_id,
                    item.channel,
                    item.created_at,
                    tsvector_literal(title, item.text_tokens()),
                    title_literal(title),
                    SCHEMA_VERSION,
                )
            )
        cursor.executemany(
            f"""
            INSERT INTO {TABLE}
                (key, kind, object_id, acl, account_id, author_id, channel, created_at,
                 vector, title_vector, schema_version)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector, %s::tsvector, %s)
            ON CONFLICT (key) DO UPDATE SET
                kind = EXCLUDED.kind, object_id = EXCLUDED.object_id, acl = EXCLUDED.acl,
                account_id = EXCLUDED.account_id, author_id = EXCLUDED.author_id,
                channel = EXCLUDED.channel, created_at = EXCLUDED.created_at,
                vector = EXCLUDED.vector, title_vector = EXCLUDED.title_vector,
                schema_version = EXCLUDED.schema_version
            """,  # noqa: S608 -- the table name is ours, every value is a parameter
            rows,
        )

    def index(self, items: Sequence[IndexItem]) -> None:
        self._check_database()
        if items:
            with transaction.atomic(), connection.cursor() as cursor:
                self._upsert(cursor, items)

    def delete(self, keys: Sequence[str]) -> None:
        self._check_database()
        if keys:
            SearchEntry.objects.filter(key__in=list(keys)).delete()

    def rebuild(self, items: Iterable[IndexItem], progress: Progress | None = None) -> int:
        """In one transaction: readers see the old index until the new one commits."""
        self._check_database()
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
            for batch in _batches(items, REBUILD_BATCH):
                self._upsert(cursor, batch)
                count += len(batch)
                if progress:
                    progress(count)
            SearchIndexState.objects.update_or_create(
                backend=self.name, defaults={"schema_version": SCHEMA_VERSION}
            )
            # Every row is new: without fresh statistics the planner guesses the
            # acl and vector selectivities until autovacuum comes by.
            cursor.execute(f"ANALYZE {TABLE}")
        return count

    def is_current(self) -> bool:
        self._check_database()
        return SearchIndexState.objects.filter(
            backend=self.name, schema_version=SCHEMA_VERSION
        ).exists()

    @contextmanager
    def upgrade_lock(self) -> Iterator[None]:
        self._check_database()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [UPGRADE_LOCK_KEY])
            yield

    def search(
        self, query: ParsedQuery, *, terms: list[str], filters: Filters, offset: int, limit: int
    ) -> HitPage:
        self._check_database()
        if not terms or limit <= 0:
            return HitPage(0, [])
        # The permission filter is a condition of the same query (acl && terms), so
        # the count and every page hold only what the user may see. The GIN index
        # on (vector, acl) (migration 0003) applies it inside the index scan, with
        # the text match: rows the user may not see are not read.
        conditions = ["acl && %s::varchar[]"]
        params: list[Any] = [terms]
        for column, values in (
            ("kind", filters.kinds),
            ("account_id", filters.account_ids),
            ("author_id", filters.author_ids),
            ("channel", filters.channels),
        ):
            if values:
                conditions.append(f"{column} = ANY(%s)")
                params.append(list(values))
        conditions_without_text = list(conditions)
        params_without_text = list(params)
        title_queries: list[str] = []
        if query.clauses:
            tsquery = tsquery_literal(query)
            conditions.append("vector @@ %s::tsquery")
            params.append(tsquery)
            score_sql = "ts_rank(%s::float4[], vector, %s::tsquery)"
            score_params: list[Any] = [RANK_WEIGHTS, tsquery]
            title_queries = title_tsqueries(query)
        else:
            score_sql, score_params = "0", []
        where = " AND ".join(conditions)
        # How many of the query's clauses a match has in its title: the first key of
        # the order in which matches are picked for ranking and listed past them.
        title_hits_sql = (
            " + ".join(["(title_vector @@ %s::tsquery)::int"] * len(title_queries)) or "0"
        )
        with connection.cursor() as cursor:
            # The planner prices `@@` on a row as cheap and, for a common word,
            # prefers reading the whole table to the text index: several times
            # slower when the vectors are large (19 ms against 5 ms for one word at
            # 20,000 notes). Each statement goes with its setting (_run).
            run = functools.partial(_run, cursor, index_only=bool(query.clauses))
            total: int | None = None
            rows: list[tuple[str, int, float]] = []
            if offset < RANKED_MATCHES:
                # One statement for the exact count and the page. Its inner part finds
                # the matches (the text index answers `@@`, no vector is read), counts
                # them all (a window over narrow rows, before the sort, so that the sort
                # stays a bounded top-N one) and picks RANKED_MATCHES of them as
                # (ctid, id, created_at) only, so that no sort carries a vector: those
                # with the most of the query's words in their title first, then the
                # newest. Only the picked ones are read again, by their row address
                # (ctid, the same snapshot), and ranked. They are all the matches unless
                # the query is very common.
                if len(query.clauses) == 1 and len(title_queries) == 1:
                    pick_sql, pick_params = _pick_one_word(
                        where,
                        params,
                        conditions_without_text,
                        params_without_text,
                        title_queries[0],
                    )
                else:
                    pick_sql, pick_params = _pick_by_title_hits(
                        where, params, title_hits_sql, title_queries
                    )
                run(
                    f"SELECT entry.kind, entry.object_id, {score_sql} AS score, "  # noqa: S608
                    f"picked.total FROM ({pick_sql}) AS picked "
                    f"JOIN {TABLE} AS entry ON entry.ctid = picked.address "
                    "ORDER BY score DESC, picked.created_at DESC, picked.id DESC "
                    "LIMIT %s OFFSET %s",
                    [*score_params, *pick_params, limit, offset],
                )
                found = cursor.fetchall()
                if found:
                    total = found[0][3]
                    rows.extend((kind, object_id, score) for kind, object_id, score, _ in found)
            if total is None:
                # Past the ranked matches, or past the end: the count alone.
                run(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)  # noqa: S608
                total = cursor.fetchone()[0]
            ranked = min(total, RANKED_MATCHES)
            if offset >= total:
                return HitPage(total, [])
            if offset + limit > ranked and total > ranked:
                # Past the ranked ones: the other matches in the order of the pick
                # (each shown with its own rank), so every match is on some page once.
                start = max(offset, ranked)
                run(
                    f"SELECT kind, object_id, {score_sql} AS score FROM ("  # noqa: S608
                    f"SELECT kind, object_id, created_at, id, vector, {title_hits_sql} AS hits "
                    f"FROM {TABLE} WHERE {where} "
                    "ORDER BY hits DESC, created_at DESC, id DESC LIMIT %s OFFSET %s"
                    ") AS rest ORDER BY hits DESC, created_at DESC, id DESC",
                    [*score_params, *title_queries, *params, offset + limit - start, start],
                )
                rows.extend(cursor.fetchall())
        hits = [Hit(kind, object_id, float(score)) for kind, object_id, score in rows]
        return HitPage(total, hits)

    def health(self) -> dict[str, Any]:
        self._check_database()
        return {
            "status": "ok",
            "backend": self.name,
            "schema_version": SCHEMA_VERSION,
            "current": self.is_current(),
            "documents": SearchEntry.objects.count(),
        }


def _pick_by_title_hits(
    where: str, params: list[Any], title_hits_sql: str, title_queries: list[str]
) -> tuple[str, list[Any]]:
    """The picked matches (address, id, created_at, total), their title hits counted on
    every match's row: for queries of several clauses (fewer matches, since all must
    match) and those with no word to find in a title."""
    sql = (
        "SELECT address, id, created_at, total FROM ("  # noqa: S608
        f"SELECT ctid AS address, id, created_at, {title_hits_sql} AS hits, "
        f"count(*) OVER () AS total FROM {TABLE} WHERE {where}"
        ") AS matches ORDER BY hits DESC, created_at DESC, id DESC LIMIT %s"
    )
    return sql, [*title_queries, *params, RANKED_MATCHES]


def _pick_one_word(
    where: str,
    params: list[Any],
    conditions_without_text: list[str],
    params_without_text: list[Any],
    title_query: str,
) -> tuple[str, list[Any]]:
    """The same pick for a query of one word (or prefix), the common case, without a
    check on every match's row: the newest matches, and apart from them those with the
    word in their title, found through the title's own index (a few hundred where the
    word is in 20,000 texts). A title holding the word is a match (its lexemes are
    the vector's), so the union holds every title match the pick could want and
    enough of the newest to fill it; the ones found both ways count once, as title
    matches. The window counting the matches sits in the newest branch: the total of
    the outer window is that count, whichever rows the limit keeps."""
    title_where = " AND ".join([*conditions_without_text, "title_vector @@ %s::tsquery"])
    sql = (
        "SELECT address, id, created_at, max(hits) AS hits, "  # noqa: S608
        "max(max(total)) OVER () AS total FROM ("
        "(SELECT address, id, created_at, 0 AS hits, total FROM ("
        f"SELECT ctid AS address, id, created_at, count(*) OVER () AS total FROM {TABLE} "
        f"WHERE {where}) AS matches ORDER BY created_at DESC, id DESC LIMIT %s) "
        "UNION ALL "
        f"(SELECT ctid, id, created_at, 1, NULL FROM {TABLE} WHERE {title_where} "
        "ORDER BY created_at DESC, id DESC LIMIT %s)"
        ") AS candidates GROUP BY address, id, created_at "
        "ORDER BY hits DESC, created_at DESC, id DESC LIMIT %s"
    )
    return sql, [
        *params,
        RANKED_MATCHES,
        *params_without_text,
        title_query,
        RANKED_MATCHES,
        RANKED_MATCHES,
    ]


# Sent in front of a search statement that matches text (see _run).
PLAN_SETTING = "SET LOCAL enable_seqscan = off; "


def _run(cursor: Any, sql: str, params: list[Any], *, index_only: bool) -> None:
    """One search statement, for text with the planner told to use the text index:
    the setting and the statement go as one query string, which PostgreSQL runs as
    one (implicit) transaction, so SET LOCAL holds for the statement and ends with
    it. One round trip, where a transaction of its own took four (begin, setting,
    statement, commit): about a millisecond of a query under load. This relies on
    Django's client-side parameter binding (psycopg's simple query protocol, the
    project's setting); a search inside a caller's transaction keeps the setting
    until that transaction ends, as it did before."""
    if not index_only:
        cursor.execute(sql, params)
        return
    cursor.execute(PLAN_SETTING + sql, params)
    cursor.nextset()  # past the setting's result, to the statement's rows


def _batches(items: Iterable[IndexItem], size: int) -> Iterator[list[IndexItem]]:
    batch: list[IndexItem] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
