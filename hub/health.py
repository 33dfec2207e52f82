"""GET /healthz: is every part this process depends on answering?

Apps above the core register their own checks (the search index registers
"search"), so the core does not import them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, Any]]
_checks: dict[str, HealthCheck] = {}


def register_check(name: str, check: HealthCheck) -> None:
    _checks[name] = check


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "backend": connection.vendor}


def check_channel_layer() -> dict[str, Any]:
    """A message round trip through the layer, so a dead Redis shows here."""
    layer = get_channel_layer()

    async def round_trip() -> None:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "healthz.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=2)

    async_to_sync(round_trip)()
    return {"status": "ok", "backend": type(layer).__name__}


register_check("database", check_database)
register_check("channel_layer", check_channel_layer)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body: dict[str, Any] = {"status": "ok"}
    for name, check in _checks.items():
        started = time.perf_counter()
        try:
            result = check()
        except Exception as error:  # a health check reports every failure, whatever it is
            logger.warning("health check %s failed: %s", name, error)
            result = {"status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
            body["status"] = "error"
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        body[name] = result
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
