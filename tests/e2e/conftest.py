"""Browser tests: real Chromium (Debian's package) driven by Playwright against a
real Daphne process serving the test database. Run apart from the asyncio tests
(`pytest -m e2e`): their event loops would collide in one process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import daphne_servers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session", autouse=True)
def _sync_orm_beside_playwright() -> Iterator[None]:
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls
    # the tests make between browser steps are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def hub_server(tmp_path: Path, transactional_db: None) -> Iterator[str]:
    with daphne_servers(1, tmp_path, EVENT_LOG_POLL_SECONDS="0.3") as ports:
        yield f"http://127.0.0.1:{ports[0]}"


@pytest.fixture
def twilio_server(tmp_path: Path, transactional_db: None) -> Iterator[str]:
    """A live server that trusts Twilio requests signed with the e2e token."""
    with daphne_servers(
        1,
        tmp_path,
        EVENT_LOG_POLL_SECONDS="0.3",
        TWILIO_AUTH_TOKEN="e2e-twilio-token-0123456789",
        PUBLIC_BASE_URL="https://hub.example.test",
        DEFAULT_PHONE_REGION="US",
    ) as ports:
        yield f"http://127.0.0.1:{ports[0]}"


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """Overrides the suite's MD5 hashing: the browser signs in against a real server,
    which verifies passwords with the production hashers."""
