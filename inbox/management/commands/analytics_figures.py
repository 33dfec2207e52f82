"""Publishes the supervisors' live team figures (figures.updated events) whenever they
change, checking every few seconds. Harmless to run several: each publishes changes
it sees, and a figures event is a whole snapshot, so a duplicate changes nothing."""

from __future__ import annotations

from typing import Any

from hub.workers import Counts, PollingWorkerCommand
from inbox.metrics import live_team_figures, publish_team_figures


class Command(PollingWorkerCommand):
    help = "Publish live team figures for the supervisor dashboard when they change."
    default_interval = 10.0
    # What this process published last: only changes go to the event log, so an
    # idle hub does not grow it.
    last: list[dict[str, Any]] | None = None

    def run_pass(self) -> Counts:
        figures = live_team_figures()
        if figures == self.last:
            return {"published": 0}
        published = publish_team_figures(figures)
        self.last = figures
        return {"published": published}

    def summary(self, counts: Counts) -> str:
        return f"analytics_figures: {counts['published']} teams published"
