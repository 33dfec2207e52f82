"""The console's search box: an accessible form, served with its module script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders

from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def test_the_console_has_a_labelled_search_form_and_loads_its_module(people: Any) -> None:
    page = login_client(people.agent).get("/").content.decode()
    assert 'role="search"' in page
    assert 'action="/api/v1/search/"' in page
    assert 'for="search-q"' in page
    assert 'role="status"' in page and 'aria-live="polite"' in page
    assert '<script type="module" src="/static/frontend/search.js">' in page


def test_the_search_script_never_inserts_server_html() -> None:
    source = Path(finders.find("frontend/search.js")).read_text(encoding="utf-8")
    assert "innerHTML" not in source
    assert "/api/v1/search/" not in source or "form.action" in source
