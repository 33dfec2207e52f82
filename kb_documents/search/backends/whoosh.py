"""Whoosh backend: the embedded default, an index directory under HUB_DATA_DIR.

Several processes (Daphne workers, mail_sync, management commands) may write: every
write takes Whoosh's index lock (an fcntl lock file, so it holds across processes)
and waits for it up to WRITE_LOCK_TIMEOUT seconds. Readers never wait: a searcher
reads the last committed table of contents. A commit in another process deletes the
table it replaces, so a reader that listed the directory just before that commit can
find its file gone: reads of the table retry (_read_toc_retrying) instead of failing.

Terms arrive pre-analyzed (kb_documents.search.analysis) and go into one field as
they are (PreAnalyzed): the index holds exactly what the PostgreSQL backend holds.
"""

from __future__ import annotations

import fcntl
import heapq
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from django.conf import settings
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Analyzer, Token
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader, _lenfield
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length
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
# The layout of this backend's fields, part of the index name with SCHEMA_VERSION:
# a new layout is a new index, built on first use like a new schema version (2: one
# "words" field instead of title, text and stems; 3: "words" without positions, and
# the forms' positions in "phrases").
FIELDS_VERSION = 3
REBUILD_BATCH = 500


# One field, "words", holds a text's word forms and, at the same positions, their
# stems marked with "~" (as in the PostgreSQL vector): a query word then names a
# handful of posting lists, not one per field. Where a word stood (title or text)
# and what it is (form or stem) is the posting's weight, as PostgreSQL's lexeme
# weights A/B/C/D: the title counts three times, a stem less than a form. It keeps
# no positions: a posting is a docnum and a weight, which is what matching, counting
# and ranking read, and a block of postings with their positions took several times
# as long to decompress and unpickle (most of a common word's first query in a
# process). Phrases are checked in "phrases", which holds the forms at their
# positions.
TITLE_FORM, TITLE_STEM = 3.0, 1.2
TEXT_FORM, TEXT_STEM = 1.0, 0.4
# Positions between the title and the text, so that no phrase runs across them.
TITLE_GAP = 10
_SECTION_BREAK = "\x1f"


class PreAnalyzed(Analyzer):
    """The analyzer of the "words" field: its value is already analyzed (see
    _words_value): one group per position, the form and its "~stems" separated by
    tabs, groups by spaces, the title's before a section break and the text's
    after it. Yields each with its position and its weight; with `forms_only` (the
    "phrases" field, the same value) the forms only."""

    def __init__(self, forms_only: bool = False) -> None:
        self.forms_only = forms_only

    def __call__(  # type: ignore[override]
        self, value: str, positions: bool = False, mode: str = "", **kwargs: Any
    ) -> Iterable[Token]:
        token = Token(positions=positions, mode=mode, **kwargs)
        form_weight, stem_weight = TITLE_FORM, TITLE_STEM
        position = 0
        for group in value.split(" "):
            if not group:
                continue
            if group == _SECTION_BREAK:
                form_weight, stem_weight = TEXT_FORM, TEXT_STEM
                position += TITLE_GAP
                continue
            terms = group.split("\t")
            for n, term in enumerate(terms[:1] if self.forms_only else terms):
                token.text = term
                token.pos = position
                token.boost = stem_weight if n else form_weight
                token.stopped = False
                yield token
            position += 1


def make_schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),
        kind=ID(stored=True),
        acl=KEYWORD(lowercase=False),
        account=ID,
        author=ID,
        channel=ID,
        words=TEXT(analyzer=PreAnalyzed(), phrase=False),
        phrases=TEXT(analyzer=PreAnalyzed(forms_only=True), phrase=True),
    )


def _group(token: Any) -> str:
    return "\t".join((token.form, *(STEM_MARK + stem for stem in token.stems)))


def _words_value(item: IndexItem) -> str:
    title = " ".join(_group(token) for token in item.title_tokens())
    text = " ".join(_group(token) for token in item.text_tokens())
    return f"{title} {_SECTION_BREAK} {text}"


def _fields(item: IndexItem) -> dict[str, str]:
    words = _words_value(item)
    return {
        "key": item.key,
        "kind": item.kind,
        "acl": " ".join(item.acl),
        "account": str(item.account_id or ""),
        "author": str(item.author_id or ""),
        "channel": item.channel,
        "words": words,
        "phrases": words,
    }


STEM_MARK = "~"
# A query word's exact form counts twice its stems and any stem of the text; the
# longer words it is a prefix of, weakly.
EXACT_BOOST, STEM_BOOST, PREFIX_BOOST = 2.0, 1.0, 0.2


def _clause_terms(reader: IndexReader, clause: Clause) -> dict[str, float]:
    """The terms of the "words" field a clause names, each once with the sum of its
    boosts, only those the index holds: a document matches a word or prefix clause
    when it holds any of them. Both the match sets and the ranking are made from
    this. A phrase's terms are its words (the phrase itself is checked apart, in
    the "phrases" field)."""
    boosts: dict[str, float] = {}

    def add(term: str, boost: float) -> None:
        if ("words", term) in reader:
            boosts[term] = boosts.get(term, 0.0) + boost

    def add_prefix(prefix: str, boost: float) -> None:
        for word in reader.expand_prefix("words", prefix):
            term = word.decode("utf-8") if isinstance(word, bytes) else word
            boosts[term] = boosts.get(term, 0.0) + boost

    if clause.kind == "phrase":
        for form in clause.forms:
            add(form, STEM_BOOST)
    elif clause.kind == "prefix":
        add_prefix(clause.forms[0], STEM_BOOST)
    else:
        exact, *stems = clause.forms
        add(exact, EXACT_BOOST)
        for stem in stems:
            add(stem, STEM_BOOST)
        for form in clause.forms:
            add(STEM_MARK + form, STEM_BOOST)
        if clause.expands_to_prefix:
            add_prefix(exact, PREFIX_BOOST)
    return boosts


def _postings(reader: IndexReader, field: str, text: str) -> Postings:
    """The segment-local docnums holding the term, ascending, with the term's weight
    in each (deleted documents included: they are taken out where counted and
    ranked)."""
    try:
        postings = reader.postings(field, text)
    except TermNotFound:
        return _NO_POSTINGS
    if all(hasattr(postings, name) for name in _BLOCK_READER) and not postings._byteids:
        return _postings_by_block(postings)
    # (Not items_as("weight"): with positions stored it gives the number of
    # occurrences, not their summed weights.)
    docnums: list[Any] = []
    weights: list[Any] = []
    while postings.is_active():
        docnums.append(postings.id())
        weights.append(postings.weight())
        postings.next()
    return Postings(np.array(docnums, dtype=np.int64), np.array(weights, dtype=np.float64))


def _postings_by_block(postings: Any) -> Postings:
    """Whoosh's own posting reader decodes a block (up to 128 postings) at a time:
    taking its weights whole avoids two Python calls a posting. Its docnums are
    stored as differences, each block's first one from 0 (the docnum itself), which
    Whoosh adds up in a Python generator, a step a posting, most of a common word's
    first read: here they are added up in one cumulative sum over all the blocks,
    each block's first difference made relative to the previous block's last docnum
    (its header's maximum)."""
    differences: list[Any] = []
    weights: list[Any] = []
    block_starts: list[int] = []
    block_ends: list[int] = []
    while postings.is_active():
        postings._read_weights()  # reads the block: (differences, weights, positions)
        block_starts.append(len(differences))
        block_ends.append(postings.block_max_id())
        differences.extend(postings._data[0])
        weights.extend(postings._weights)
        postings._next_block()
    steps = np.array(differences, dtype=np.int64)
    if len(block_starts) > 1:
        steps[block_starts[1:]] -= np.array(block_ends[:-1], dtype=np.int64)
    return Postings(np.cumsum(steps), np.array(weights, dtype=np.float64))


# What _postings reads of Whoosh's W3LeafMatcher (Whoosh-Reloaded 2.7).
_BLOCK_READER = ("_read_weights", "_data", "_weights", "_byteids", "block_max_id", "_next_block")


def _mask(size: int, docnums: Any) -> np.ndarray:
    """A segment's documents as booleans, True at `docnums`."""
    mask = np.zeros(size, dtype=bool)
    mask[docnums] = True
    return mask


def _clause_docs(
    leaf: Searcher, reader: IndexReader, clause: Clause, terms: dict[str, float], cache: TermDocs
) -> np.ndarray:
    size = reader.doc_count_all()
    if clause.kind == "phrase":
        found = list(wq.Phrase("phrases", list(clause.forms)).docs(leaf))
        return _mask(size, np.array(found, dtype=np.int64))
    docs = np.zeros(size, dtype=bool)
    for term in terms:
        docs[cache.get(reader, "words", term).docnums] = True
    return docs


def _matching_docs(
    leaf: Searcher, query: ParsedQuery, terms: list[dict[str, float]], cache: TermDocs
) -> np.ndarray:
    """The segment's documents matching every clause, as a boolean mask by docnum,
    unranked: unions and intersections of the cached posting lists, in numpy (a
    common word's ~10,000 matches in well under a millisecond)."""
    reader = leaf.reader()
    size = reader.doc_count_all()
    if not query.clauses:
        # (Not reader.all_doc_ids(): a segment reader's per-document store does not
        # know the segment's deletions.)
        found = np.ones(size, dtype=bool)
    else:
        found = None
        for clause, clause_terms in zip(query.clauses, terms, strict=True):
            docs = _clause_docs(leaf, reader, clause, clause_terms, cache)
            found = docs if found is None else found & docs
    if reader.has_deletions():
        # The cached posting lists may predate deletions in this segment.
        deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
        found[deleted[deleted < size]] = False
    return found


# BM25's parameters, Whoosh's defaults.
BM25_B, BM25_K1 = 0.75, 1.2


def _ranked(
    searcher: Searcher,
    leaf: Searcher,
    docs: np.ndarray,
    terms: dict[str, float],
    cache: TermDocs,
) -> np.ndarray:
    """BM25 scores by docnum of the segment (0 outside `docs`, the mask of the
    matches the user may see) over the query's terms, each times its boost: the
    score Whoosh's BM25F gives the same terms, computed only for these documents,
    from the cached posting weights, a term at a time over arrays, instead of
    walking Whoosh's matcher tree over every posting of every term (which, for a
    common word, costs tens of milliseconds in its block-quality bookkeeping
    alone). The same floating-point operations in the same order as the formula
    a document at a time, so the same scores to the last bit."""
    reader = leaf.reader()
    scores = np.zeros(len(docs), dtype=np.float64)
    if not terms or not docs.any():
        return scores
    average = searcher.avg_field_length("words") or 1.0
    lengths = cache.lengths(reader)
    norm_base, norm_length = BM25_K1 * (1 - BM25_B), BM25_K1 * BM25_B / average
    for term, boost in terms.items():
        postings = cache.get(reader, "words", term)
        held = docs[postings.docnums]
        docnums, weights = postings.docnums[held], postings.weights[held]
        if not len(docnums):
            continue
        doc_lengths = lengths[docnums]
        factor = boost * searcher.idf("words", term) * (BM25_K1 + 1)
        scores[docnums] += factor * weights / (weights + norm_base + norm_length * doc_lengths)
    return scores


def _best(docs: np.ndarray, scores: np.ndarray, wanted: int) -> tuple[np.ndarray, np.ndarray]:
    """The `wanted` best of the segment's `docs` (docnums), best score first, among
    equal scores the lower docnum (the older document), with their scores: a
    partition finds the wanted-th best score, only those at or above it are sorted
    (all of them on ties, so the order among equal scores is exact)."""
    doc_scores = scores[docs]
    if len(docs) > wanted:
        threshold = np.partition(doc_scores, len(docs) - wanted)[len(docs) - wanted]
        kept = doc_scores >= threshold
        docs, doc_scores = docs[kept], doc_scores[kept]
    order = np.lexsort((docs, -doc_scores))[:wanted]
    return docs[order], doc_scores[order]


def _field_lengths(reader: IndexReader, field: str) -> np.ndarray:
    """Each document's length of `field` by docnum, as reader.doc_field_length gives
    it (NaN where it gives None, a document without the field). Whoosh keeps the
    lengths as a column of one byte a document (a logarithmic code): read here as
    one byte string and decoded through the code's table, instead of a Python call
    a document (a common word ranks thousands on its first query in a process)."""
    size = reader.doc_count_all()
    column = _length_column(reader, field)
    if column is None:
        return np.array(
            [reader.doc_field_length(docnum, field, 1) for docnum in range(size)],
            dtype=np.float64,
        )
    codes = np.zeros(size, dtype=np.uint8)
    stored = min(column._count, size)  # documents after the last stored one: 0
    codes[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored), np.uint8)
    return _BYTE_LENGTHS[codes]


def _length_column(reader: IndexReader, field: str) -> Any:
    """Whoosh-Reloaded 2.7's length column reader of a segment (its W3 codec's
    private parts), or None where the reader is another kind (then the lengths are
    read one by one)."""
    perdoc = getattr(reader, "_perdoc", None)
    if not isinstance(perdoc, W3PerDocReader):
        return None
    column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if not all(hasattr(column, name) for name in ("_dbfile", "_basepos", "_count")):
        return None
    return column


# A length byte's value as W3PerDocReader.doc_field_length gives it: None (here NaN)
# for the byte 0.
_BYTE_LENGTHS = np.array([np.nan, *(byte_to_length(code) for code in range(1, 256))])


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: docnums ascending, the weight at each."""

    docnums: np.ndarray
    weights: np.ndarray


_NO_POSTINGS = Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))

# About 16 bytes a docnum (an int64 and a float64): at most ~64 MB of posting lists
# per process.
TERM_DOCS_BUDGET = 4_000_000


class TermDocs:
    """The postings of one term (``acl:internal``, ``kind:note``, ``words:faktura``)
    in one segment, docnums with the term's weight in each, and the segment's
    document lengths, kept between queries, the least recently used dropped first
    beyond TERM_DOCS_BUDGET docnums. A Whoosh segment never changes once written (an
    update adds the document to a new segment and marks the old docnum deleted), so
    an entry stays right as long as its segment exists; entries of merged-away
    segments age out. A docnum deleted later stays in its entry, harmlessly:
    deletions are taken out of every match set (see _matching_docs), and only those
    are counted and ranked."""

    def __init__(self, budget: int = TERM_DOCS_BUDGET) -> None:
        self.budget = budget
        self.held = 0
        # key -> (the postings or lengths, the docnums it is held in the budget as)
        self._entries: OrderedDict[tuple[str, str, str], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader: IndexReader, field: str, value: str) -> Postings:
        segment = reader.segment()
        if segment is None:
            return _postings(reader, field, value)
        key = (segment.segment_id(), field, value)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        postings = _postings(reader, field, value)
        return self._keep(key, postings, len(postings.docnums))

    def lengths(self, reader: IndexReader) -> np.ndarray:
        """The "words" length of each document of the segment by docnum, read whole
        on the segment's first ranking (see _field_lengths)."""
        segment = reader.segment()
        if segment is None:
            return _field_lengths(reader, "words")
        key = (segment.segment_id(), "", "lengths")
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        lengths = _field_lengths(reader, "words")
        return self._keep(key, lengths, len(lengths))

    def _keep(self, key: tuple[str, str, str], values: Any, size: int) -> Any:
        with self._lock:
            if key in self._entries:  # another thread read it meanwhile
                return self._entries[key][0]
            self._entries[key] = (values, size)
            self.held += size
            while self.held > self.budget and len(self._entries) > 1:
                _key, (_values, dropped) = self._entries.popitem(last=False)
                self.held -= dropped
        return values


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
        self.indexname = f"hub_v{SCHEMA_VERSION}w{FIELDS_VERSION}"
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
        # Per segment: the matches the user may see (exact, so the count is their
        # number), then BM25 scores for those only, and the segment's best; the
        # page is the best of all segments' best.
        wanted = offset + limit
        total = 0
        best: list[tuple[float, int]] = []
        for leaf, base in searcher.leaf_searchers():
            reader = leaf.reader()
            clause_terms = [_clause_terms(reader, clause) for clause in query.clauses]
            visible = self._visible_docs(leaf, query, clause_terms, terms, filters)
            docs = np.flatnonzero(visible)
            if not len(docs):
                continue
            total += len(docs)
            ranked_terms: dict[str, float] = {}
            for clause in clause_terms:
                for term, boost in clause.items():
                    ranked_terms[term] = ranked_terms.get(term, 0.0) + boost
            scores = _ranked(searcher, leaf, visible, ranked_terms, self.term_docs)
            docnums, doc_scores = _best(docs, scores, wanted)
            best.extend(zip(doc_scores.tolist(), (docnums + base).tolist(), strict=True))
        if total <= offset:
            return HitPage(total, [])
        # Best score first; among equal scores the older document (lower docnum).
        page = heapq.nsmallest(wanted, best, key=lambda hit: (-hit[0], hit[1]))
        hits = []
        for score, docnum in page[offset:]:
            kind, _, object_id = searcher.stored_fields(docnum)["key"].partition(":")
            hits.append(Hit(kind, int(object_id), score))
        return HitPage(total, hits)

    def _visible_docs(
        self,
        leaf: Searcher,
        query: ParsedQuery,
        clause_terms: list[dict[str, float]],
        terms: list[str],
        filters: Filters,
    ) -> np.ndarray:
        """The segment's documents (a boolean mask by docnum) matching the query that the user may see and
        the filters allow: the segment's matches, kept where they carry one of the
        user's terms (and one value of each filter), by the cached sets of those
        terms."""
        restrictions = [("acl", list(terms))]
        for field, values in (
            ("kind", filters.kinds),
            ("account", filters.account_ids),
            ("author", filters.author_ids),
            ("channel", filters.channels),
        ):
            if values:
                restrictions.append((field, [str(value) for value in values]))
        reader = leaf.reader()
        docs = _matching_docs(leaf, query, clause_terms, self.term_docs)
        for field, values in restrictions:
            if not docs.any():
                break
            allowed = np.zeros(len(docs), dtype=bool)
            for value in values:
                allowed[self.term_docs.get(reader, field, value).docnums] = True
            docs &= allowed
        return docs

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
