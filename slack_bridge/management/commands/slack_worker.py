"""The Slack worker (DESIGN §3): does the work of acknowledged Slack events, mirrors
conversations into team channels and posts to Slack with retries. `make run` starts it."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from slack_bridge import worker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Process Slack events, mirror conversations to team channels, post to Slack."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=None)

    def handle(
        self, *args: Any, once: bool = False, interval: float | None = None, **kw: Any
    ) -> None:
        pause = settings.SLACK_POLL_SECONDS if interval is None else interval
        while True:
            if once:
                counts = worker.run_once()
                self.stdout.write(
                    "slack_worker: {events} events, {log} log entries, {posts} posts".format(
                        **counts
                    )
                )
                return
            try:
                counts = worker.run_once()
            except Exception:
                # A database hiccup must not end the worker: claimed rows are taken
                # again after SLACK_STALE_SECONDS, so nothing is lost.
                logger.exception("slack_worker pass failed")
                counts = {}
            if not any(counts.values()):
                time.sleep(pause)
