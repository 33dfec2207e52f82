from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from channels.layers import channel_layers
from django.conf import settings as django_settings
from django.test import Client

from hub import config_cache
from tests.factories import PASSWORD, Personas, make_personas

USES_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
USES_REDIS = bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not USES_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not USES_REDIS:
            item.add_marker(skip_redis)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Before any of a test's fixtures is torn down, this process's search indexer
    finishes what the test queued (kb_documents.search.indexing.background). In a
    transactional test, a commit wakes its thread, which then reads and deletes index
    jobs in a transaction of its own; the flush after the test (a TRUNCATE of every
    table) met that transaction and deadlocked (seen once in CI). An idle indexer
    returns at once."""
    from kb_documents.search import indexing

    if not indexing.background.drain(timeout=30):
        pytest.fail(f"the search indexer was still writing 30 s after {item.nodeid}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    # Argon2 is deliberately slow; tests that check hashing turn it back on.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_configuration_cached_across_tests() -> Iterator[None]:
    # Each test's database starts over; a cache of the previous one's configuration
    # must not outlive it (hub.config_cache).
    config_cache.clear()
    yield
    config_cache.clear()


@pytest.fixture
def people(db: None) -> Personas:
    return make_personas()


def login_client(user: object) -> Client:
    # force_login: django-axes refuses Client.login(), which authenticates without a request.
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def data_dir() -> str:
    return str(django_settings.HUB_DATA_DIR)


@pytest.fixture
async def fresh_channel_layer() -> AsyncIterator[None]:
    """For socket tests. Each test runs its own event loop and channels_redis binds its
    locks and pools to a loop, so every test gets a fresh layer (a server process has
    one loop); the event pump lives on the test's loop and stops with it."""
    from channels_app.fanout import stop_fanout

    channel_layers.backends.clear()
    yield
    await stop_fanout()
    for layer in channel_layers.backends.values():
        close = getattr(layer, "close_pools", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(), 0.5)
    channel_layers.backends.clear()
