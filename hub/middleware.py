from __future__ import annotations

import zoneinfo
from collections.abc import Callable
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
        self._activate(request, getattr(request, "user", None))
        return self._finish(self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        auser = getattr(request, "auser", None)
        self._activate(request, await auser() if auser is not None else None)
        return self._finish(await self.get_response(request))

    def _activate(self, request: HttpRequest, user: Any) -> None:
        if user is None or not user.is_authenticated:
            return
        if user.language in self.languages:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        try:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()

    def _finish(self, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Language", translation.get_language() or "en")
        return response
