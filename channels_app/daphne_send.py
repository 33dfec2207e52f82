"""Sending one event to many sockets under Daphne, with the websocket frame built once.

Channels' `send(text_data=...)` makes Daphne encode the text and autobahn build the
websocket frame again for every socket: for one event going to 500 consoles, 500
times the same bytes, and three layers of checks and coroutines per socket. autobahn
has its own API for a broadcast: a `PreparedMessage` is framed once and written to
each protocol as is (`send_prepared` does what autobahn's `sendPreparedMessage` would,
without building a debug-log call's arguments per socket).

A consumer reaches its Daphne protocol through the ASGI `send` Daphne gave it
(`functools.partial(Server.handle_reply, protocol)`). Under anything else (Channels'
test communicator, another ASGI server) `daphne_protocol` finds nothing and the
consumer keeps the plain `send()`; so does a socket that is not open, or one that
negotiated compression, whose frames differ per socket.
"""

from __future__ import annotations

import functools
from typing import Any

from autobahn.websocket.protocol import PreparedMessage
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol


class Frame:
    """One event's frame for one view: its text, and the websocket frame of that text,
    built on first use by the first socket that can send it as is."""

    __slots__ = ("_prepared", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._prepared: PreparedMessage | None = None

    def prepared(self) -> PreparedMessage:
        if self._prepared is None:
            # Server frames are unmasked (applyMask=False); doNotCompress: a socket
            # with compression never gets here (send_prepared), so keep no copy.
            self._prepared = PreparedMessage(
                self.text.encode("utf-8"), isBinary=False, applyMask=False, doNotCompress=True
            )
        return self._prepared


def daphne_protocol(send: Any) -> WebSocketProtocol | None:
    """The Daphne websocket protocol behind an ASGI `send`, if Daphne made it."""
    if (
        isinstance(send, functools.partial)
        and getattr(send.func, "__func__", None) is Server.handle_reply
        and len(send.args) == 1
        and not send.keywords
        and isinstance(send.args[0], WebSocketProtocol)
    ):
        return send.args[0]
    return None


def send_prepared(protocol: WebSocketProtocol, frame: Frame) -> bool:
    """Writes the frame to an open socket without compression and returns True; any
    other socket returns False, and the caller sends through ASGI, whose checks and
    errors then apply as before."""
    if protocol.state != protocol.STATE_OPEN or protocol._perMessageCompress is not None:
        return False
    data = frame.prepared().payloadHybi
    if protocol.send_queue or protocol.logOctets:
        # autobahn's own path: behind frames it queued, and into its octet log.
        protocol.sendData(data)
        return True
    # What autobahn's sendData does with a frame that nothing is queued before (write
    # it, count it), without the arguments of its debug-log call, which it builds for
    # every frame, debug logging on or not.
    protocol.transport.write(data)
    protocol.trafficStats.outgoingOctetsWireLevel += len(data)
    return True
