"""The shape every background worker command shares (sms_outbox, slack_worker,
webhook_worker, sla_watch, analytics_figures, index_worker): `--once` for one pass
and a summary, otherwise passes forever, pausing only when a pass found nothing to
do.

A pass that fails (the database restarting, a network hiccup) is logged and the
worker goes on: every worker's work is claimed with conditional updates and taken
again after its stale timeout, so a failed pass loses nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

logger = logging.getLogger(__name__)

Counts = Mapping[str, int]


class PollingWorkerCommand(BaseCommand):
    default_interval = 5.0

    def interval(self) -> float:
        """Seconds to pause after a pass that did nothing (a setting, for some)."""
        return self.default_interval

    def run_pass(self) -> Counts:
        raise NotImplementedError

    def summary(self, counts: Counts) -> str:
        raise NotImplementedError

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=None, help="seconds to pause when idle"
        )

    def handle(
        self, *args: Any, once: bool = False, interval: float | None = None, **kwargs: Any
    ) -> None:
        if once:
            self.stdout.write(self.summary(self.run_pass()))
            return
        pause = self.interval() if interval is None else interval
        while True:
            close_old_connections()
            try:
                counts = self.run_pass()
            except Exception:
                logger.exception("%s: pass failed; trying again", self.__module__)
                counts = {}
            if not any(counts.values()):
                time.sleep(pause)
