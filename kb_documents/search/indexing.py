"""What goes into the index, and keeping the index in step with the database.

Every write schedules `reindex(kind, id)` with transaction.on_commit: after the
commit, the row is read again and indexed (or removed, when it is gone). A failed
index write is logged and never fails the write that caused it; `rebuild_index`
repairs anything missed.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from hub.requests_in_flight import requests_in_flight
from inbox.models import ConversationNote, Message
from inbox.visibility import partners_by_conversation
from kb_documents.models import Document, Note
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


def reindex(kind: str, object_ids: list[int]) -> None:
    try:
        backend = current_backend()
        items, gone = items_for(kind, object_ids)
        backend.index(items)
        backend.delete([f"{kind}:{object_id}" for object_id in gone])
    except Exception:  # the write is committed; the index catches up on rebuild_index
        logger.exception("could not update the search index for %s %s", kind, object_ids)


_pending = threading.local()


def _pending_ids() -> dict[str, set[int]]:
    if not hasattr(_pending, "ids"):
        _pending.ids = {}
    return _pending.ids


def index_on_commit(kind: str, *object_ids: int) -> None:
    """Index these rows (or drop them from the index) once the transaction commits.

    Rows touched by one transaction are indexed together, in one index write: the
    first callback to run takes them all, the others find nothing left. An id left
    over from a rolled-back transaction is indexed with the next commit, which is
    harmless: reindex() reads what the database holds.
    """
    ids = {pk for pk in object_ids if pk}
    if ids:
        _pending_ids().setdefault(kind, set()).update(ids)
        transaction.on_commit(flush_pending)


def flush_pending() -> None:
    pending = _pending_ids()
    batch: dict[str, set[int]] = {}
    while pending:
        kind, ids = pending.popitem()
        batch.setdefault(kind, set()).update(ids)
    if not batch:
        return
    if settings.SEARCH_INDEX_IN_BACKGROUND:
        background.put(batch)
    else:
        for kind, ids in batch.items():
            reindex(kind, sorted(ids))


BATCH_DELAY_SECONDS = 0.5
# Ids written per index statement; and how long one batch may wait in all for
# moments without requests in flight before it writes regardless.
CHUNK = 10
GIVE_WAY_SECONDS = 2.0


class BackgroundIndexer:
    """One thread per process that writes to the index, so that a message's sender
    (a chat socket, a webhook, an API call) never waits for the index: the commit
    hands ids over and returns. Ids that arrive while a batch is written are merged
    into the next one (one index commit for many writes). Ids still queued when the
    process exits are written by an atexit hook; ids lost to a crash are restored by
    rebuild_index."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, set[int]] = {}
        self._wake = threading.Condition(self._lock)
        self._busy = False
        self._thread: threading.Thread | None = None

    def put(self, batch: dict[str, set[int]]) -> None:
        with self._lock:
            for kind, ids in batch.items():
                self._pending.setdefault(kind, set()).update(ids)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="search-indexer", daemon=True
                )
                self._thread.start()
            self._wake.notify_all()

    def _take(self) -> dict[str, set[int]]:
        with self._lock:
            while not self._pending:
                self._busy = False
                self._wake.notify_all()
                self._wake.wait()
            batch, self._pending = self._pending, {}
            self._busy = True
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            # Let a burst (a chat flood, an import, a bulk share) gather into one
            # index commit, and leave the CPU to the writers meanwhile.
            time.sleep(BATCH_DELAY_SECONDS)
            with self._lock:
                for kind, ids in self._pending.items():
                    batch.setdefault(kind, set()).update(ids)
                self._pending = {}
            try:
                self._write(batch)
            finally:
                # This thread's own database connections only.
                connections.close_all()

    def _write(self, batch: dict[str, set[int]]) -> None:
        """The batch in chunks, each started when no request of this process is in
        flight (hub.requests_in_flight): a webhook that arrives meanwhile shares the
        interpreter lock with one chunk at most. The waiting has a budget per batch,
        so that under a steady stream of requests the index still keeps up."""
        budget = GIVE_WAY_SECONDS
        for kind, ids in batch.items():
            ordered = sorted(ids)
            for start in range(0, len(ordered), CHUNK):
                if budget > 0:
                    budget -= requests_in_flight.wait_for_quiet(budget)
                reindex(kind, ordered[start : start + CHUNK])

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued is written (tests, process exit)."""
        with self._lock:
            return self._wake.wait_for(lambda: not self._pending and not self._busy, timeout)


background = BackgroundIndexer()
atexit.register(background.drain, 10.0)
