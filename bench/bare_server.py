"""Baseline (a): a bare broadcast server on the `websockets` library.

Clients connect to `/`, the benchmark triggers a broadcast over `/control` with
{"seq": n, "size": bytes}; the server builds the frame once and hands it to every
client with `websockets.asyncio.server.broadcast`. Compression is off.

    python -m bench.bare_server --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import json

from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.frames import PONG, bench_frame

clients: set[ServerConnection] = set()


async def handler(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request else "/"
    if path == "/control":
        async for request in connection:
            spec = json.loads(request)
            broadcast(clients, bench_frame(spec["seq"], spec["size"]))
        return
    clients.add(connection)
    try:
        async for _frame in connection:
            await connection.send(PONG)
    finally:
        clients.discard(connection)


async def main(port: int) -> None:
    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=1024
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
