"""manage.py rebuild_index: the search index made anew from the database."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from kb_documents.search import indexing
from kb_documents.search.backends.base import SCHEMA_VERSION

BAR_WIDTH = 30


class ProgressBar:
    """A one-line bar on a terminal; occasional plain lines when output is a file."""

    def __init__(self, total: int, stream: Any, interactive: bool) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.interactive = interactive
        self.started = time.monotonic()
        self.last_line = -1

    def __call__(self, done: int) -> None:
        fraction = min(done / self.total, 1.0)
        if self.interactive:
            # Redraw only when the bar moves by a step (or finishes): millions of
            # items must not mean millions of writes.
            step = int(fraction * 1000)
            if step == self.last_line and done != self.total:
                return
            self.last_line = step
            filled = int(BAR_WIDTH * fraction)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{self.total} ({fraction:.0%})")
            self.stream.flush()
        elif int(fraction * 10) > self.last_line:
            self.last_line = int(fraction * 10)
            self.stream.write(f"{done}/{self.total} ({fraction:.0%})\n")

    def finish(self, done: int) -> None:
        if self.interactive:
            self(done)
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Rebuild the search index (notes, documents, messages) from the database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-progress", action="store_true", help="print no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        total = indexing.count_items()
        self.stdout.write(
            f"Rebuilding the {settings.SEARCH_BACKEND} index (schema version {SCHEMA_VERSION}): "
            f"{total} items"
        )
        bar = None
        if not options["no_progress"]:
            interactive = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False
            bar = ProgressBar(total, self.stdout._out if interactive else self.stdout, interactive)
        started = time.monotonic()
        count = indexing.rebuild(progress=bar)
        if bar:
            bar.finish(count)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} items in {elapsed:.1f} s."))
        sys.stdout.flush()
