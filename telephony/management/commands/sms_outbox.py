"""The SMS outbox worker: delivers queued SMS replies that were not sent right after
their commit (Twilio down, process restarted) with backoff. `make run` starts it."""

from __future__ import annotations

from hub.workers import Counts, PollingWorkerCommand
from telephony.actions import deliver_due_sms


class Command(PollingWorkerCommand):
    help = "Deliver pending SMS replies through Twilio, retrying failures with backoff."

    def run_pass(self) -> Counts:
        return {"processed": deliver_due_sms()}

    def summary(self, counts: Counts) -> str:
        return f"sms_outbox: {counts['processed']} processed"
