"""A per-process cache of the configuration every inbound message reads (routing
rules, SLA policies, business hours, assignment policies, lead-scoring settings, the
inboxes of phone numbers),
read once per unit of inbound work: a mail sync batch, one webhook's message or call.

Invalidation across processes: every write to a watched model (admin, API, domain
functions, cascades: `post_save`/`post_delete`) gives `ConfigurationVersion` a new
token in the same transaction. `snapshot()` reads the token first and keeps the
cached values only while it is unchanged; values are loaded after the token was
read, so they are never older than the token they are cached under (at worst
newer, which costs one reload). Queryset `update()` and `bulk_create()` send no
signals: code that writes watched models that way calls `configuration_changed()`.

Outside a `snapshot()` block the cached functions read the database as before,
so every other caller sees each change at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save

from hub.compiled_query import CompiledValues
from hub.models import ConfigurationVersion

T = TypeVar("T")
VERSION_ROW = 1


class _Snapshot:
    def __init__(self, token: str) -> None:
        self.token = token
        self.values: dict[str, Any] = {}


_lock = threading.Lock()
_process_cache: _Snapshot | None = None
_active: ContextVar[_Snapshot | None] = ContextVar("config_snapshot", default=None)


def _token_row(pk: int) -> QuerySet[ConfigurationVersion, dict[str, Any]]:
    return ConfigurationVersion.objects.filter(pk=pk).values("token")[:1]


# Read at the start of every webhook and inbound message: compiled once per process
# (hub.compiled_query; the ORM's build took twice as long as the statement).
_TOKEN = CompiledValues(ConfigurationVersion, _token_row, pk=-904_217)


def current_token() -> str:
    rows = _TOKEN.rows(pk=VERSION_ROW)
    return (rows[0]["token"] if rows else "") or ""


def configuration_changed() -> None:
    """A new token, in the caller's transaction: processes reload on their next
    snapshot (after this commits)."""
    ConfigurationVersion.objects.update_or_create(
        pk=VERSION_ROW, defaults={"token": uuid.uuid4().hex}
    )


@contextmanager
def snapshot() -> Iterator[None]:
    """Within the block, cached() serves this process's values while the token is
    the one read here (one query). A block inside another uses the outer one's."""
    global _process_cache
    if _active.get() is not None:
        # Nested (a call's webhook storing its message): the outer block's token holds.
        yield
        return
    token = current_token()
    with _lock:
        if _process_cache is None or _process_cache.token != token:
            _process_cache = _Snapshot(token)
        current = _process_cache
    reset = _active.set(current)
    try:
        yield
    finally:
        _active.reset(reset)


def cached(key: str, load: Callable[[], T]) -> T:
    """`load()`, kept for later snapshots of the same token when inside one."""
    current = _active.get()
    if current is None:
        return load()
    try:
        return current.values[key]
    except KeyError:
        value = current.values[key] = load()
        return value


def clear() -> None:
    """Forget everything cached (tests; a new token does the same in production)."""
    global _process_cache
    with _lock:
        _process_cache = None


def watch(model: type[models.Model], *, ignore_fields: frozenset[str] = frozenset()) -> None:
    """Change the token on every save and delete of `model`, except saves that write
    only `ignore_fields` (bookkeeping nobody caches, such as a round-robin pointer)."""

    def saved(sender: Any, update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
        if update_fields is not None and set(update_fields) <= ignore_fields:
            return
        configuration_changed()

    def deleted(sender: Any, **kwargs: Any) -> None:
        configuration_changed()

    post_save.connect(
        saved, sender=model, weak=False, dispatch_uid=f"config-save-{model._meta.label}"
    )
    post_delete.connect(
        deleted, sender=model, weak=False, dispatch_uid=f"config-delete-{model._meta.label}"
    )
