"""A TCP proxy on loopback that a fault test can cut: the network between the hub and
one of its services (PostgreSQL, Dovecot), failing the way real networks fail."""

from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress

from tests.servers import free_port


class TcpProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target_port until told otherwise.

    `go_down()` drops every open connection and refuses new ones (the service is
    unreachable); `come_back()` listens again on the same port. `cut_after(n)` lets
    the next connections carry n bytes from the service, then drops them mid-stream.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cut_after_bytes: int | None = None
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def come_back(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    start = come_back

    def go_down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            _drop(connection)

    stop = go_down

    def cut_after(self, size: int | None) -> None:
        self.cut_after_bytes = size

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # went down
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _drop(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections += [client, upstream]
            budget = [self.cut_after_bytes]
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, budget), daemon=True
            ).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, budget: list[int | None] | None
    ) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if budget is not None and budget[0] is not None:
                    if len(chunk) >= budget[0]:
                        sink.sendall(chunk[: budget[0]])
                        break  # the connection dies here, mid-answer
                    budget[0] -= len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        _drop(source)
        _drop(sink)


def _drop(connection: socket.socket) -> None:
    # A reset, not a polite FIN: what a crashed server or a cut cable looks like.
    with suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        # Wakes the pump thread blocked reading this socket; close() alone would not.
        connection.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        connection.close()
