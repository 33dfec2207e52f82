"""Django's ASGI handler with its middleware chain and view run in one thread hop.

Under ASGI, Django builds its middleware chain in async mode. Every middleware built
on `MiddlewareMixin` (security, sessions, locale, common, CSRF, authentication,
messages, clickjacking, axes) then runs its `process_request` and its
`process_response` each through `sync_to_async`, and every `process_view` and the
view itself through another: about twenty round trips between the event loop and the
request's thread per request, each a wake-up of the other thread and a wait for the
interpreter lock. In Daphne the event loop is also what sends the consoles' frames,
so every one of them waited behind whatever the loop was doing (about 2 ms of a
screen pop before its view started, more under load: docs/performance.md).

`OneHopASGIHandler` builds the chain in sync mode, as under WSGI, and runs it with the
view in the request's thread in one `sync_to_async` call. The chain and the view are
the same code either way; what changes is only where the hops are. An async view
(none in the hub) would still work: Django wraps it in `async_to_sync`.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

# Where `create_request` leaves the request for `handle`: a key of the request's ASGI
# scope (the request holds the scope too; `handle` takes the key out).
REQUEST_KEY = "hub.request"


class OneHopASGIHandler(ASGIHandler):
    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().handle(scope, receive, send)
        finally:
            request = scope.pop(REQUEST_KEY, None)
            # Sessions, messages and the lazy `request.user` each point back at the
            # request: reference cycles, freed only by a full collection. Not a
            # request whose client left before the answer: its view may still be
            # running in its thread, and finishes with its request intact.
            if getattr(request, "view_returned", False):
                request.__dict__.clear()

    def create_request(self, scope: Any, body_file: Any) -> tuple[Any, Any]:
        request, error_response = super().create_request(scope, body_file)
        if request is not None:
            scope[REQUEST_KEY] = request
        return request, error_response

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the request's own thread (hub.request_threads), where its
        # database connection lives, as Django's own hops use.
        response: Any = await sync_to_async(self._answer, thread_sensitive=True)(request)
        return response

    def _answer(self, request: HttpRequest) -> HttpResponseBase:
        """The chain and the view, in the request's thread; then `request.view_returned`
        (still unset when `handle` ends if the client left while the view ran)."""
        response = self.get_response(request)
        request.view_returned = True  # type: ignore[attr-defined]
        return response

    async def listen_for_disconnect(self, receive: Any) -> None:
        """Returns when the client is gone, where Django's raises RequestAborted.

        `handle` treats both alike (the listener is done, so a request still running
        is cancelled), but the exception, stored in the listener's task and re-raised
        into `handle`'s frame, made a reference cycle (traceback, frame, its list of
        tasks, the task, the exception) holding the request, its body, its session
        and its response. This and the cycles `handle` breaks left about 150 objects
        a screen pop for the collector's full passes, which took about 10 ms each
        (5-8 ms without them; docs/performance.md)."""
        message = await receive()
        if message["type"] != "http.disconnect":
            # As Django's: an ASGI server never sends anything else here.
            raise AssertionError(f"Invalid ASGI message after request body: {message['type']}")
