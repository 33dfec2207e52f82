from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _short_resume_grace(settings: pytest.FixtureRequest) -> None:
    settings.SOCKET_RESUME_GRACE_SECONDS = 0.3


@pytest.fixture(autouse=True)
def _stop_event_pump(fresh_channel_layer: None) -> None:
    """Every socket test here gets a fresh layer and pump (tests/conftest.py)."""
