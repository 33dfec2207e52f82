"""HTTP requests reuse their worker threads (hub.request_threads) and keep what
Django's per-request threads give: a request's synchronous code on one thread, never
shared with a request running at the same time."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import sync_to_async

from hub.request_threads import ReusedRequestThreads


class RecordingApp:
    """An ASGI app whose request runs synchronous code twice (as a view and a
    signal handler would) and records the threads; `hold` keeps the first call
    waiting until released."""

    def __init__(self) -> None:
        self.threads: dict[str, list[int]] = {}
        self.hold: dict[str, threading.Event] = {}
        self.started: dict[str, threading.Event] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = scope["path"]

        def work() -> int:
            self.started.setdefault(name, threading.Event()).set()
            if name in self.hold:
                self.hold[name].wait(30)
            return threading.get_ident()

        first = await sync_to_async(work)()
        second = await sync_to_async(threading.get_ident)()
        self.threads[name] = [first, second]


async def request(app: ReusedRequestThreads, path: str) -> None:
    await app({"type": "http", "path": path}, None, None)


async def held_request(
    app: ReusedRequestThreads, inner: RecordingApp, path: str
) -> asyncio.Task[None]:
    """A request whose synchronous code has started and waits until released."""
    inner.hold[path] = threading.Event()
    task = asyncio.create_task(request(app, path))
    await asyncio.to_thread(inner.started.setdefault(path, threading.Event()).wait, 5)
    return task


async def test_a_request_keeps_one_thread_and_the_next_request_reuses_it() -> None:
    inner = RecordingApp()
    app = ReusedRequestThreads(inner)
    await request(app, "/a")
    await request(app, "/b")
    (a1, a2), (b1, b2) = inner.threads["/a"], inner.threads["/b"]
    assert a1 == a2 != threading.get_ident()
    assert b1 == b2 == a1  # no new thread for the second request


async def test_requests_at_the_same_time_never_share_a_thread() -> None:
    inner = RecordingApp()
    app = ReusedRequestThreads(inner)
    slow = await held_request(app, inner, "/slow")
    # The slow request holds its thread; another request is not queued behind it.
    await asyncio.wait_for(request(app, "/fast"), 5)
    inner.hold["/slow"].set()
    await slow
    assert inner.threads["/fast"][0] != inner.threads["/slow"][0]


async def test_a_cancelled_requests_thread_is_not_given_to_the_next_request() -> None:
    inner = RecordingApp()
    app = ReusedRequestThreads(inner)
    gone = await held_request(app, inner, "/gone")
    gone.cancel()  # the client went away; its synchronous code still runs
    await asyncio.gather(gone, return_exceptions=True)
    await asyncio.wait_for(request(app, "/next"), 5)
    inner.hold["/gone"].set()
    assert inner.threads["/next"][0] == inner.threads["/next"][1]
    assert "/gone" not in inner.threads


async def test_only_so_many_idle_threads_are_kept() -> None:
    inner = RecordingApp()
    app = ReusedRequestThreads(inner, idle_kept=1)
    both = [await held_request(app, inner, name) for name in ("/x", "/y")]
    for name in ("/x", "/y"):
        inner.hold[name].set()
    await asyncio.gather(*both)
    await request(app, "/z")
    assert inner.threads["/z"][0] in {inner.threads["/x"][0], inner.threads["/y"][0]}
    assert len(app._idle) == 1
