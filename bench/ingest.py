"""The e-mail ingest row: N messages waiting in a real Dovecot mailbox, read by the
hub's IMAP sync (fetch, parse, sanitize, thread, store, events) against fetching the
same messages with imapclient alone, in the same batches.

Dovecot is started with the test suite's throw-away configuration
(tests/mail/servers.py), so the benchmark and the tests exercise one set-up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from bench.clients import progress, progress_done

INDEX_WAIT_SECONDS = 300

FETCH_BATCH = 20  # what mail.imap.ImapSession.fetch uses
APPEND_PROGRESS_EVERY = 250


@dataclass
class IngestResult:
    messages: int
    hub_seconds: float = 0.0
    baseline_seconds: float = 0.0
    stored: int = 0
    search_backend: str = ""
    # The ingest process's own CPU time and SQL statements during the sync: figures
    # that move little with the machine's load, unlike the rate.
    hub_cpu_seconds: float = 0.0
    statements: int = 0
    # After the last mail is stored: until the background indexer has written them all
    # (the mails are searchable), None if it had not within INDEX_WAIT_SECONDS.
    index_lag_seconds: float | None = None

    @property
    def hub_rate(self) -> float:
        return self.stored / self.hub_seconds if self.hub_seconds else 0.0

    @property
    def baseline_rate(self) -> float:
        return self.messages / self.baseline_seconds if self.baseline_seconds else 0.0


def _mail(n: int) -> bytes:
    from tests.mail import corpus

    return corpus.plain(
        sender=f"Customer {n % 500} <customer{n % 500}@shop.test>",
        subject=f"Order {n}: question about delivery",
        body=f"Hello, where is order {n}? " + "We ordered it two weeks ago. " * 8,
        message_id=f"<ingest-{n}@shop.test>",
    )


def _fill_mailbox(dovecot: object, user: str, count: int) -> None:
    client = dovecot.client(user)  # type: ignore[attr-defined]
    try:
        for n in range(count):
            client.append("INBOX", _mail(n))
            if (n + 1) % APPEND_PROGRESS_EVERY == 0 or n + 1 == count:
                progress(f"ingest: delivering mail to Dovecot {n + 1:,}/{count:,}")
    finally:
        client.logout()
    progress_done()


def _baseline(dovecot: object, user: str) -> int:
    client = dovecot.client(user)  # type: ignore[attr-defined]
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        fetched = 0
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start : start + FETCH_BATCH]
            fetched += len(client.fetch(chunk, ["RFC822.SIZE", "BODY.PEEK[]"]))
        return fetched
    finally:
        client.logout()


def _show_progress(before: int, count: int, done: threading.Event) -> None:
    from django.db import connection

    from inbox.models import Message

    try:
        while not done.wait(1.0):
            stored = Message.objects.count() - before
            progress(f"ingest: the hub has stored {stored:,}/{count:,}")
    finally:
        connection.close()


def use_deployment_search_backend() -> str:
    """The search backend the deployment of this database runs: docs/deployment.md sets
    SEARCH_BACKEND=postgres for the PostgreSQL (multi-process) deployment, so the
    messages stored here are indexed as they would be there. An earlier row (search)
    may have switched the setting; this sets it back for the ingest."""
    from django.conf import settings
    from django.db import connection

    settings.SEARCH_BACKEND = "postgres" if connection.vendor == "postgresql" else "whoosh"
    return settings.SEARCH_BACKEND


def run(count: int) -> IngestResult | None:
    from tests.mail.servers import DOVECOT, PASSWORD, start_dovecot

    if DOVECOT is None:
        print("ingest: skipped, Dovecot is not installed (apt-get install dovecot-imapd)")
        return None
    from django.db import connection

    from inbox.models import Message
    from kb_documents.search.indexing import background
    from mail import worker
    from mail.actions import MailboxInput, do_add_mailbox

    result = IngestResult(messages=count, search_backend=use_deployment_search_backend())
    dovecot = start_dovecot()
    try:
        user = dovecot.add_user("ingest@hub.test")
        _fill_mailbox(dovecot, user, count)

        started = time.perf_counter()
        fetched = _baseline(dovecot, user)
        result.baseline_seconds = time.perf_counter() - started
        if fetched != count:
            raise RuntimeError(f"imapclient fetched {fetched} of {count} messages")

        mailbox, _ = do_add_mailbox(
            MailboxInput(
                inbox_key="bench-mail",
                imap_host="127.0.0.1",
                imap_port=dovecot.port,
                imap_user=user,
                imap_security="none",
                imap_password=PASSWORD,
                from_address="support@hub.test",
                team_slug="bench-hub",  # the benchmark's seeded team
            )
        )
        before = Message.objects.count()
        done = threading.Event()
        watcher = threading.Thread(target=_show_progress, args=(before, count, done), daemon=True)
        started = time.perf_counter()
        cpu_started = time.process_time()
        watcher.start()
        counted = [0]

        def counting(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            counted[0] += 1
            return execute(sql, params, many, context)

        try:
            while True:  # one sync reads everything new; a second would find nothing
                with connection.execute_wrapper(counting):
                    worker.sync_mailbox_once(mailbox, "bench")
                    worker.release_lease(mailbox, "bench")
                stored = Message.objects.count() - before
                if stored >= count:
                    break
        finally:
            done.set()
            watcher.join()
        result.hub_seconds = time.perf_counter() - started
        # The watcher thread's CPU is in it too (a count per second: small).
        result.hub_cpu_seconds = time.process_time() - cpu_started
        result.statements = counted[0]
        result.stored = stored
        progress_done()
        # Not part of the rate: the sender never waits for the index. But the row ends
        # only when the mails are searchable (and before its database is dropped).
        caught_up = background.drain(INDEX_WAIT_SECONDS)
        if caught_up:
            result.index_lag_seconds = time.perf_counter() - started - result.hub_seconds
    finally:
        dovecot.stop()
    return result


def rows(result: IngestResult) -> list[list[str]]:
    ratio = result.hub_rate / result.baseline_rate if result.baseline_rate else float("nan")
    return [
        [
            f"e-mail ingest from Dovecot, {result.messages:,} messages",
            f"{result.hub_rate:,.0f} msg/s",
            "imapclient fetch alone",
            f"{result.baseline_rate:,.0f} msg/s",
            f"{ratio:.2f}x",
        ]
    ]


def notes(result: IngestResult) -> list[str]:
    return [
        f"ingest: {result.stored:,} stored in {result.hub_seconds:.1f} s (fetch alone "
        f"{result.baseline_seconds:.1f} s); target >= 200 msg/s: "
        f"{'met' if result.hub_rate >= 200 else 'NOT met'}; search index: "
        f"SEARCH_BACKEND={result.search_backend} (the deployment's backend for this database)",
        f"ingest: the sync's process used {result.hub_cpu_seconds:.1f} s of CPU "
        f"({result.hub_cpu_seconds / max(result.stored, 1) * 1000:.2f} ms per mail) and ran "
        f"{result.statements:,} SQL statements ({result.statements / max(result.stored, 1):.2f} "
        "per mail, transaction control included)",
        "ingest: every mail in the search index "
        + (
            f"{result.index_lag_seconds:.1f} s after the last was stored"
            if result.index_lag_seconds is not None
            else f"NOT within {INDEX_WAIT_SECONDS} s of the last being stored"
        ),
    ]
