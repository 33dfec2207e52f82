"""The ASGI entry point Daphne loads."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_autobahn_does_not_colour_log_arguments_for_every_frame_sent() -> None:
    """autobahn formats a debug-log call's arguments on every frame it sends, even with
    debug logging off; coloured through click (present in the development environment)
    that was about 7% of a fan-out. Loading the entry point turns the colouring off; an
    autobahn release that moves the switch makes this fail instead of silently costing
    the time again."""
    importlib.import_module("hub.asgi")
    from autobahn.util import hl, hlval

    assert hl("sent 404 bytes") == "sent 404 bytes"
    assert hlval(404) == "404"


def test_the_entry_point_loads_the_views_before_the_first_request() -> None:
    """The first webhook after a start must not wait for the URLconf's imports."""
    program = "import sys, hub.asgi; print('inbox.reports' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.strip() == "True", loaded.stderr


def test_autobahn_names_the_sending_method_cheaply_in_its_per_frame_debug_log() -> None:
    """autobahn also names the method that sent each frame (for a debug-log call that
    is thrown away with debug logging off) through `inspect`, about 7% of a fan-out;
    the entry point gives it a plain name instead."""
    importlib.import_module("hub.asgi")
    from autobahn.websocket import protocol

    name = protocol.hltype(protocol.WebSocketProtocol.sendData)
    assert name == "<WebSocketProtocol.sendData>"
