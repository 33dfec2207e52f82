from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mail import worker


class Command(BaseCommand):
    help = "Read new mail of every active mailbox (IMAP IDLE or polling) and send the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            reports = worker.run_once()
            for mailbox_id, report in reports.items():
                summary = (
                    "held by another worker or unreachable" if report is None else report.counts
                )
                self.stdout.write(f"mailbox {mailbox_id}: {summary}")
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write("mail_sync: running (Ctrl-C stops)")
        worker.run_forever(stop)
