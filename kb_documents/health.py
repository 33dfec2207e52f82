"""The search part of /healthz: the configured backend's own health check, and how
far the index lags the writes (its queue)."""

from __future__ import annotations

from typing import Any

from kb_documents.search.backends import get_backend
from kb_documents.search.indexing import queue_state


def check_search() -> dict[str, Any]:
    # The lag is reported, never an error: the hub answers without a current index,
    # and a load balancer must not take every web process out for it.
    return {**get_backend().health(), **queue_state()}
