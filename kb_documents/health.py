"""The search part of /healthz: the configured backend's own health check."""

from __future__ import annotations

from typing import Any

from kb_documents.search.backends import get_backend


def check_search() -> dict[str, Any]:
    return get_backend().health()
