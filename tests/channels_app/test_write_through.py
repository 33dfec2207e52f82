"""Daphne's connections send at once when nothing is queued (hub.twisted_tcp).

Each case runs a real Twisted asyncio reactor, as Daphne does, in a subprocess (the
reactor is installed once per process), listening on a loopback TCP port or on a Unix
socket (nginx's way into each Daphne process, docs/deployment.md) with a real client
socket reading everything it sends.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The server writes a small frame, then far more than the kernel's socket buffers
# take while the client sleeps, then a last frame, and records after each write
# whether the connection had to wait for the reactor (registered for writing).
SERVER = r"""
import asyncio, json, socket, sys, threading, time
from twisted.internet import asyncioreactor
asyncioreactor.install(asyncio.new_event_loop())
from twisted.internet import protocol, reactor
import hub.asgi  # the entry point Daphne loads installs the transport

SMALL = b"s" * 404
BIG = bytes(range(256)) * 40_000  # 10 MiB
LAST = b"the end"
seen = {}


class Sender(protocol.Protocol):
    def connectionMade(self):
        seen["transport"] = type(self.transport).__name__
        self.transport.write(SMALL)
        seen["small_waited_for_reactor"] = self.transport in reactor.getWriters()
        self.transport.write(BIG)
        seen["big_waited_for_reactor"] = self.transport in reactor.getWriters()
        self.transport.write(LAST)
        self.transport.loseConnection()


factory = protocol.Factory.forProtocol(Sender)
unix_path = sys.argv[1] if len(sys.argv) > 1 else None
if unix_path:
    reactor.listenUNIX(unix_path, factory)
else:
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")


def connect():
    if unix_path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(unix_path)
        return sock
    return socket.create_connection(("127.0.0.1", port.getHost().port))


def client():
    with connect() as sock:
        time.sleep(0.3)  # let the server's writes fill the kernel's buffers
        chunks = []
        while data := sock.recv(1 << 16):
            chunks.append(data)
    seen["received_all_in_order"] = b"".join(chunks) == SMALL + BIG + LAST
    reactor.callFromThread(reactor.stop)


threading.Thread(target=client, daemon=True).start()
reactor.callLater(30, reactor.stop)
reactor.run()
print(json.dumps(seen))
"""


def run_server(listen_on: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        where = [str(Path(folder) / "daphne.sock")] if listen_on == "unix" else []
        finished = subprocess.run(
            [sys.executable, "-c", SERVER, *where],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


LISTENERS = pytest.mark.parametrize(
    ("listen_on", "transport"),
    [("tcp", "WriteThroughServer"), ("unix", "WriteThroughUnixServer")],
)


@LISTENERS
def test_a_frame_with_nothing_queued_goes_out_without_waiting_for_the_reactor(
    listen_on: str, transport: str
) -> None:
    seen = run_server(listen_on)
    assert seen["transport"] == transport
    assert seen["small_waited_for_reactor"] is False


@LISTENERS
def test_what_the_kernel_does_not_take_is_queued_and_every_byte_arrives_in_order(
    listen_on: str, transport: str
) -> None:
    seen = run_server(listen_on)
    assert seen["transport"] == transport
    assert seen["big_waited_for_reactor"] is True
    assert seen["received_all_in_order"] is True
