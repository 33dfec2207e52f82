"""Real Daphne processes on loopback, serving the test database."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect

from hub.models import User

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_database_url() -> str:
    """The database this test run uses, as a URL another process can open."""
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daphne on {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"daphne on {port} did not come up")


def server_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a server process serving this test run's database."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": test_database_url(),
        "HUB_DATA_DIR": str(data_dir),
        # Sessions are signed: the servers must share the test process's key.
        "SECRET_KEY": settings.SECRET_KEY,
        **overrides,
    }


@contextmanager
def daphne_servers(count: int, data_dir: Path, **env_overrides: str) -> Iterator[list[int]]:
    env = server_env(data_dir, **env_overrides)
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "hub.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_serving(port, process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def cookie_header(user: User) -> str:
    """A Cookie header that signs a socket of another process in as `user`."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def console_socket(port: int, cookie: str, query: str = "") -> connect:
    """A console websocket to a real server on `port`, as a browser opens it (the
    page's origin, the session cookie); await it or use it with `async with`."""
    return connect(
        f"ws://127.0.0.1:{port}/ws/console/{query}",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
        compression=None,
    )


async def next_of_type(ws: ClientConnection, event_type: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == event_type:
                return frame
