"""Publishes the supervisors' live team figures (figures.updated events) whenever they
change, checking every few seconds. Harmless to run several: each publishes changes
it sees, and a figures event is a whole snapshot, so a duplicate changes nothing."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from inbox.metrics import live_team_figures, publish_team_figures


class Command(BaseCommand):
    help = "Publish live team figures for the supervisor dashboard when they change."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=10.0)

    def handle(self, *args: Any, once: bool = False, interval: float = 10.0, **kwargs: Any) -> None:
        last: list[dict[str, Any]] | None = None
        while True:
            figures = live_team_figures()
            if figures != last:
                # Only changes go to the event log: an idle hub does not grow it.
                published = publish_team_figures(figures)
                last = figures
                if once:
                    self.stdout.write(f"analytics_figures: {published} teams published")
            if once:
                return
            time.sleep(interval)
            close_old_connections()
