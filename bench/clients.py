"""A fleet of websocket clients in one asyncio process that timestamps, per
benchmark frame, when each client has it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Sequence

from websockets.asyncio.client import ClientConnection, connect

from bench.frames import frame_seq


def progress(text: str) -> None:
    sys.stderr.write(f"\r\x1b[K{text}")
    sys.stderr.flush()


def progress_done() -> None:
    sys.stderr.write("\n")
    sys.stderr.flush()


class CollectorPauses:
    """The benchmark process's own garbage-collector pauses. It holds thousands of
    client sockets' objects: a full collection of them took about 180 ms, a pause that
    stamps every frame arriving meanwhile late and so lands on whichever server's
    message or call is being timed. `settle()` collects now and freezes what is left
    out of later collections (as the hub's Daphne process does after start-up); call
    it after each setup, before measuring, and `measured(window)` after, which keeps
    the longest pause of each kind of window (the fan-out rows, the capacity steps,
    the screen pop's calls), so a run shows whether its client stayed out of its own
    figures."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self.longest_by_window: dict[str, float] = {}
        self._started = 0.0
        gc.callbacks.append(self._timed)

    def _timed(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._started) * 1000)

    def settle(self) -> None:
        gc.collect()
        gc.freeze()
        self.longest_ms = 0.0

    def measured(self, window: str) -> None:
        self.longest_by_window[window] = max(
            self.longest_by_window.get(window, 0.0), self.longest_ms
        )


collector = CollectorPauses()


class Fleet:
    def __init__(self, url: str, origin: str, cookies: Sequence[str | None]) -> None:
        self.url = url
        self.origin = origin
        self.cookies = list(cookies)
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.frame_bytes = 0
        self.last_frame_at = 0.0

    @property
    def size(self) -> int:
        return len(self.sockets)

    async def _open(self, cookie: str | None) -> ClientConnection:
        headers = {"Cookie": cookie} if cookie else {}
        ws = await connect(
            self.url,
            origin=self.origin,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            ping_interval=None,
            open_timeout=60,
            max_queue=None,
        )
        # The first frame releases the hub's live stream (no resume wanted); every
        # server answers it with a pong.
        await ws.send('{"action": "ping"}')
        async with asyncio.timeout(60):
            while True:
                frame = await ws.recv()
                if isinstance(frame, str) and '"pong"' in frame:
                    break
        return ws

    async def _read(self, ws: ClientConnection) -> None:
        arrivals, complete = self.arrivals, self.complete
        async for frame in ws:
            now = time.perf_counter()
            self.last_frame_at = now
            seq = frame_seq(frame)
            if seq is None:
                continue
            times = arrivals[seq]
            if not self.frame_bytes:
                self.frame_bytes = len(frame.encode())
            times.append(now)
            # The fleet may grow between messages (the capacity row): compare with
            # its size now, not when this reader started.
            if len(times) >= len(self.sockets):
                complete[seq].set()

    async def connect(self, count: int, label: str, concurrency: int = 25) -> None:
        """Open `count` more sockets (with the next cookies), `concurrency` at a time."""
        start = len(self.sockets)
        cookies = self.cookies[start : start + count]
        gate = asyncio.Semaphore(concurrency)
        opened: list[ClientConnection] = []

        async def one(cookie: str | None) -> None:
            async with gate:
                opened.append(await self._open(cookie))
                done = start + len(opened)
                if done % 25 == 0 or done == len(self.cookies) or sys.stderr.isatty():
                    progress(f"[{label}] connecting {done}/{len(self.cookies)}")

        await asyncio.gather(*(one(cookie) for cookie in cookies))
        self.sockets.extend(opened)

    async def resize(self, count: int, label: str) -> None:
        """Open or close sockets until `count` are open; new ones are read at once."""
        if count > self.size:
            await self.connect(count - self.size, label)
            self.start_reading()
        closed = 0
        while self.size > count:
            ws = self.sockets.pop()
            if len(self.readers) > len(self.sockets):
                self.readers.pop().cancel()
            await ws.close()
            closed += 1
        if closed:
            # Each closed console is an agent going offline, announced to the team's
            # remaining consoles: let that storm pass before measuring.
            await self.wait_quiet(quiet=1.0, limit=60)

    async def wait_quiet(self, quiet: float, limit: float) -> None:
        deadline = time.perf_counter() + limit
        await asyncio.sleep(quiet)
        while time.perf_counter() < deadline and time.perf_counter() - self.last_frame_at < quiet:
            await asyncio.sleep(0.2)

    def start_reading(self) -> None:
        """Start a reader on every socket that has none yet."""
        new = self.sockets[len(self.readers) :]
        self.readers += [asyncio.create_task(self._read(ws)) for ws in new]

    async def wait_for(self, seq: int, timeout: float) -> list[float]:
        """Arrival times of frame `seq`: all of them, or what came within `timeout`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.complete[seq].wait(), timeout)
        return list(self.arrivals[seq])

    async def abandon(self) -> None:
        for task in self.readers:
            task.cancel()
        for ws in self.sockets:
            ws.transport.abort()
        self.sockets.clear()
