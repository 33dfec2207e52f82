from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import login_client
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def test_a_norwegian_agent_gets_the_console_in_norwegian(people: Personas) -> None:
    people.agent.language = "nb"
    people.agent.time_zone = "Europe/Oslo"
    people.agent.save()
    page = login_client(people.agent).get("/").content.decode()
    assert 'lang="nb"' in page
    assert "Internt notat" in page
    assert "Tildel meg" in page
    assert 'data-time-zone="Europe/Oslo"' in page


def test_an_english_agent_keeps_english_whatever_the_browser_says(people: Personas) -> None:
    page = login_client(people.teammate).get("/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Internal note" in page


def test_the_sign_in_page_follows_the_browser_language() -> None:
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Logg inn" in page
    assert "Passord" in page


def test_the_strings_the_javascript_shows_are_translated_too(people: Personas) -> None:
    people.agent.language = "nb"
    people.agent.save()
    catalog = login_client(people.agent).get("/jsi18n/").content.decode()
    assert "Kobler til p\\u00e5 nytt" in catalog or "Kobler til på nytt" in catalog
    assert "%(name)s ser p\\u00e5" in catalog or "%(name)s ser på" in catalog


def test_a_users_language_and_time_zone_end_with_their_request(people: Personas) -> None:
    """The server thread that rendered a Norwegian page serves a webhook next: that
    must not run in Norwegian or in that user's time zone."""
    from django.utils import timezone, translation

    people.agent.language = "nb"
    people.agent.time_zone = "Asia/Tokyo"
    people.agent.save()
    before = (translation.get_language(), timezone.get_current_timezone_name())
    assert login_client(people.agent).get("/").headers["Content-Language"] == "nb"
    assert (translation.get_language(), timezone.get_current_timezone_name()) == before
    assert Client().get("/healthz").headers["Content-Language"] != "nb"
