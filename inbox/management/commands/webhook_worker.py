"""The webhook worker (inbox/webhooks.py): follows the event log and hub's deal audit
trail, and delivers signed webhooks with retries. `make run` starts it."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from inbox import webhooks

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver outgoing webhooks (signed, retried with backoff)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=None)

    def handle(
        self, *args: Any, once: bool = False, interval: float | None = None, **kw: Any
    ) -> None:
        owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]
        pause = settings.WEBHOOK_POLL_SECONDS if interval is None else interval
        while True:
            if once:
                counts = webhooks.run_once(owner)
                self.stdout.write(
                    "webhook_worker: {log} log entries, {delivered} delivered, "
                    "{not_delivered} not delivered".format(**counts)
                )
                return
            close_old_connections()
            try:
                counts = webhooks.run_once(owner)
            except Exception:
                # A database hiccup must not end the worker: claimed rows are taken
                # again after WEBHOOK_STALE_SECONDS, so nothing is lost.
                logger.exception("webhook_worker pass failed")
                counts = {}
            if not any(counts.values()):
                time.sleep(pause)
