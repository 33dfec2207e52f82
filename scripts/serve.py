"""`make run`: the hub's background workers plus one Daphne process, stopped together.

Ctrl-C (or SIGTERM) stops Daphne and every worker it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# Long-running workers that `make run` starts beside the web server (DESIGN §3).
WORKERS: list[list[str]] = [
    ["mail_sync"],  # IMAP ingest (IDLE) and the SMTP outbox
    ["sms_outbox"],  # retries SMS replies that could not go out right after commit
    ["slack_worker"],  # Slack events after their acknowledgement, mirrors, posts to Slack
    ["sla_watch"],  # SLA warnings, breach flags and escalations
    ["webhook_worker"],  # outgoing webhooks: signed, retried with backoff
    ["analytics_figures"],  # live team figures for the supervisor dashboard
]


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    children = [subprocess.Popen([PYTHON, "manage.py", *worker], cwd=ROOT) for worker in WORKERS]
    server = subprocess.Popen(
        [PYTHON, "-m", "daphne", "-b", host, "-p", port, "hub.asgi:application"], cwd=ROOT
    )
    print(f"serving on http://{host}:{port}/  (Ctrl-C stops)", flush=True)

    def stop(signum: int, frame: object) -> None:
        for child in [server, *children]:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = server.wait()
    stop(signal.SIGTERM, None)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
