"""The loop every worker command shares (hub.workers): a failing pass is logged and
the worker goes on; it pauses only after a pass that found nothing to do."""

from __future__ import annotations

import io
from typing import Any

import pytest

from hub import workers
from hub.workers import Counts, PollingWorkerCommand


class Stop(Exception):
    pass


class ScriptedWorker(PollingWorkerCommand):
    default_interval = 7.0

    def __init__(self, script: list[Any]) -> None:
        super().__init__(stdout=io.StringIO())
        self.script = script
        self.passes = 0

    def run_pass(self) -> Counts:
        self.passes += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def summary(self, counts: Counts) -> str:
        return f"scripted: {counts['done']} done"


def test_a_failing_pass_is_logged_and_the_worker_goes_on_pausing_only_when_idle(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            raise Stop

    monkeypatch.setattr(workers.time, "sleep", sleep)
    monkeypatch.setattr(workers, "close_old_connections", lambda: None)
    worker = ScriptedWorker(
        [{"done": 2}, ConnectionError("database restarting"), {"done": 1}, {"done": 0}, {"done": 0}]
    )
    with pytest.raises(Stop):
        worker.handle(once=False, interval=None)
    # Busy pass: straight on; the failure: logged, then a pause; busy again; two idle.
    assert worker.passes == 5
    assert pauses == [7.0, 7.0, 7.0]
    assert "pass failed" in caplog.text and "database restarting" in caplog.text


def test_once_runs_one_pass_and_prints_its_summary() -> None:
    worker = ScriptedWorker([{"done": 3}])
    worker.handle(once=True, interval=None)
    assert worker.passes == 1
    assert worker.stdout.getvalue().strip() == "scripted: 3 done"  # type: ignore[attr-defined]


def test_once_lets_a_failure_through() -> None:
    """An operator running one pass by hand sees the error, not a log line."""
    with pytest.raises(ConnectionError):
        ScriptedWorker([ConnectionError("no database")]).handle(once=True, interval=None)
