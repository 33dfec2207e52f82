"""The webhook worker (inbox/webhooks.py): follows the event log and the deal
outbox, and delivers signed webhooks with retries. `make run` starts it."""

from __future__ import annotations

import os
import socket
import threading

from django.conf import settings

from hub.workers import Counts, PollingWorkerCommand
from inbox import webhooks


class Command(PollingWorkerCommand):
    help = "Deliver outgoing webhooks (signed, retried with backoff)."

    def interval(self) -> float:
        return settings.WEBHOOK_POLL_SECONDS

    def run_pass(self) -> Counts:
        owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]
        return webhooks.run_once(owner)

    def summary(self, counts: Counts) -> str:
        return (
            "webhook_worker: {log} log entries, {delivered} delivered, "
            "{not_delivered} not delivered".format(**counts)
        )
