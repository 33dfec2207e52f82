"""`slack_worker`: processes acknowledged Slack events, follows inbox's event log to
mirror conversations into team channels, and makes the queued posts. Any number of
workers may run; rows are claimed with conditional UPDATEs."""

from __future__ import annotations

import os
import socket
import threading

from django.db import close_old_connections, connection

from slack_bridge import actions


def recycle_connections() -> None:
    """close_old_connections() per unit of work, except inside an outer transaction
    (a test, a caller's atomic block), where closing would break that transaction."""
    if not connection.in_atomic_block:
        close_old_connections()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def run_once(*, owner: str | None = None) -> dict[str, int]:
    """One pass: events in, mirror steps, posts out (in that order, so a message that
    arrived in this pass is mirrored and posted in this pass too)."""
    owner = owner or worker_name()
    recycle_connections()
    events = actions.process_due_events(owner)
    recycle_connections()
    mirrored = actions.follow_event_log()
    posted = 0
    # Twice: a mirror thread's root post must have its ts before the messages under it.
    for _ in range(2):
        for post in actions.claim_posts(owner):
            recycle_connections()
            actions.send_post(post)
            posted += 1
    return {"events": events, "log": mirrored, "posts": posted}
