"""Daphne's connections send at once when nothing is waiting to go out.

Twisted's transports never send from `write()`: they queue the bytes, register the
socket with the reactor for writing, and send on the next turn of the loop, when the
reactor says the socket is writable, then unregister it. For a console fan-out that is
two extra system calls (`epoll_ctl` in, `epoll_ctl` out) and a loop callback for every
frame of every console: in a py-spy profile of a 500-console fan-out it was about a
third of the Daphne process's time, more than the `send()` itself
(docs/performance.md). asyncio's own transports (and so the `websockets` library)
try the `send()` first and only register the socket when the kernel's buffer is full.

`WriteThroughServer` does the same for Daphne on a TCP port, `WriteThroughUnixServer`
on a Unix socket (how nginx reaches each Daphne process in docs/deployment.md): a
write with nothing queued before it is sent at once; whatever the kernel does not
take (or any error) goes down Twisted's own path, which queues it, registers the
socket and reports a lost connection the usual way. Bytes never overtake each other:
anything already queued means the new bytes are queued behind it.
"""

from __future__ import annotations

from twisted.internet import tcp, unix


class _WriteThrough:
    """The write of an accepted stream connection that tries the socket before the
    queue; mixed in before Twisted's own server class."""

    def write(self, data: bytes) -> None:
        if (
            self.TLS  # the TLS layer writes through FileDescriptor itself
            or not self.connected
            or self.disconnecting
            or self._writeDisconnected
            # A pull producer waits for doWrite to ask for more; a paused push producer
            # for doWrite to drain the queue. (A push producer is the normal case:
            # Daphne's HTTP channel stays registered after the websocket upgrade, and
            # with nothing queued there is nothing to pause it for.)
            or (self.producer is not None and not self.streamingProducer)
            or self.producerPaused
            or self._tempDataBuffer
            or self.offset < len(self.dataBuffer)
            # A Unix connection's file descriptors to pass go out with queued bytes.
            or getattr(self, "_sendmsgQueue", None)
            or not isinstance(data, bytes)  # Twisted's write raises the right error
        ):
            super().write(data)
            return
        sent = self.writeSomeData(data)
        if isinstance(sent, int) and sent == len(data):
            return
        # Part sent (the kernel's buffer is full) or an error: the rest (or all of it,
        # to fail the same way again in doWrite) takes Twisted's path.
        super().write(data[sent:] if isinstance(sent, int) and sent > 0 else data)


class WriteThroughServer(_WriteThrough, tcp.Server):
    """An accepted TCP connection whose writes try the socket before the queue."""


class WriteThroughUnixServer(_WriteThrough, unix.Server):
    """An accepted Unix-socket connection whose writes try the socket before the queue."""


def install() -> None:
    """Make every TCP port and Unix socket of this process (Daphne listens on one)
    accept connections as the write-through servers. Called before Daphne starts
    listening."""
    tcp.Port.transport = WriteThroughServer
    unix.Port.transport = WriteThroughUnixServer
