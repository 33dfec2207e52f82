"""The hub's ASGI handler (hub.asgi_handler) serves requests through the whole
middleware chain as Django's does, with the chain and the view in one thread hop."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from hub.asgi_handler import OneHopASGIHandler
from hub.request_threads import ReusedRequestThreads

pytestmark = pytest.mark.django_db(transaction=True)


def http_scope(method: str, path: str, headers: Any = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def serve(
    method: str, path: str, body: bytes = b"", headers: Any = (), *, disconnect: bool = False
) -> dict[str, Any]:
    """One request; `disconnect`: then the client is gone, as Daphne tells the
    application once it has sent the response."""
    scope = http_scope(method, path, headers)
    communicator = ApplicationCommunicator(OneHopASGIHandler(), scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(10)
    chunks = []
    while True:
        message = await communicator.receive_output(10)
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    if disconnect:
        await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(10)
    return {"status": start["status"], "headers": dict(start["headers"]), "body": b"".join(chunks)}


async def test_a_page_is_served_with_the_middlewares_headers() -> None:
    answer = await serve("GET", "/accounts/login/")
    assert answer["status"] == 200
    # Set by middlewares: the CSRF cookie (CsrfViewMiddleware) and clickjacking's.
    assert answer["headers"][b"X-Frame-Options"] == b"DENY"
    assert b"csrftoken" in answer["headers"].get(b"Set-Cookie", b"")


async def test_a_form_post_without_its_csrf_token_is_refused() -> None:
    answer = await serve(
        "POST",
        "/accounts/login/",
        b"username=a%40b.test&password=x",
        [(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert answer["status"] == 403


async def test_the_chain_and_the_view_take_one_thread_hop(monkeypatch) -> None:
    hops = []
    original = SyncToAsync.__call__

    async def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    answer = await serve("GET", "/accounts/login/")
    assert answer["status"] == 200
    # The request_started signal's receivers, the chain with the view, and closing
    # the response (request_finished): Django's own handler took about twenty.
    assert len(hops) <= 3, hops


def test_no_middleware_is_adapted_to_the_sync_chain(caplog, settings) -> None:
    """An async-only middleware would be wrapped in async_to_sync: a hop back to the
    event loop for every request, what the handler is there to avoid."""
    settings.DEBUG = True  # Django logs each adapted middleware only with DEBUG
    with caplog.at_level("DEBUG", logger="django.request"):
        OneHopASGIHandler()
    assert not [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]


async def test_a_served_request_is_freed_without_the_garbage_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Django's handler leaves each request in reference cycles (its session, its
    messages and its lazy user point back at it; the client's disconnect was an
    exception kept with the handler's frame), which only the collector's full passes
    free: pauses of about 10 ms every few hundred requests in Daphne."""
    made: list[weakref.ref[Any]] = []
    create_request = ASGIHandler.create_request

    def recorded(self: ASGIHandler, scope: Any, body_file: Any) -> Any:
        request, error_response = create_request(self, scope, body_file)
        made.append(weakref.ref(request))
        return request, error_response

    monkeypatch.setattr(ASGIHandler, "create_request", recorded)
    await serve("GET", "/healthz", disconnect=True)  # a process's first request warms up
    gc.collect()
    gc.disable()
    try:
        for _ in range(2):
            # The request's thread lets go of its last request when it takes the next.
            answer = await serve("GET", "/healthz", disconnect=True)
            assert answer["status"] in (200, 503)
        assert made[-2]() is None
    finally:
        gc.enable()


async def test_a_view_still_running_when_its_client_leaves_keeps_its_request() -> None:
    """The client is gone before the answer: `handle` stops waiting for the view, but
    the view's thread runs on (Python cannot stop it) and must still find its request
    whole, so an action the user started completes."""
    handler = OneHopASGIHandler()
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, Any] = {}
    get_response = handler.get_response

    def slow(request: Any) -> Any:
        """The chain and the view, held up until the client has left."""
        started.set()
        release.wait(10)
        try:
            response = get_response(request)
            seen["status"], seen["signed in"] = response.status_code, request.user.is_authenticated
            return response
        except Exception as error:  # what the test reports
            seen["error"] = repr(error)
            raise
        finally:
            finished.set()

    handler.get_response = slow  # type: ignore[method-assign]
    # As hub/asgi.py serves it: the request's thread from the pool.
    communicator = ApplicationCommunicator(
        ReusedRequestThreads(handler), http_scope("GET", "/healthz")
    )
    await communicator.send_input({"type": "http.request", "body": b""})
    assert await asyncio.to_thread(started.wait, 5)
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(10)  # `handle` has given up on the view
    release.set()
    assert await asyncio.to_thread(finished.wait, 10)
    assert seen == {"status": 200, "signed in": False}


async def test_the_disconnect_listener_ends_on_a_disconnect_and_rejects_anything_else() -> None:
    handler = OneHopASGIHandler()

    def receiving(message_type: str) -> Any:
        async def receive() -> dict[str, Any]:
            return {"type": message_type}

        return receive

    assert await handler.listen_for_disconnect(receiving("http.disconnect")) is None
    with pytest.raises(AssertionError, match=r"http\.request"):
        await handler.listen_for_disconnect(receiving("http.request"))
