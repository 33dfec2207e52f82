"""Whoosh backend: the embedded default, an index directory under HUB_DATA_DIR.

Several processes (Daphne workers, mail_sync, management commands) may write: every
write takes Whoosh's index lock (an fcntl lock file, so it holds across processes)
and waits for it up to WRITE_LOCK_TIMEOUT seconds. Readers never wait: a searcher
reads the last committed table of contents. A commit in another process deletes the
table it replaces, so a reader that listed the directory just before that commit can
find its file gone: reads of the table retry (_read_toc_retrying) instead of failing.

Terms arrive pre-analyzed (kb_documents.search.analysis), space-separated, so the
fields only split on spaces: the index holds exactly what the PostgreSQL backend holds.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.writing import CLEAR

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

logger = logging.getLogger(__name__)

WRITE_LOCK_TIMEOUT = 15.0
REBUILD_BATCH = 500


def make_schema() -> Schema:
    words = SpaceSeparatedTokenizer()
    return Schema(
        key=ID(stored=True, unique=True),
        kind=ID(stored=True),
        acl=KEYWORD(lowercase=False),
        account=ID,
        author=ID,
        channel=ID,
        title=TEXT(analyzer=words, phrase=True, field_boost=3.0),
        text=TEXT(analyzer=words, phrase=True),
        stems=TEXT(analyzer=words, phrase=False, field_boost=0.4),
    )


def _fields(item: IndexItem) -> dict[str, str]:
    title, text = item.title_tokens(), item.text_tokens()
    stems = [stem for token in (*title, *text) for stem in token.stems]
    return {
        "key": item.key,
        "kind": item.kind,
        "acl": " ".join(item.acl),
        "account": str(item.account_id or ""),
        "author": str(item.author_id or ""),
        "channel": item.channel,
        "title": " ".join(token.form for token in title),
        "text": " ".join(token.form for token in text),
        "stems": " ".join(stems),
    }


Weighted = tuple[str, str, float]  # field, term or prefix, boost


def _clause_terms(clause: Clause) -> tuple[list[Weighted], list[Weighted]]:
    """(terms, prefixes): a word or prefix clause matches a document holding any of them.
    Both the ranked query and the exact count (_matching_docs) are made from this list."""
    if clause.kind == "prefix":
        return [], [("title", clause.forms[0], 1.0), ("text", clause.forms[0], 1.0)]
    exact, *stems = clause.forms
    terms = [("title", exact, 2.0), ("text", exact, 2.0)]
    terms.extend(("stems", form, 1.0) for form in clause.forms)
    for stem in stems:
        terms.extend([("title", stem, 1.0), ("text", stem, 1.0)])
    prefixes = [("title", exact, 0.2), ("text", exact, 0.2)] if clause.expands_to_prefix else []
    return terms, prefixes


def _clause_query(clause: Clause, reader: IndexReader | None = None) -> wq.Query:
    """The ranked query of one clause. Given the reader, prefixes are expanded to the
    words the index holds and every term appears once, with the sum of its boosts (the
    same score: BM25 grows linearly with a term's boost), and terms the index does not
    hold are left out: a word's exact form, its stems and its prefix mostly name the
    same few posting lists, and each one left in is walked again for every match."""
    if clause.kind == "phrase":
        return wq.Or(
            [wq.Phrase("title", list(clause.forms)), wq.Phrase("text", list(clause.forms))]
        )
    terms, prefixes = _clause_terms(clause)
    if reader is None:
        return wq.Or(
            [wq.Term(field, text, boost=boost) for field, text, boost in terms]
            + [wq.Prefix(field, prefix, boost=boost) for field, prefix, boost in prefixes]
        )
    boosts: dict[tuple[str, str], float] = {}
    for field, text, boost in terms:
        if (field, text) in reader:
            boosts[field, text] = boosts.get((field, text), 0.0) + boost
    for field, prefix, boost in prefixes:
        for word in reader.expand_prefix(field, prefix):
            text = word.decode("utf-8") if isinstance(word, bytes) else word
            boosts[field, text] = boosts.get((field, text), 0.0) + boost
    if not boosts:
        return wq.NullQuery
    return wq.Or([wq.Term(field, text, boost=boost) for (field, text), boost in boosts.items()])


def _posting_docs(reader: IndexReader, field: str, text: str | bytes) -> Iterable[int]:
    """The segment-local docnums holding the term (deleted documents left out)."""
    try:
        return reader.postings(field, text).all_ids()
    except TermNotFound:
        return ()


def _clause_docs(leaf: Searcher, reader: IndexReader, clause: Clause, cache: TermDocs) -> set[int]:
    if clause.kind == "phrase":
        return set(_clause_query(clause).docs(leaf))
    terms, prefixes = _clause_terms(clause)
    docs: set[int] = set()
    for field, text, _boost in terms:
        docs.update(cache.get(reader, field, text))
    for field, prefix, _boost in prefixes:
        for word in reader.expand_prefix(field, prefix):
            text = word.decode("utf-8") if isinstance(word, bytes) else word
            docs.update(cache.get(reader, field, text))
    return docs


def _matching_docs(leaf: Searcher, query: ParsedQuery, cache: TermDocs) -> set[int]:
    """The segment-local docnums matching every clause, unranked (sets, not matchers:
    several times faster than walking Whoosh's matcher tree for an exact count)."""
    reader = leaf.reader()
    if not query.clauses:
        # (Not reader.all_doc_ids(): a segment reader's per-document store does not
        # know the segment's deletions.)
        deleted = reader.is_deleted
        return {docnum for docnum in range(reader.doc_count_all()) if not deleted(docnum)}
    found: set[int] | None = None
    for clause in query.clauses:
        docs = _clause_docs(leaf, reader, clause, cache)
        found = docs if found is None else found & docs
        if not found:
            return set()
    if found and reader.has_deletions():
        # The cached posting lists may predate deletions in this segment.
        found -= reader.deleted_docs_set
    return found or set()


# About 63 bytes a docnum in a frozenset: at most ~160 MB of posting lists per process.
TERM_DOCS_BUDGET = 2_500_000


class TermDocs:
    """The docnums of one term (``acl:internal``, ``kind:note``, ``text:faktura``) in
    one segment, kept between queries, the least recently used dropped first beyond
    TERM_DOCS_BUDGET docnums. A Whoosh segment never changes once written (an update
    adds the document to a new segment and marks the old docnum deleted), so an entry
    stays right as long as its segment exists; entries of merged-away segments age
    out. A docnum deleted later stays in its entry, harmlessly: deletions are taken
    out of every count (see _matching_docs) and every ranked hit (Whoosh's matchers)."""

    def __init__(self, budget: int = TERM_DOCS_BUDGET) -> None:
        self.budget = budget
        self.held = 0
        self._entries: OrderedDict[tuple[str, str, str], frozenset[int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader: IndexReader, field: str, value: str) -> frozenset[int]:
        segment = reader.segment()
        if segment is None:
            return frozenset(_posting_docs(reader, field, value))
        key = (segment.segment_id(), field, value)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        found = frozenset(_posting_docs(reader, field, value))
        with self._lock:
            if key not in self._entries:
                self._entries[key] = found
                self.held += len(found)
            while self.held > self.budget and len(self._entries) > 1:
                _key, dropped = self._entries.popitem(last=False)
                self.held -= len(dropped)
        return found


_T = TypeVar("_T")
TOC_READ_ATTEMPTS = 20


def _read_toc_retrying(read: Callable[[], _T]) -> _T:
    """Run `read`, which opens the index's table of contents, again when another
    process's commit removed the file between Whoosh listing and opening it."""
    for attempt in range(TOC_READ_ATTEMPTS):
        try:
            return read()
        except FileNotFoundError:
            if attempt == TOC_READ_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or settings.SEARCH_INDEX_DIR)
        self.indexname = f"hub_v{SCHEMA_VERSION}"
        self._index: whoosh_index.Index | None = None
        # One open searcher per thread (Whoosh's readers are not shared across
        # threads), refreshed when another commit, in any process, made a new
        # generation of the index.
        self._local = threading.local()
        self.term_docs = TermDocs()

    # -- the index itself -------------------------------------------------------

    @contextmanager
    def _creation_lock(self):  # type: ignore[no-untyped-def]
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "create.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def _built_marker(self) -> Path:
        return self.directory / f"{self.indexname}.built"

    def is_current(self) -> bool:
        # The marker is written after a complete build: an index whose rebuild died
        # half-way is not current.
        return self._built_marker.exists() and self._exists()

    def _exists(self) -> bool:
        return _read_toc_retrying(
            lambda: whoosh_index.exists_in(str(self.directory), indexname=self.indexname)
        )

    @contextmanager
    def upgrade_lock(self):  # type: ignore[no-untyped-def]
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "upgrade.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open(self) -> whoosh_index.Index:
        if self._index is None:
            if not self._exists():
                with self._creation_lock():
                    if not self._exists():
                        whoosh_index.create_in(
                            str(self.directory), make_schema(), indexname=self.indexname
                        )
            self._index = _read_toc_retrying(
                lambda: whoosh_index.open_dir(str(self.directory), indexname=self.indexname)
            )
        return self._index

    def _searcher(self) -> Searcher:
        """This thread's searcher on the latest committed generation: checking costs a
        directory listing, and the searcher is reopened only after a commit."""
        index = self._open()
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        if searcher is not None and searcher.up_to_date():
            return searcher
        # A new searcher, not searcher.refresh(): refresh reuses the readers of
        # unchanged segments with their old deletions, so a deleted document would
        # still be found.
        fresh = _read_toc_retrying(index.searcher)
        if searcher is not None:
            searcher.close()
        self._local.searcher = fresh
        return fresh

    def close(self) -> None:
        """Closes this thread's searcher (others close when their thread's state goes)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    def _writer(self):  # type: ignore[no-untyped-def]
        return self._open().writer(timeout=WRITE_LOCK_TIMEOUT, delay=0.05)

    # -- writes -----------------------------------------------------------------

    def index(self, items: Sequence[IndexItem]) -> None:
        if not items:
            return
        writer = self._writer()
        try:
            for item in items:
                writer.update_document(**_fields(item))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        writer = self._writer()
        try:
            for key in keys:
                writer.delete_by_term("key", key)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, items: Iterable[IndexItem], progress: Progress | None = None) -> int:
        """One writer adds everything and commits with CLEAR: searchers see the old
        index until the new one is complete."""
        writer = self._writer()
        count = 0
        try:
            for item in items:
                writer.add_document(**_fields(item))
                count += 1
                if progress:
                    progress(count)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR)
        self._built_marker.touch()
        self._remove_other_versions()
        return count

    def _remove_other_versions(self) -> None:
        """Files of indexes built with an older schema version."""
        current = (f"_{self.indexname}_", f"{self.indexname}_")
        for path in self.directory.glob("*hub_v*"):
            if not path.name.startswith(current) and path.name != self._built_marker.name:
                path.unlink(missing_ok=True)

    # -- reads ------------------------------------------------------------------

    def search(
        self, query: ParsedQuery, *, terms: list[str], filters: Filters, offset: int, limit: int
    ) -> HitPage:
        if not terms or limit <= 0:
            return HitPage(0, [])
        searcher = self._searcher()
        visible = self._visible_docs(searcher, query, terms, filters)
        if len(visible) <= offset:
            return HitPage(len(visible), [])
        # Ranking sees only the visible documents (Whoosh's `filter=`, a docnum set);
        # the count is that set's size. (Whoosh's own count of a top-N search drops
        # matches its optimizations skipped.) Every visible document matches every
        # clause, so ranking them by the union of the clauses' terms gives each the
        # score the intersection would (both add up the matching terms' scores), and a
        # union is walked with Whoosh's block-quality skipping, an intersection of
        # unions is not.
        reader = searcher.reader()
        ranked: list[wq.Query] = []
        for clause in query.clauses:
            part = _clause_query(clause, reader)
            ranked.extend(part.subqueries if isinstance(part, wq.Or) else [part])
        main = wq.Or(ranked) if ranked else wq.Every()
        results = searcher.search(main, limit=offset + limit, filter=visible)
        hits = []
        for position in range(offset, min(offset + limit, results.scored_length())):
            stored = results[position]
            kind, _, object_id = stored["key"].partition(":")
            hits.append(Hit(kind, int(object_id), float(results.score(position) or 0.0)))
        return HitPage(len(visible), hits)

    def _visible_docs(
        self, searcher: Searcher, query: ParsedQuery, terms: list[str], filters: Filters
    ) -> set[int]:
        """The docnums matching the query that the user may see and the filters allow:
        the matches of each segment, kept where they carry one of the user's terms (and
        one value of each filter), by the cached sets of those terms."""
        restrictions = [("acl", list(terms))]
        for field, values in (
            ("kind", filters.kinds),
            ("account", filters.account_ids),
            ("author", filters.author_ids),
            ("channel", filters.channels),
        ):
            if values:
                restrictions.append((field, [str(value) for value in values]))
        visible: set[int] = set()
        for leaf, base in searcher.leaf_searchers():
            reader = leaf.reader()
            docs = _matching_docs(leaf, query, self.term_docs)
            for field, values in restrictions:
                if not docs:
                    break
                kept: set[int] = set()
                for value in values:
                    kept.update(docs & self.term_docs.get(reader, field, value))
                docs = kept
            visible.update(docs if base == 0 else (base + docnum for docnum in docs))
        return visible

    def health(self) -> dict[str, Any]:
        index = self._open()
        with _read_toc_retrying(index.searcher) as searcher:
            documents = searcher.doc_count()
        return {
            "status": "ok",
            "backend": self.name,
            "schema_version": SCHEMA_VERSION,
            "documents": documents,
        }
