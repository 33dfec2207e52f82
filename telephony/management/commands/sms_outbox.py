"""The SMS outbox worker: delivers queued SMS replies that were not sent right after
their commit (Twilio down, process restarted) with backoff. `make run` starts it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from telephony.actions import deliver_due_sms


class Command(BaseCommand):
    help = "Deliver pending SMS replies through Twilio, retrying failures with backoff."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args: Any, once: bool = False, interval: float = 5.0, **kwargs: Any) -> None:
        while True:
            close_old_connections()
            sent = deliver_due_sms()
            if once:
                self.stdout.write(f"sms_outbox: {sent} processed")
                return
            time.sleep(interval)
