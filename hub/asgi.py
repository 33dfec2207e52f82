"""ASGI entry point for Daphne: HTTP through Django, websockets through Channels."""

import gc
import os
import sys

import autobahn.util
import autobahn.websocket.protocol
import django

from hub import twisted_tcp

# autobahn (Daphne's websocket protocol) formats the arguments of a debug-log call for
# every frame it sends, debug logging on or not, and colours them with click whenever
# click is importable. The development environment has click (through schemathesis),
# a deployment does not: with it, the colouring was about 7% of the Daphne process's
# time in a 500-console fan-out (docs/performance.md). Log colours are for terminals.
autobahn.util._HAS_CLICK = False


def _type_name(method: object) -> str:
    return f"<{getattr(method, '__qualname__', 'unknown')}>"


# For the same thrown-away message autobahn names the sending method through
# `inspect` (`hltype`), another 7% of that fan-out: a plain name does for a debug log.
autobahn.websocket.protocol.hltype = _type_name

# Daphne imports this module before it starts listening, so its connections are
# accepted as hub.twisted_tcp.WriteThroughServer (send at once, queue only the rest).
twisted_tcp.install()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
# Django must be set up before anything imports models (the consumers do).
django.setup(set_prefix=False)

from hub.asgi_handler import OneHopASGIHandler  # noqa: E402

# What django.core.asgi.get_asgi_application() returns, with the middleware chain and
# the view in one thread hop (hub.asgi_handler).
django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.urls import get_resolver  # noqa: E402

# Import the URLconf and every view module now, not on the first request: the first
# Twilio webhook after a start would otherwise wait about 200 ms for the imports.
get_resolver().url_patterns  # noqa: B018

from channels_app.routing import websocket_application  # noqa: E402
from hub.request_threads import ReusedRequestThreads  # noqa: E402

application = ProtocolTypeRouter(
    {"http": ReusedRequestThreads(django_asgi_app), "websocket": websocket_application}
)

# A webhook's view runs in a worker thread while the event loop's thread sends frames,
# and each of them gives the interpreter lock up at every socket call (a statement to
# PostgreSQL, a frame to a console) and then waits for it back. With Python's default
# switch interval of 5 ms, a thread whose I/O has finished waits up to that long while
# the other computes: the screen pop's statements and the pop's frame paid it over and
# over (docs/performance.md). Half a millisecond lets them alternate as their I/O
# completes, at the price of more switches in a CPU-bound stretch.
SWITCH_INTERVAL_SECONDS = 0.0005
sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)

# Everything imported so far (Django, the apps, the URLconf, their caches) lives as
# long as the process. Moved out of the collector's reach, a full collection walks only
# what requests create: without it, a collection now and then stopped the server for
# 110-230 ms (a screen pop's worst case; docs/performance.md).
gc.freeze()
