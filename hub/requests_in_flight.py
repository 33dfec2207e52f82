"""How many HTTP requests this process is serving at the moment, for background work
that gives way to them.

A server process runs its background threads (the search indexer) under the same
interpreter lock as the request threads and the event loop that sends the consoles'
frames. A search index write that starts while a webhook runs shares that lock with
it: the screen pops that overlapped an index batch took about 1.6 times as long as the
others and made up most of the benchmark's slowest percent (docs/performance.md).
Nobody waits for the index (it is written after the commit, every half second), so
it is the one to wait."""

from __future__ import annotations

import threading
import time


class RequestsInFlight:
    def __init__(self) -> None:
        self._count = 0
        self._quiet = threading.Condition()

    @property
    def count(self) -> int:
        return self._count

    def started(self) -> None:
        with self._quiet:
            self._count += 1

    def finished(self) -> None:
        with self._quiet:
            self._count -= 1
            if self._count <= 0:
                self._count = 0
                self._quiet.notify_all()

    def wait_for_quiet(self, timeout: float) -> float:
        """Wait until no request is in flight, at most `timeout` seconds; returns the
        seconds waited (the whole timeout if requests never stopped)."""
        started = time.monotonic()
        with self._quiet:
            self._quiet.wait_for(lambda: self._count == 0, timeout)
        return time.monotonic() - started


requests_in_flight = RequestsInFlight()
