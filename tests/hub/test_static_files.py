"""Static files are served by WhiteNoise through both handlers; in the async one the
middleware adds no thread hop for the other requests."""

from __future__ import annotations

import pytest
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db(transaction=True)

CSS = "/static/frontend/hub.css"


def test_a_static_file_is_served_sync() -> None:
    response = Client().get(CSS)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


async def test_a_static_file_is_served_async() -> None:
    response = await AsyncClient().get(CSS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_no_middleware_needs_a_thread_of_its_own_in_the_async_chain(caplog, settings) -> None:
    from django.core.handlers.asgi import ASGIHandler

    settings.DEBUG = True  # Django logs each adapted middleware only with DEBUG
    with caplog.at_level("DEBUG", logger="django.request"):
        ASGIHandler()
    assert not [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
