"""The deployment of docs/deployment.md on loopback: nginx, configured from
bench/nginx.conf, in front of a Daphne process on a Unix socket that takes the
client's address from nginx (--proxy-headers)."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from django.conf import settings

from bench import procs
from tests.factories import Personas
from tests.servers import console_socket, cookie_header, next_of_type, server_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """Overrides the suite's MD5 hashing: these sign-ins go to a real server, which
    verifies passwords with the production hashers."""


@pytest.fixture
def nginx_port() -> Iterator[int]:
    if not Path(shutil.which("nginx") or "/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (apt-get install nginx-light); .ci/run installs it")
    # Not pytest's tmp_path: a Unix socket's path must stay under 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="hub-web-"))
    socket_path = folder / "daphne.sock"
    try:
        with (
            procs.daphne_behind_nginx(
                "hub.asgi:application", socket_path, folder / "daphne.log", server_env(folder)
            ),
            procs.nginx([socket_path], folder) as (port, _nginx),
        ):
            yield port
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Answer(NamedTuple):
    status: int
    set_cookie: str
    text: str


def request(
    port: int,
    method: str,
    path: str,
    *,
    source: str = "127.0.0.1",
    body: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request to nginx from the given loopback address (Linux answers on all of
    127.0.0.0/8), read to the end."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    encoded = urllib.parse.urlencode(body) if body is not None else None
    all_headers = dict(headers or {})
    if encoded is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=encoded, headers=all_headers)
    response = connection.getresponse()
    answer = Answer(
        response.status, response.getheader("Set-Cookie") or "", response.read().decode()
    )
    connection.close()
    return answer


def sign_in(port: int, email: str, password: str, *, source: str, forged_for: str = "") -> int:
    """Signs in through nginx as a browser would (the form's CSRF token and cookie
    first); returns the status of the POST (302 when signed in)."""
    page = request(port, "GET", "/accounts/login/", source=source)
    cookie = re.search(r"csrftoken=([^;]+)", page.set_cookie)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert cookie and token, "the login page gives a CSRF cookie and token"
    headers = {"Cookie": f"csrftoken={cookie.group(1)}"}
    if forged_for:
        headers["X-Forwarded-For"] = forged_for
    answer = request(
        port,
        "POST",
        "/accounts/login/",
        source=source,
        body={"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers=headers,
    )
    return answer.status


def test_nginx_serves_pages_and_the_console_socket_from_daphne_on_a_unix_socket(
    nginx_port: int, people: Personas
) -> None:
    assert request(nginx_port, "GET", "/healthz").status == 200
    cookie = cookie_header(people.agent)

    async def ping_through_nginx() -> dict:
        async with console_socket(nginx_port, cookie) as ws:
            await ws.send(json.dumps({"action": "ping"}))
            return await next_of_type(ws, "pong")

    assert asyncio.run(ping_through_nginx())["type"] == "pong"


def test_a_lockout_counts_against_the_address_nginx_saw_not_one_the_client_claims(
    nginx_port: int, people: Personas, password: str
) -> None:
    # Wrong passwords from one address, each claiming another in X-Forwarded-For:
    # nginx replaces the header, so all of them count against 127.0.0.1.
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(
            nginx_port,
            people.agent.email,
            "wrong",
            source="127.0.0.1",
            forged_for=f"10.0.0.{attempt}",
        )
    assert sign_in(nginx_port, people.agent.email, password, source="127.0.0.1") in (403, 429)
    # The agent at another address is not locked out by them (with nginx's address
    # as everyone's, as behind a proxy without --proxy-headers, they would be).
    assert sign_in(nginx_port, people.agent.email, password, source="127.0.0.2") == 302
