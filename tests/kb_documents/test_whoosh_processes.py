"""The Whoosh index stays whole when several processes write to it at once (Daphne
workers, mail_sync and management commands share one HUB_DATA_DIR)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kb_documents.search.backends.base import Filters, IndexItem
from kb_documents.search.backends.whoosh import WhooshBackend, _read_toc_retrying
from kb_documents.search.query import parse_query

WRITERS = 4
ITEMS_EACH = 15


def _write_items(writer: int, directory: str) -> None:
    # A fresh ("spawn") process, so that no database connection is shared with the
    # test's; one commit per item, so the writers contend for the lock all along.
    backend = WhooshBackend(Path(directory))
    for number in range(ITEMS_EACH):
        object_id = writer * 1000 + number
        backend.index(
            [
                IndexItem(
                    key=f"note:{object_id}",
                    kind="note",
                    object_id=object_id,
                    title=f"Writer {writer}",
                    text=f"concurrent entry {number}",
                    acl=["internal"],
                    account_id=None,
                    author_id=None,
                    channel="",
                    created_at=datetime.now(UTC),
                )
            ]
        )


def test_several_processes_writing_at_once_lose_nothing(settings: Any) -> None:
    settings.SEARCH_BACKEND = "whoosh"
    WhooshBackend().rebuild([])  # the index exists before the writers start
    directory = str(settings.SEARCH_INDEX_DIR)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_write_items, args=(writer, directory)) for writer in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * WRITERS
    page = WhooshBackend().search(
        parse_query("concurrent"), terms=["internal"], filters=Filters(), offset=0, limit=500
    )
    assert page.total == WRITERS * ITEMS_EACH
    assert len({(hit.kind, hit.object_id) for hit in page.hits}) == WRITERS * ITEMS_EACH


@pytest.mark.parametrize("terms", [["partner:1"], []])
def test_a_search_without_a_matching_term_finds_nothing(settings: Any, terms: list[str]) -> None:
    backend = WhooshBackend()
    backend.rebuild([])
    _write_items(0, str(settings.SEARCH_INDEX_DIR))
    page = backend.search(
        parse_query("concurrent"), terms=terms, filters=Filters(), offset=0, limit=10
    )
    assert (page.total, page.hits) == (0, [])


def test_a_table_of_contents_swapped_by_another_commit_is_read_again() -> None:
    # What a reader sees when another process commits between Whoosh listing the
    # directory and opening the table it listed: the file is gone.
    attempts = []

    def read() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise FileNotFoundError("_hub_v1_2.toc")
        return "opened"

    assert _read_toc_retrying(read) == "opened"
    assert len(attempts) == 3


def test_a_table_of_contents_that_stays_missing_is_an_error() -> None:
    def read() -> str:
        raise FileNotFoundError("_hub_v1_2.toc")

    with pytest.raises(FileNotFoundError):
        _read_toc_retrying(read)
