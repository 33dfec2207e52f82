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
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, KEYWORD, TEXT, Schema
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


def _clause_query(clause: Clause) -> wq.Query:
    if clause.kind == "phrase":
        return wq.Or(
            [wq.Phrase("title", list(clause.forms)), wq.Phrase("text", list(clause.forms))]
        )
    if clause.kind == "prefix":
        return wq.Or([wq.Prefix("title", clause.forms[0]), wq.Prefix("text", clause.forms[0])])
    exact, *stems = clause.forms
    parts: list[wq.Query] = [wq.Term("title", exact, boost=2.0), wq.Term("text", exact, boost=2.0)]
    for form in clause.forms:
        parts.append(wq.Term("stems", form))
    for stem in stems:
        parts.extend([wq.Term("title", stem), wq.Term("text", stem)])
    if clause.expands_to_prefix:
        parts.extend([wq.Prefix("title", exact, boost=0.2), wq.Prefix("text", exact, boost=0.2)])
    return wq.Or(parts)


def _any(field: str, values: Iterable[object]) -> wq.Query:
    return wq.Or([wq.Term(field, str(value)) for value in values])


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
        restrict: list[wq.Query] = [_any("acl", terms)]
        if filters.kinds:
            restrict.append(_any("kind", filters.kinds))
        if filters.account_ids:
            restrict.append(_any("account", filters.account_ids))
        if filters.author_ids:
            restrict.append(_any("author", filters.author_ids))
        if filters.channels:
            restrict.append(_any("channel", filters.channels))
        main: wq.Query = (
            wq.And([_clause_query(clause) for clause in query.clauses])
            if query.clauses
            else wq.Every()
        )
        # The permission filter is part of the query itself, with a constant score so
        # that it does not change the ranking. (Not Whoosh's `filter=` argument:
        # len(results) counts the query without it, which would leak a count.)
        restricted = wq.And([main, wq.ConstantScoreQuery(wq.And(restrict), score=0.0)])
        index = self._open()
        with _read_toc_retrying(index.searcher) as searcher:
            results = searcher.search(restricted, limit=offset + limit)
            total = len(results)
            hits = []
            for position in range(offset, min(offset + limit, results.scored_length())):
                stored = results[position]
                kind, _, object_id = stored["key"].partition(":")
                hits.append(Hit(kind, int(object_id), float(results.score(position) or 0.0)))
        return HitPage(total, hits)

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
