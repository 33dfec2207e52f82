"""The SLA watcher: warns before SLA breaches, flags breaches and escalates them to
supervisors. Several may run at once (claims are conditional updates). `make run`
starts one."""

from __future__ import annotations

from hub.workers import Counts, PollingWorkerCommand
from inbox.sla import check_slas


class Command(PollingWorkerCommand):
    help = "Watch SLA due times: sla.warning before a breach, breach flags and escalation."
    default_interval = 30.0

    def run_pass(self) -> Counts:
        return check_slas()

    def summary(self, counts: Counts) -> str:
        return f"sla_watch: {counts['warnings']} warnings, {counts['breaches']} breaches"
