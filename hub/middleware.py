from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """A signed-in user sees the hub in their own language and time zone, whatever
    their browser says (a Norwegian agent on a borrowed laptop)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self._respond(request)
        language = user.language if user.language in self.languages else None
        if language:
            request.LANGUAGE_CODE = language
        try:
            zone: zoneinfo.ZoneInfo | None = zoneinfo.ZoneInfo(user.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        # Overrides, not activate(): the thread serves other requests next (webhooks
        # with no user among them), which must not inherit this user's settings.
        with (
            translation.override(language or translation.get_language()),
            timezone.override(zone),
        ):
            return self._respond(request)

    def _respond(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "en")
        return response
