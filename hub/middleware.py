from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """A signed-in user sees the hub in their own language and time zone, whatever
    their browser says (a Norwegian agent on a borrowed laptop).

    Sync and async: a sync-only middleware in Daphne's async chain costs every
    request two extra thread hops (into a worker thread for it, back to the event
    loop for the rest of the chain); the webhooks and the API are latency-bound."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        with self._preferences(request, getattr(request, "user", None)):
            return self._finish(self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        auser = getattr(request, "auser", None)
        with self._preferences(request, await auser() if auser is not None else None):
            return self._finish(await self.get_response(request))

    @contextmanager
    def _preferences(self, request: HttpRequest, user: Any) -> Iterator[None]:
        """The user's language and time zone for this request only: overrides, not
        activate(), because the thread or task serves other requests next (webhooks
        with no user among them), which must not inherit them."""
        if user is None or not user.is_authenticated:
            yield
            return
        language = user.language if user.language in self.languages else None
        if language:
            request.LANGUAGE_CODE = language
        try:
            zone: zoneinfo.ZoneInfo | None = zoneinfo.ZoneInfo(user.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        with (
            translation.override(language or translation.get_language()),
            timezone.override(zone),
        ):
            yield

    def _finish(self, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Language", translation.get_language() or "en")
        return response
