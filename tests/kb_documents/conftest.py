from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from kb_documents.search import indexing
from kb_documents.search.backends import get_backend, reset_backends
from kb_documents.search.backends.base import SearchBackend

BACKENDS = ["whoosh", pytest.param("postgres", marks=pytest.mark.postgres)]


def _fresh_backends() -> None:
    reset_backends()
    indexing._checked.clear()


@pytest.fixture(autouse=True)
def _own_index_and_media(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Every test gets its own index directory and upload folder (the database is
    rolled back after each test; files would not be)."""
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
    settings.MEDIA_ROOT = tmp_path / "media"
    # Indexing in the committing thread, so a test sees the index right after commit
    # (test_search.py checks the background indexer on its own).
    settings.SEARCH_INDEX_IN_BACKGROUND = False
    _fresh_backends()
    yield
    _fresh_backends()


@pytest.fixture(params=BACKENDS)
def search_backend(request: pytest.FixtureRequest, settings: Any) -> SearchBackend:
    """The same tests against Whoosh and (where PostgreSQL is configured) PostgreSQL."""
    settings.SEARCH_BACKEND = request.param
    _fresh_backends()
    return get_backend()


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> Callable[[], AbstractContextManager[Any]]:
    """`with committed():` runs the block's on-commit callbacks (indexing, event
    doorbells) as a real commit would, inside the test's transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def email_inbox(people: Any) -> Any:
    from inbox.models import Inbox

    return Inbox.objects.create(
        key="support-mail", name="Support mail", channel="email", default_team=people.support
    )
