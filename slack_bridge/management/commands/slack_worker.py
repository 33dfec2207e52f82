"""The Slack worker (DESIGN §3): does the work of acknowledged Slack events, mirrors
conversations into team channels and posts to Slack with retries. `make run` starts it."""

from __future__ import annotations

from django.conf import settings

from hub.workers import Counts, PollingWorkerCommand
from slack_bridge import worker


class Command(PollingWorkerCommand):
    help = "Process Slack events, mirror conversations to team channels, post to Slack."

    def interval(self) -> float:
        return settings.SLACK_POLL_SECONDS

    def run_pass(self) -> Counts:
        return worker.run_once()

    def summary(self, counts: Counts) -> str:
        return "slack_worker: {events} events, {log} log entries, {posts} posts".format(**counts)
