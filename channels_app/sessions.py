"""Django's session on a console socket, read once when the socket connects.

Channels' SessionMiddleware wraps `send` so that a session modified during a request
is saved with the response; on a websocket that wrapper runs for every outgoing
frame (checking `modified` and `is_empty()` through a lazy proxy), about a tenth of a
Daphne process's time in a fan-out (docs/performance.md). The console never writes
the Django session: its own state lives in ConsoleSession rows. So this middleware
only loads the session for AuthMiddleware and leaves `send` alone.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.auth import AuthMiddleware
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware
from django.conf import settings


class ReadOnlySessionMiddleware(BaseMiddleware):
    """Puts the cookie's session in the scope; never saves it. Needs CookieMiddleware
    above it."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = scope["cookies"].get(settings.SESSION_COOKIE_NAME)
        store = import_module(settings.SESSION_ENGINE).SessionStore
        return await super().__call__({**scope, "session": store(key)}, receive, send)


def read_only_session_auth(inner: Any) -> Any:
    """AuthMiddlewareStack without the per-frame session save."""
    return CookieMiddleware(ReadOnlySessionMiddleware(AuthMiddleware(inner)))
