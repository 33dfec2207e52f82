"""A signed-in user's language and time zone apply to every request, through the
sync handler (WSGI, the test client) and the async one (Daphne) alike."""

from __future__ import annotations

import pytest
from django.test import AsyncClient, Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signed_in_users_language_wins_over_the_browsers_sync() -> None:
    client = Client()
    client.force_login(make_user("nora@hub.test", language="nb", time_zone="Europe/Oslo"))
    response = client.get("/healthz", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers["Content-Language"] == "nb"
    assert Client().get("/healthz", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"] == "en"


async def test_a_signed_in_users_language_wins_over_the_browsers_async() -> None:
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user)("nora@hub.test", language="nb", time_zone="Europe/Oslo")
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get("/healthz", headers={"accept-language": "en"})
    assert response.headers["Content-Language"] == "nb"
    anonymous = await AsyncClient().get("/healthz", headers={"accept-language": "en"})
    assert anonymous.headers["Content-Language"] == "en"
