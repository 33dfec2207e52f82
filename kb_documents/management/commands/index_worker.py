"""manage.py index_worker: writes the search index queue of every process, for a
deployment whose web processes only queue (SEARCH_INDEX_WORKER=1)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kb_documents.search import indexing


class Command(BaseCommand):
    help = "Write the queued search index updates (SEARCH_INDEX_WORKER=1 deployments)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="write what is queued, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(f"index_worker: {indexing.write_all_queued()} updates written")
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write("index_worker: running (Ctrl-C stops)")
        self.stdout.flush()
        indexing.run_index_worker(stop)
