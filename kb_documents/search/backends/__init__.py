"""The search backend interface and its two implementations (Whoosh, PostgreSQL)."""

from __future__ import annotations

from django.conf import settings

from kb_documents.search.backends.base import SearchBackend

_backends: dict[tuple[str, str], SearchBackend] = {}


def get_backend() -> SearchBackend:
    """The configured backend, one per process (and per index directory, so tests
    that move the directory get a fresh one)."""
    name = settings.SEARCH_BACKEND
    key = (name, str(settings.SEARCH_INDEX_DIR))
    backend = _backends.get(key)
    if backend is None:
        if name == "postgres":
            from kb_documents.search.backends.postgres import PostgresBackend as backend_class
        else:
            from kb_documents.search.backends.whoosh import WhooshBackend as backend_class
        backend = _backends[key] = backend_class()
    return backend


def reset_backends() -> None:
    _backends.clear()
