"""The search index queue: index jobs commit with their write, and what a web process
only queued (SEARCH_INDEX_WORKER=1) is written by `manage.py index_worker`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from kb_documents.actions import do_add_note, do_delete_note
from kb_documents.models import IndexJob
from kb_documents.search import indexing
from kb_documents.search.service import search
from tests.servers import server_env

ROOT = Path(__file__).resolve().parents[2]


def titles(user: Any, query: str) -> list[str]:
    return [hit["title"] for hit in search(user, query).results]


@pytest.fixture(autouse=True)
def _no_indexer_thread_at_work() -> None:
    """An earlier test's background indexer may still be writing; here only the code
    under test may take jobs from the queue."""
    assert indexing.background.drain()


def queued() -> list[tuple[str, int]]:
    return list(IndexJob.objects.order_by("pk").values_list("kind", "object_id"))


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_queues_no_index_job(search_backend, people, settings) -> None:
    settings.SEARCH_INDEX_WORKER = True
    with pytest.raises(RuntimeError), transaction.atomic():
        do_add_note("Never saved\nturbine", by=people.agent)
        raise RuntimeError("the request failed after the note")
    assert queued() == []
    call_command("index_worker", "--once")
    assert titles(people.agent, "turbine") == []


@pytest.mark.django_db(transaction=True)
def test_a_change_only_queued_is_searchable_once_the_index_worker_has_run(
    search_backend, people, settings
) -> None:
    """A web process that queues and stops (SEARCH_INDEX_WORKER=1 here: it never
    writes the index itself) loses no update: the queue is in the database."""
    settings.SEARCH_INDEX_WORKER = True
    assert titles(people.agent, "propeller") == []  # the index exists
    note = do_add_note("Queued\npropeller vibration", by=people.agent)
    assert queued() == [("note", note.pk)]
    assert titles(people.agent, "propeller") == []

    call_command("index_worker", "--once")
    assert titles(people.agent, "propeller") == ["Queued"]
    assert queued() == []

    note_id = note.pk
    do_delete_note(note, by=people.agent)
    assert queued() == [("note", note_id)]
    call_command("index_worker", "--once")
    assert titles(people.agent, "propeller") == []
    assert queued() == []


@pytest.mark.django_db(transaction=True)
def test_the_index_worker_process_writes_what_the_web_process_queued(
    search_backend, people, settings, tmp_path
) -> None:
    settings.SEARCH_INDEX_WORKER = True
    assert titles(people.agent, "hydraulic") == []
    env = server_env(
        tmp_path,
        SEARCH_BACKEND=settings.SEARCH_BACKEND,
        SEARCH_INDEX_WORKER="1",
        LOG_LEVEL="WARNING",
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "index_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        do_add_note("From the web\nhydraulic leak", by=people.agent)
        deadline = time.monotonic() + 20
        while titles(people.agent, "hydraulic") != ["From the web"]:
            assert time.monotonic() < deadline, "the index worker did not write the note"
            assert worker.poll() is None, worker.stdout.read().decode()  # type: ignore[union-attr]
            time.sleep(0.1)
        assert queued() == []
    finally:
        worker.terminate()
        worker.communicate(timeout=20)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_index_writers_never_take_the_same_job(search_backend, people, settings) -> None:
    """A writer that has claimed jobs holds them until it commits: another writer
    skips them (it does not wait, and it does not write them a second time)."""
    settings.SEARCH_INDEX_WORKER = True
    assert titles(people.agent, "winch") == []
    do_add_note("Claimed\nwinch cable", by=people.agent)
    claimed = threading.Event()
    release = threading.Event()

    def first_writer() -> None:
        try:
            with transaction.atomic():
                list(IndexJob.objects.select_for_update())
                claimed.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=first_writer)
    holder.start()
    try:
        assert claimed.wait(10)
        assert indexing.write_queued(indexing.WORKER_BATCH) == 0
        assert titles(people.agent, "winch") == []
    finally:
        release.set()
        holder.join(10)
    assert indexing.write_queued(indexing.WORKER_BATCH) == 1
    assert titles(people.agent, "winch") == ["Claimed"]


@pytest.mark.django_db(transaction=True)
def test_a_failed_index_write_is_logged_and_the_other_jobs_are_written(
    search_backend, people, settings, monkeypatch, caplog
) -> None:
    settings.SEARCH_INDEX_WORKER = True
    assert titles(people.agent, "anchor") == []
    do_add_note("Written\nanchor chain", by=people.agent)
    real_items_for = indexing.items_for

    def failing_for_messages(kind: str, object_ids: list[int]) -> Any:
        if kind == "message":
            raise ValueError("a broken message")
        return real_items_for(kind, object_ids)

    monkeypatch.setattr(indexing, "items_for", failing_for_messages)
    IndexJob.objects.create(kind="message", object_id=10**9)
    assert indexing.write_all_queued() == 2
    assert titles(people.agent, "anchor") == ["Written"]
    assert queued() == []
    assert "could not update the search index for message" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_healthz_tells_how_far_the_index_lags(search_backend, people, settings) -> None:
    """With SEARCH_INDEX_WORKER=1 and no index worker running, the queue only grows:
    /healthz shows it (and stays 200: the hub works without a current index)."""
    settings.SEARCH_INDEX_WORKER = True
    assert titles(people.agent, "bilge") == []
    do_add_note("Lagging\nbilge pump", by=people.agent)
    do_add_note("Lagging too\nbilge alarm", by=people.agent)

    answer = Client().get("/healthz")
    assert answer.status_code == 200
    search_health = answer.json()["search"]
    assert search_health["queued_updates"] == 2
    assert search_health["oldest_queued_seconds"] >= 0

    call_command("index_worker", "--once")
    search_health = Client().get("/healthz").json()["search"]
    assert search_health["queued_updates"] == 0
    assert search_health["oldest_queued_seconds"] is None
