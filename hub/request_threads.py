"""Worker threads for HTTP requests, kept from one request to the next.

Django runs each ASGI request in a thread-sensitive context of its own (asgiref's
`ThreadSensitiveContext`): the request's synchronous code (views, the ORM) runs on one
thread of its own, so a slow request never holds up another. asgiref creates that
thread for the request and, when it ends, starts another thread to join it: two thread
starts and a join for every webhook, in the same process as the event loop that sends
the consoles' frames (a tenth of a screen pop's time in a profile,
docs/performance.md).

`ReusedRequestThreads` wraps the Django ASGI application and enters the context first,
with a one-thread executor taken from a pool; Django's own context then sees it and
adds none. A request still gets a thread no other request is using, so the isolation
is the same; the thread is simply not new. An executor goes back to the pool only when
its request finished normally: a request cancelled (the client went away) may leave
its synchronous code running, and the next request must not queue behind it.

It also counts the requests in flight (hub.requests_in_flight), for the background
work that gives way to them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

from hub.requests_in_flight import requests_in_flight

# Idle executors kept for the next requests; more at once than this (a burst) are
# closed after their request.
IDLE_KEPT = 16


class ReusedRequestThreads:
    def __init__(self, application: Any, *, idle_kept: int = IDLE_KEPT) -> None:
        self.application = application
        self.idle_kept = idle_kept
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        executor = (
            self._idle.pop()
            if self._idle
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
        )
        requests_in_flight.started()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.application(scope, receive, send)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        finally:
            requests_in_flight.finished()
        if len(self._idle) < self.idle_kept:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)
