from __future__ import annotations

import pytest
from django.test import Client

from hub import health

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for part in ("database", "channel_layer", "search"):
        assert body[part]["status"] == "ok", part


def test_healthz_answers_503_and_names_the_broken_part(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> dict[str, str]:
        raise ConnectionError("redis is gone")

    monkeypatch.setitem(health._checks, "channel_layer", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert "redis is gone" in body["channel_layer"]["error"]
    assert body["database"]["status"] == "ok"
