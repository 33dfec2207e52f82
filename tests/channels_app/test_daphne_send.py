"""Live events go to Daphne's websocket protocols as frames built once
(channels_app.daphne_send), with the same bytes on the wire as Channels' send().

The protocols are Daphne's own, over Twisted's in-memory transport; what Daphne's
handshake would have set on them (an open state, the client's address) is set here.
"""

from __future__ import annotations

import asyncio
import functools

import pytest
from channels.exceptions import StopConsumer
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet.testing import StringTransport

from channels_app.consumers.console import ConsoleConsumer
from channels_app.daphne_send import Frame, daphne_protocol, send_prepared
from channels_app.routing import websocket_application


@pytest.fixture
def server() -> Server:
    # Constructing the server listens on nothing; `run()` would, and would start its
    # table of connections, which the protocols here join by hand.
    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])
    server.connections = {}
    return server


def open_protocol(server: Server) -> tuple[WebSocketProtocol, StringTransport]:
    protocol = WebSocketFactory(server).buildProtocol(("127.0.0.1", 40000))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.client_addr = ["127.0.0.1", 40000]
    protocol.state = protocol.STATE_OPEN
    server.connections[protocol] = {}
    return protocol, transport


TEXTS = [
    '{"type":"message.created"}',
    '{"body":"Grüße, 你好 ✓"}',  # multi-byte text: the frame length counts bytes
    "x" * 300,  # a 16-bit length
    "y" * 70_000,  # a 64-bit length
]


@pytest.mark.parametrize("text", TEXTS, ids=["short", "non-ascii", "medium", "long"])
def test_a_prepared_frame_is_byte_for_byte_what_channels_would_send(
    server: Server, text: str
) -> None:
    plain, plain_wire = open_protocol(server)
    prepared, prepared_wire = open_protocol(server)
    asyncio.run(server.handle_reply(plain, {"type": "websocket.send", "text": text}))

    assert send_prepared(prepared, Frame(text)) is True

    assert prepared_wire.value() == plain_wire.value()
    assert prepared_wire.value().endswith(text.encode())


def test_one_frame_is_built_once_for_every_socket(server: Server) -> None:
    frame = Frame('{"id":7}')
    wires = []
    for _ in range(3):
        protocol, wire = open_protocol(server)
        send_prepared(protocol, frame)
        wires.append(wire.value())

    assert wires == [b'\x81\x08{"id":7}'] * 3
    assert frame.prepared() is frame.prepared()


@pytest.mark.parametrize("state", ["STATE_CLOSING", "STATE_CLOSED", "STATE_CONNECTING"])
def test_a_socket_that_is_not_open_is_left_to_channels(server: Server, state: str) -> None:
    protocol, wire = open_protocol(server)
    protocol.state = getattr(protocol, state)

    assert send_prepared(protocol, Frame("late")) is False
    assert wire.value() == b""


def test_a_socket_with_compression_is_left_to_channels(server: Server) -> None:
    protocol, wire = open_protocol(server)
    protocol._perMessageCompress = object()  # negotiated permessage-deflate

    assert send_prepared(protocol, Frame("compressed per socket")) is False
    assert wire.value() == b""


def test_only_daphnes_own_send_leads_to_its_protocol(server: Server) -> None:
    protocol, _wire = open_protocol(server)

    assert daphne_protocol(functools.partial(server.handle_reply, protocol)) is protocol

    async def other_send(message: dict) -> None:
        pass

    assert daphne_protocol(other_send) is None
    assert daphne_protocol(functools.partial(other_send)) is None


@pytest.mark.django_db(transaction=True)
def test_the_console_socket_gets_daphnes_send_through_the_hubs_routing(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A middleware that wrapped `send` (as Channels' SessionMiddleware does) would
    quietly put every console back on the per-socket path."""
    protocol, _wire = open_protocol(server)
    seen = {}

    async def record(self: ConsoleConsumer, message: dict) -> None:
        seen["protocol"] = daphne_protocol(self.base_send)
        raise StopConsumer

    monkeypatch.setattr(ConsoleConsumer, "websocket_connect", record)
    scope = {
        "type": "websocket",
        "path": "/ws/console/",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"origin", b"http://localhost")],
        "client": ["127.0.0.1", 40000],
        "server": ["127.0.0.1", 8000],
        "subprotocols": [],
    }

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    asyncio.run(
        websocket_application(scope, receive, functools.partial(server.handle_reply, protocol))
    )

    assert seen["protocol"] is protocol
