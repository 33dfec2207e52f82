"""The backoff every outbox shares: doubling from the base, capped at an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.retry import next_attempt_at

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [(1, 30), (2, 60), (4, 240), (7, 1920), (8, 3600), (30, 3600)],
)
def test_the_wait_doubles_after_each_failure_up_to_an_hour(attempts: int, wait: int) -> None:
    assert next_attempt_at(attempts, 30, now=NOW) == NOW + timedelta(seconds=wait)
