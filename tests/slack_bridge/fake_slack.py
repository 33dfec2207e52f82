"""A small fake of the Slack Web API: a real HTTP server on loopback that records every
call and answers like Slack (chat.postMessage, users.info). SLACK_API_BASE_URL points
at it, so the bridge runs slack_sdk's real WebClient end to end."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # method → list of error codes answered (ok: false) before it works again
    failures: dict[str, list[str]] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(dict(parse_qsl(urlsplit(self.path).query)))

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or b"{}")
                else:
                    params = dict(parse_qsl(raw.decode()))
                params.update(parse_qsl(urlsplit(self.path).query))
                self._answer(params)

            def _answer(self, params: dict[str, Any]) -> None:
                method = urlsplit(self.path).path.rsplit("/", 1)[-1]
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                body = fake.answer(method, params, token)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def answer(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        with self._lock:
            self.calls.append(Call(method, params, token))
            pending = self.failures.get(method) or []
            if pending:
                return {"ok": False, "error": pending.pop(0)}
            if method == "chat.postMessage":
                ts = f"1700000000.{next(self._ts):06d}"
                return {"ok": True, "channel": params.get("channel"), "ts": ts}
            if method == "users.info":
                user = self.users.get(str(params.get("user")))
                if user is None:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": user}
            return {"ok": False, "error": "unknown_method"}

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            call.params
            for call in self.calls
            if call.method == "chat.postMessage"
            and (channel is None or call.params.get("channel") == channel)
        ]

    def add_user(self, user_id: str, email: str, name: str) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "profile": {"email": email, "real_name": name},
        }
