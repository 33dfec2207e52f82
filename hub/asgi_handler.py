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


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the request's own thread (hub.request_threads), where its
        # database connection lives, as Django's own hops use.
        response: Any = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response
