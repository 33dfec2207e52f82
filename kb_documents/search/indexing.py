"""What goes into the index, and keeping the index in step with the database.

Every write queues its rows in its own transaction (`index_on_commit`, an IndexJob
row each); after the commit, the queue's rows are read again and indexed (or
removed, when they are gone) by a background thread of the committing process or by
`manage.py index_worker`. A failed index write is logged and never fails the write
that caused it; `rebuild_index` repairs anything missed.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count, Min
from django.utils import timezone

from hub.requests_in_flight import requests_in_flight
from inbox.models import ConversationNote, Message
from inbox.visibility import partners_by_conversation
from kb_documents.models import Document, IndexJob, Note
from kb_documents.search.backends import get_backend
from kb_documents.search.backends.base import IndexItem, Progress, SearchBackend
from kb_documents.visibility import conversation_note_terms, message_terms, shared_item_terms

logger = logging.getLogger(__name__)

KINDS = ("note", "document", "message", "conversation_note")


def note_item(note: Note) -> IndexItem:
    return IndexItem(
        key=f"note:{note.pk}",
        kind="note",
        object_id=note.pk,
        title=note.title,
        text=note.body,
        acl=shared_item_terms(note, note.author_id),
        account_id=note.account_id_for_search,
        author_id=note.author_id,
        channel=note.conversation.channel if note.conversation_id else "",
        created_at=note.created_at,
    )


def document_item(document: Document) -> IndexItem:
    version = document.current_version
    return IndexItem(
        key=f"document:{document.pk}",
        kind="document",
        object_id=document.pk,
        title=document.title,
        text=f"{version.filename}\n{version.text}" if version else "",
        acl=shared_item_terms(document, document.uploaded_by_id),
        account_id=document.account_id_for_search,
        author_id=document.uploaded_by_id,
        channel=document.conversation.channel if document.conversation_id else "",
        created_at=document.created_at,
    )


def message_title(message: Message) -> str:
    conversation = message.conversation
    return conversation.subject or f"{conversation.get_channel_display()} #{conversation.pk}"


def message_item(message: Message, conversation_partners: list[int] | None = None) -> IndexItem:
    conversation = message.conversation
    sender = message.sender_name or (message.author.full_name if message.author_id else "")
    return IndexItem(
        key=f"message:{message.pk}",
        kind="message",
        object_id=message.pk,
        title=message_title(message),
        text=f"{message.body_text}\n{sender}".strip(),
        acl=message_terms(message, conversation_partners),
        account_id=conversation.contact.account_id if conversation.contact_id else None,
        author_id=message.author_id,
        channel=conversation.channel,
        created_at=message.created_at,
    )


def conversation_note_item(
    note: ConversationNote, conversation_partners: list[int] | None = None
) -> IndexItem:
    conversation = note.conversation
    return IndexItem(
        key=f"conversation_note:{note.pk}",
        kind="conversation_note",
        object_id=note.pk,
        title=conversation.subject or f"{conversation.get_channel_display()} #{conversation.pk}",
        text=note.body,
        acl=conversation_note_terms(note, conversation_partners),
        account_id=conversation.contact.account_id if conversation.contact_id else None,
        author_id=note.author_id,
        channel=conversation.channel,
        created_at=note.created_at,
    )


_LINKS = ("account", "contact__account", "deal", "conversation__contact")


def _notes():  # type: ignore[no-untyped-def]
    return Note.objects.select_related("author", *_LINKS).prefetch_related("partners")


def _documents():  # type: ignore[no-untyped-def]
    return Document.objects.select_related(
        "uploaded_by", "current_version", *_LINKS
    ).prefetch_related("partners")


def _messages():  # type: ignore[no-untyped-def]
    return Message.objects.select_related("author", "conversation__contact")


def _conversation_notes():  # type: ignore[no-untyped-def]
    return ConversationNote.objects.select_related(
        "author", "conversation__contact"
    ).prefetch_related("shared_with")


_ROWS = {
    "note": _notes,
    "document": _documents,
    "message": _messages,
    "conversation_note": _conversation_notes,
}


def _items(kind: str, rows: list[Any]) -> list[IndexItem]:
    """Index items of rows read by _ROWS[kind]: the conversations' shares (for the
    acl of messages and conversation notes) in one query for all of them."""
    if kind == "note":
        return [note_item(row) for row in rows]
    if kind == "document":
        return [document_item(row) for row in rows]
    partners = partners_by_conversation(row.conversation_id for row in rows) if rows else {}
    if kind == "message":
        return [message_item(row, partners.get(row.conversation_id, [])) for row in rows]
    return [conversation_note_item(row, partners.get(row.conversation_id, [])) for row in rows]


def items_for(kind: str, object_ids: list[int]) -> tuple[list[IndexItem], list[int]]:
    """The index items of these rows, and the ids no longer in the database."""
    if kind not in _ROWS:
        raise ValueError(f"unknown kind {kind!r}")
    rows = list(_ROWS[kind]().filter(pk__in=object_ids))
    found = {row.pk for row in rows}
    return _items(kind, rows), [pk for pk in object_ids if pk not in found]


def item_for(kind: str, object_id: int) -> IndexItem | None:
    items, _gone = items_for(kind, [object_id])
    return items[0] if items else None


REBUILD_CHUNK = 500


def all_items() -> Iterator[IndexItem]:
    for kind in KINDS:
        chunk: list[Any] = []
        for row in _ROWS[kind]().order_by("pk").iterator(chunk_size=REBUILD_CHUNK):
            chunk.append(row)
            if len(chunk) == REBUILD_CHUNK:
                yield from _items(kind, chunk)
                chunk = []
        yield from _items(kind, chunk)


def count_items() -> int:
    return (
        Note.objects.count()
        + Document.objects.count()
        + Message.objects.count()
        + ConversationNote.objects.count()
    )


def rebuild(progress: Progress | None = None) -> int:
    backend = get_backend()
    with backend.upgrade_lock():
        count = backend.rebuild(all_items(), progress)
    _checked.add(id(backend))
    return count


_checked: set[int] = set()


def current_backend() -> SearchBackend:
    """The backend, rebuilt first when its index is missing or of an older schema
    version (an upgrade): checked once per process, and only one process rebuilds."""
    backend = get_backend()
    if id(backend) not in _checked:
        if not backend.is_current():
            with backend.upgrade_lock():
                if not backend.is_current():
                    logger.warning("search index is missing or outdated: rebuilding it")
                    backend.rebuild(all_items())
        _checked.add(id(backend))
    return backend


def _write_entries(kind: str, object_ids: list[int]) -> None:
    """Write these rows' index entries, and remove those of rows that are gone."""
    backend = current_backend()
    items, gone = items_for(kind, object_ids)
    backend.index(items)
    backend.delete([f"{kind}:{object_id}" for object_id in gone])


def index_on_commit(kind: str, *object_ids: int) -> None:
    """Index these rows (or drop them from the index) once the transaction commits.

    The job is queued in the transaction itself (an IndexJob row each), so it commits
    or rolls back with the write, and a committed change is indexed even if its
    process stops before the index write. Who writes the queue after the commit is
    the deployment's choice: this process's background indexer (the default), the
    committing thread (SEARCH_INDEX_IN_BACKGROUND=0), or `manage.py index_worker` in
    a process of its own (SEARCH_INDEX_WORKER=1; the web processes then only queue)."""
    ids = {pk for pk in object_ids if pk}
    if not ids:
        return
    gathering = getattr(_gathered, "jobs", None)
    if gathering is not None:
        gathering.setdefault(kind, set()).update(ids)
        return
    _queue({kind: ids})


_gathered = threading.local()


@contextlib.contextmanager
def queued_together() -> Iterator[None]:
    """The index jobs of the rows written inside are queued in one INSERT when it
    exits (a batch of mail, saved row by row for the signals, is one statement)."""
    if getattr(_gathered, "jobs", None) is not None:
        yield
        return
    _gathered.jobs = {}
    try:
        yield
        jobs = _gathered.jobs
    finally:
        _gathered.jobs = None
    if jobs:
        _queue(jobs)


def _queue(jobs: dict[str, set[int]]) -> None:
    IndexJob.objects.bulk_create(
        IndexJob(kind=kind, object_id=pk) for kind, ids in jobs.items() for pk in sorted(ids)
    )
    if settings.SEARCH_INDEX_WORKER:
        return
    if settings.SEARCH_INDEX_IN_BACKGROUND:
        transaction.on_commit(background.wake)
    else:
        transaction.on_commit(write_all_queued)


def write_queued(limit: int) -> int:
    """Write the oldest `limit` queued jobs to the index and delete them; returns how
    many there were (0: the queue is empty).

    Where the database has row locks (PostgreSQL), the jobs are claimed with
    SKIP LOCKED in one transaction with their index write and their deletion: two
    writers (processes, threads) never take the same job, and a writer that dies
    leaves its jobs queued. SQLite has neither row locks nor more than one writer at
    a time: there the jobs are read, written and then deleted, so that its write lock
    is not held over an index write; two writers may then write the same entry twice,
    which changes nothing."""
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            jobs = list(
                IndexJob.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "kind", "object_id")[:limit]
            )
            _write_jobs(jobs, savepoints=True)
        return len(jobs)
    jobs = list(IndexJob.objects.order_by("pk").values_list("pk", "kind", "object_id")[:limit])
    _write_jobs(jobs, savepoints=False)
    return len(jobs)


def write_all_queued() -> int:
    """Write the whole queue, in batches: after a commit when the committing thread
    indexes (SEARCH_INDEX_IN_BACKGROUND=0), and in each pass of `index_worker`."""
    total = 0
    while done := write_queued(WORKER_BATCH):
        total += done
    return total


def queue_state() -> dict[str, Any]:
    """The index updates not yet written, and the age of the oldest in seconds."""
    state = IndexJob.objects.aggregate(queued=Count("pk"), oldest=Min("queued_at"))
    oldest = state["oldest"]
    return {
        "queued_updates": state["queued"],
        "oldest_queued_seconds": (
            round((timezone.now() - oldest).total_seconds(), 1) if oldest else None
        ),
    }


def _write_jobs(jobs: list[tuple[int, str, int]], *, savepoints: bool) -> None:
    by_kind: dict[str, set[int]] = {}
    for _pk, kind, object_id in jobs:
        by_kind.setdefault(kind, set()).add(object_id)
    for kind, ids in by_kind.items():
        # In the claiming transaction, a failed statement would abort it, and with
        # it the deletion of every other kind's jobs: each kind gets a savepoint.
        try:
            with transaction.atomic() if savepoints else contextlib.nullcontext():
                _write_entries(kind, sorted(ids))
        except Exception:
            logger.exception("could not update the search index for %s %s", kind, sorted(ids))
    if jobs:
        IndexJob.objects.filter(pk__in=[pk for pk, _kind, _id in jobs]).delete()


BATCH_DELAY_SECONDS = 0.5
# Jobs written per index statement by a web process's background indexer; and how
# long one batch may wait in all for moments without requests in flight before it
# writes regardless.
CHUNK = 10
GIVE_WAY_SECONDS = 2.0
# Jobs per index write in the index worker, which shares no process with requests.
WORKER_BATCH = 100


class BackgroundIndexer:
    """One thread per process that writes the index queue, so that a message's sender
    (a chat socket, a webhook, an API call) never waits for the index: the commit
    wakes the thread and returns. Commits that arrive while the thread writes are
    taken in the same pass (one index commit for many writes). What is still queued
    when the process exits is written by an atexit hook; what a crash leaves queued,
    the next pass of any process writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._woken = False
        self._wake = threading.Condition(self._lock)
        self._busy = False
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        with self._lock:
            self._woken = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="search-indexer", daemon=True
                )
                self._thread.start()
            self._wake.notify_all()

    def _take(self) -> None:
        with self._lock:
            while not self._woken:
                self._busy = False
                self._wake.notify_all()
                self._wake.wait()
            self._woken = False
            self._busy = True

    def _run(self) -> None:
        while True:
            self._take()
            # Let a burst (a chat flood, an import, a bulk share) gather into one
            # index commit, and leave the CPU to the writers meanwhile.
            time.sleep(BATCH_DELAY_SECONDS)
            try:
                self._write()
            except Exception:  # the database is away: the jobs stay queued
                logger.exception("could not read the search index queue")
            finally:
                # This thread's own database connections only.
                connections.close_all()

    def _write(self) -> None:
        """The queue in chunks, each started when no request of this process is in
        flight (hub.requests_in_flight): a webhook that arrives meanwhile shares the
        interpreter lock with one chunk at most. The waiting has a budget per pass,
        so that under a steady stream of requests the index still keeps up."""
        budget = GIVE_WAY_SECONDS
        while True:
            if budget > 0:
                budget -= requests_in_flight.wait_for_quiet(budget)
            if write_queued(CHUNK) < CHUNK:
                return

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything this process queued is written (tests, process exit)."""
        with self._lock:
            return self._wake.wait_for(lambda: not self._woken and not self._busy, timeout)


background = BackgroundIndexer()
atexit.register(background.drain, 10.0)
