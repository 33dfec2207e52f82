"""The SLA watcher: warns before SLA breaches, flags breaches and escalates them to
supervisors. Several may run at once (claims are conditional updates). `make run`
starts one."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from inbox.sla import check_slas


class Command(BaseCommand):
    help = "Watch SLA due times: sla.warning before a breach, breach flags and escalation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args: Any, once: bool = False, interval: float = 30.0, **kwargs: Any) -> None:
        while True:
            counts = check_slas()
            if once:
                self.stdout.write(
                    f"sla_watch: {counts['warnings']} warnings, {counts['breaches']} breaches"
                )
                return
            time.sleep(interval)
            close_old_connections()
